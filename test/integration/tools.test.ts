/**
 * Device tools end to end, on both backends: the emulator's agent calls a tool, the
 * daemon acts (the software volume changes what the card plays, measurably), the
 * answer goes back, and bad calls get error answers while the conversation goes on.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { daemonPlayback, startDevice, type Device } from "../support/device";
import { until } from "../support/daemon-process";
import fs from "node:fs";
import path from "node:path";
import { volumeCommand } from "../../src/cli/volume";
import { speechLoop } from "../support/speech";
import type { ToolOutputRecord } from "../../src/emulator/shared/records";

type Backend = "coze" | "realtime";

function rms(pcm: Buffer): number {
  let sum = 0;
  const n = Math.floor(pcm.length / 2);
  for (let i = 0; i < n; i++) sum += pcm.readInt16LE(i * 2) ** 2;
  return Math.sqrt(sum / n);
}

async function device(backend: Backend): Promise<Device> {
  return startDevice({ rig: { micPcm: speechLoop(30) }, ...(backend === "realtime" ? { realtime: { flavour: "volcengine" as const } } : {}) });
}

/** One push-to-talk turn; resolves once the device is idle again, with the agent's reply audio. */
async function turn(dev: Device, backend: Backend): Promise<Buffer> {
  const from = dev.daemon.logs.length;
  const reply =
    backend === "coze"
      ? dev.nextTurn().then((t) => t.reply)
      : new Promise<Buffer>((resolve) => {
          const on = (r: { status: string; audio: Buffer; toolCalls: unknown[] }): void => {
            if (r.status !== "completed" || r.toolCalls.length > 0) return;
            dev.emulator.events.off("realtime-response", on);
            resolve(r.audio);
          };
          dev.emulator.events.on("realtime-response", on);
        });
  await dev.press();
  await dev.appends(40);
  await dev.release();
  const audio = await reply;
  await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findIndex((l, i) => i >= from && l.msg === "state speaking"));
  return audio;
}

function outputs(dev: Device, n: number): Promise<ToolOutputRecord[]> {
  return until(() => dev.emulator.toolOutputs().length >= n && dev.emulator.toolOutputs(), `${n} tool outputs`, 15_000);
}

for (const backend of ["coze", "realtime"] as const) {
  describe(`device tools over ${backend}`, { timeout: 120_000 }, () => {
    test("set_volume: the agent asks, the speaker gets quieter by the curve, the result goes back", async (t) => {
      const dev = await device(backend);
      try {
        dev.emulator.scriptToolCall({ name: "set_volume", arguments: '{"percent":50}' });
        await turn(dev, backend);
        const [out] = await outputs(dev, 1);
        assert.equal(out!.name, "set_volume");
        assert.deepEqual(JSON.parse(out!.output), { percent: 50 });
        // The turn after the change plays at the new volume.
        const second = await turn(dev, backend);
        const status = await dev.status();
        assert.equal(status.State, "idle");
        assert.equal(await dev.stopDaemon(), 0);
        const played = daemonPlayback(dev.rig).bytes;
        const heard = played.subarray(played.length - second.length);
        const ratio = rms(heard) / rms(second);
        // Software volume: gain = (percent/100)^3, so 50 % is 0.125 (−18 dB).
        t.diagnostic(`${backend}: level at 50 %: ${(20 * Math.log10(ratio)).toFixed(2)} dB (expected −18.06 dB)`);
        assert.ok(Math.abs(ratio - 0.125) < 0.005, `played at ${ratio.toFixed(4)} of the reply's level`);
      } finally {
        await dev.stop().catch(() => {});
      }
    });

    test("bad arguments and an unknown tool get error answers; the reply still plays and the volume stays", async () => {
      const dev = await device(backend);
      try {
        dev.emulator.scriptToolCall({ name: "set_volume", arguments: "{oops" });
        dev.emulator.scriptToolCall({ name: "set_volume", arguments: '{"percent":150}' });
        dev.emulator.scriptToolCall({ name: "launch_rocket", arguments: "{}" });
        const reply = await turn(dev, backend);
        const outs = await outputs(dev, 3);
        const errors = outs.map((o) => JSON.parse(o.output) as { error?: string });
        assert.match(errors[0]!.error ?? "", /JSON/i);
        assert.match(errors[1]!.error ?? "", /percent/);
        assert.match(errors[2]!.error ?? "", /unknown tool 'launch_rocket'.*set_volume/);
        dev.emulator.scriptToolCall({ name: "get_volume", arguments: "{}" });
        await turn(dev, backend);
        const [, , , vol] = await outputs(dev, 4);
        assert.deepEqual(JSON.parse(vol!.output), { percent: 100 });
        assert.equal(await dev.stopDaemon(), 0);
        const played = daemonPlayback(dev.rig).bytes;
        assert.ok(played.subarray(0, reply.length).equals(reply), "the first reply played unchanged after the failed calls");
      } finally {
        await dev.stop().catch(() => {});
      }
    });
  });
}

describe("the volume from the command line", { timeout: 120_000 }, () => {
  test("talkbox volume changes what the card plays, and the level is saved for the next start", async () => {
    const dev = await device("coze");
    try {
      const lines: string[] = [];
      assert.equal(await volumeCommand({ socket: dev.socket, value: "70", out: (l) => lines.push(l) }), 0);
      assert.equal(await volumeCommand({ socket: dev.socket, value: "-20", out: (l) => lines.push(l) }), 0);
      assert.deepEqual(lines, ["volume: 70 %", "volume: 50 %"]);
      const errors: string[] = [];
      assert.equal(await volumeCommand({ socket: dev.socket, value: "150", err: (l) => errors.push(l) }), 2);
      assert.match(errors[0]!, /0 to 100/);
      assert.equal((await dev.status()).Volume, 50);
      const reply = await turn(dev, "coze");
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      const ratio = rms(played.subarray(played.length - reply.length)) / rms(reply);
      assert.ok(Math.abs(ratio - 0.125) < 0.005, `played at ${ratio.toFixed(4)} of the reply's level`);
      const saved = JSON.parse(fs.readFileSync(path.join(dev.rig.dir, "state", "state.json"), "utf8")) as Record<string, unknown>;
      assert.equal(saved["volume.percent"], 50);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
