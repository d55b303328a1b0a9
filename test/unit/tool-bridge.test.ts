/** The tool bridge alone: every call is answered under its id, with tools on or off. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TOOLS_OFF, ToolBridge } from "../../src/device/tool-bridge";
import { createLogger } from "../../src/log/logger";

function rig(tools: { run(name: string, args: string): Promise<string> } | undefined, linkUp = true) {
  const outputs: Array<{ callId: string; output: string }> = [];
  const warned: string[] = [];
  const log = createLogger({ format: "json", level: "warn", destination: { write: (s: string) => void warned.push((JSON.parse(s) as { msg: string }).msg) } });
  const bridge = new ToolBridge({ tools, backend: { submitToolOutputs: (o) => (outputs.push(...o), linkUp) }, log });
  return { bridge, outputs, warned };
}

test("a call runs on the device and its answer goes back under the same id", async () => {
  const { bridge, outputs } = rig({ run: async (name, args) => JSON.stringify({ name, args }) });
  await bridge.call("c1", "get_volume", "{}");
  assert.deepEqual(outputs, [{ callId: "c1", output: '{"name":"get_volume","args":"{}"}' }]);
});

test("with tools off every call is answered with an error, never left waiting", async () => {
  const { bridge, outputs } = rig(undefined);
  await bridge.call("c2", "set_volume", '{"percent":10}');
  assert.deepEqual(outputs, [{ callId: "c2", output: TOOLS_OFF }]);
});

test("an answer the link cannot take is logged with the tool's name", async () => {
  const { bridge, warned } = rig({ run: async () => "{}" }, false);
  await bridge.call("c3", "set_output", "{}");
  assert.deepEqual(warned, ["could not send the result of tool set_output to the agent: the link is down"]);
});
