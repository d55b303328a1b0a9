/**
 * Free conversation on the rig: the emulator's server VAD hears the mic; speech
 * during a reply interrupts it; the echo gate keeps the agent from hearing itself
 * through a speaker → mic loop.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TurnRecord } from "../../src/emulator/server";
import fs from "node:fs";
import path from "node:path";
import { daemonPlayback, startDevice } from "../support/device";
import { parseRigLog } from "../rig/rig";
import { SPEECH_16K, silence } from "../support/speech";

const free = (echo: "gate" | "none") => ({
  conversation: { mode: "free" },
  audio: { echo },
});

function xrunOffsets(rig: Awaited<ReturnType<typeof startDevice>>["rig"]): number[] {
  const log = parseRigLog(fs.readFileSync(path.join(rig.dir, "spk.log"), "utf8"));
  return log.xruns.map((t) => log.chunks.find(([at]) => at >= t)?.[1] ?? -1);
}

function turns(dev: Awaited<ReturnType<typeof startDevice>>, n: number): Promise<TurnRecord[]> {
  const got: TurnRecord[] = [];
  return new Promise((resolve) => {
    const on = (t: TurnRecord): void => {
      got.push(t);
      if (got.length < n) return;
      dev.emulator.events.off("turn", on);
      resolve(got);
    };
    dev.emulator.events.on("turn", on);
  });
}

describe("free conversation on the ALSA rig", { timeout: 60_000 }, () => {
  test("speech → speech_started/stopped → a reply; speech over the reply stops playback within one period", async (t) => {
    // 1 s quiet, an utterance, 1.5 s quiet (the reply starts), a second utterance over the reply.
    const micPcm = Buffer.concat([silence(16000, 1), SPEECH_16K, silence(16000, 1.5), SPEECH_16K, silence(16000, 30)]);
    const dev = await startDevice({ rig: { micPcm }, config: free("none"), ready: "listening" });
    try {
      const [first, second] = await turns(dev, 2);
      const vad = dev.emulator.sessions()[0]!.vadEvents;
      assert.deepEqual(vad.slice(0, 4).map((e) => e.type), ["speech_started", "speech_stopped", "speech_started", "speech_stopped"]);
      assert.ok(first!.audio.length >= SPEECH_16K.length * 0.9, "the first utterance reached the agent");
      assert.ok(second!.audio.length >= SPEECH_16K.length * 0.9, "the second utterance reached the agent");
      await dev.daemon.waitForLog((l) => l.msg === "state listening" && l.from === "speaking", 20_000, dev.daemon.logs.findLastIndex((l) => l.msg === "state speaking"));
      assert.equal(await dev.stopDaemon(), 0);

      const { bytes, chunks } = daemonPlayback(dev.rig);
      // The second reply played in full, at the end; before it, the beginning of the first,
      // cut where the user spoke again. (Both start with silence, so the split is found
      // from the end, not by matching the first reply's prefix.)
      const heard = bytes.length - second!.reply.length;
      assert.ok(heard >= 0 && bytes.subarray(heard).equals(second!.reply), `the second reply did not play in full (${xrunOffsets(dev.rig).length} card xruns)`);
      assert.ok(bytes.subarray(0, heard).equals(first!.reply.subarray(0, heard)), "what played of the first reply is not its beginning");
      assert.ok(heard > 16_000 && heard < first!.reply.length, `played ${heard} of ${first!.reply.length} bytes of the first reply`);
      const interruptedAt = vad[2]!.atNs;
      const lastOfFirst = chunks.filter(([, off]) => off < heard).at(-1)!;
      const lastByteAt = lastOfFirst[0] + BigInt(Math.round(((heard - lastOfFirst[1]) / 32) * 1e6));
      const afterMs = Number(lastByteAt - interruptedAt) / 1e6;
      t.diagnostic(`the first reply stopped ${afterMs.toFixed(1)} ms after the agent heard the user speak over it`);
      // One period of the playback thread (40 ms) plus the link's delivery; the speaker's
      // own ALSA period (125 ms) is the bound the device must meet.
      assert.ok(afterMs < 125, `${afterMs.toFixed(1)} ms of the reply played on`);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  for (const echo of ["gate", "none"] as const) {
    test(`speaker looped into the mic, echo ${echo}: ${echo === "gate" ? "the agent never hears itself" : "the agent hears itself and cuts itself off (why the gate exists)"}`, async () => {
      const micPcm = Buffer.concat([silence(16000, 1), SPEECH_16K, silence(16000, 40)]);
      const dev = await startDevice({ rig: { micPcm, loopback: true }, config: free(echo), ready: "listening" });
      try {
        const [first] = await turns(dev, 1);
        if (echo === "gate") {
          assert.equal(first!.canceled, false, "the reply was interrupted by its own echo");
          // The reply has played and the gate's tail has passed; listen on for another 2 s.
          await dev.daemon.waitForLog((l) => l.msg === "state listening" && l.from === "speaking", 20_000);
          const after = dev.emulator.sessions()[0]!.received.length;
          await dev.appends(100);
          assert.ok(dev.emulator.sessions()[0]!.received.length >= after + 100);
          const vad = dev.emulator.sessions()[0]!.vadEvents.filter((e) => e.type === "speech_started");
          assert.equal(vad.length, 1, "only the user's utterance started speech");
          assert.equal(dev.emulator.turns().length, 1, "no turn was started by the agent's own voice");
        } else {
          assert.equal(first!.canceled, true, "without the gate the looped reply interrupts itself");
          assert.equal(first!.canceledBy, "user_speech");
        }
      } finally {
        await dev.stop().catch(() => {});
      }
    });
  }
});
