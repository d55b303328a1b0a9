/**
 * The tool bridge: an agent's tool call runs on the device and its answer goes back under
 * the same call id. Every call gets an answer, an error with tools turned off, so a chat
 * never waits for one forever.
 */
import type { AgentBackend } from "../agent/backend";
import type { ToolExecutor } from "../core/tool-spec";
import type { Logger } from "../log/logger";

export const TOOLS_OFF = JSON.stringify({ error: "this device has its tools turned off (tools.enabled: false)" });

export class ToolBridge {
  constructor(private readonly o: { tools: ToolExecutor | undefined; backend: Pick<AgentBackend, "submitToolOutputs">; log: Logger }) {}

  async call(callId: string, name: string, args: string): Promise<void> {
    const { tools, backend, log } = this.o;
    const output = tools ? await tools.run(name, args) : TOOLS_OFF;
    if (!backend.submitToolOutputs([{ callId, output }])) log.warn(`could not send the result of tool ${name} to the agent: the link is down`);
  }
}
