/**
 * Earcons on the whole device: the compiled daemon on the rig's clock-driven card, the shipped
 * WAV files, the emulator. They sound at the press and the release, and never touch the reply:
 * it plays whole after them, its heard time (what a barge-in truncates to) counts from its own
 * first sample, and the device rests when the reply has played, not when a beep has.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { daemonPlayback, startDevice } from "../support/device";
import { until } from "../support/daemon-process";
import { parseWav } from "../../src/audio/wav";
import { builtinSoundsDir } from "../../src/app/earcon-files";

const BYTES_PER_MS = 32;
const ON = { earcons: { listen_start: "builtin", listen_stop: "builtin", error: "builtin" } };
const sound = (name: string): Buffer => parseWav(fs.readFileSync(path.join(builtinSoundsDir(), name))).pcm;

describe("earcons on the ALSA rig", { timeout: 60_000 }, () => {
  test("push-to-talk: the start sound at the press, the stop sound at the release, then exactly the reply; the device rests after it", async () => {
    const dev = await startDevice({ config: ON, emulator: { replyDelayMs: 300 } });
    try {
      const start = sound("listen-start.wav");
      const stop = sound("listen-stop.wav");
      assert.equal((await dev.press()).State, "listening");
      await until(() => daemonPlayback(dev.rig).bytes.length >= start.length, "the start sound at the card");
      await dev.appends(60);
      const done = dev.nextTurn();
      await dev.release();
      const turn = await done;
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.findIndex((l) => l.msg === "state speaking"));
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      // The sounds' own samples, whole (the reply waited 300 ms: the stop sound had played), then the reply, whole.
      assert.ok(played.subarray(0, start.length).equals(start), "the start sound is not what played first");
      const stopAt = played.indexOf(stop.subarray(0, 64), start.length);
      assert.ok(stopAt >= start.length, "the stop sound did not play");
      assert.ok(played.subarray(stopAt, stopAt + stop.length).equals(stop), "the stop sound was not played whole");
      assert.ok(played.subarray(played.length - turn.reply.length).equals(turn.reply), "the reply did not play whole, last");
      // Between the sounds and the reply: the files' resampling tails of silence, nothing else.
      const between = played.subarray(stopAt + stop.length, played.length - turn.reply.length);
      assert.ok(between.every((b) => b === 0) && between.length <= 2 * 20 * BYTES_PER_MS, `${between.length} bytes between the stop sound and the reply`);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("a reply that comes while the stop sound plays cuts it; a barge-in truncates the reply to what was heard of the reply, not of the sound", async () => {
    const dev = await startDevice({
      realtime: { flavour: "openai" },
      emulator: { realtimePacing: "realtime", replyDelayMs: 40 },
      config: { ...ON, audio: { uplink_rate: 24000, downlink_rate: 24000 } },
    });
    try {
      await dev.press();
      await dev.appends(100);
      const releasedAt = process.hrtime.bigint();
      await dev.release();
      await dev.daemon.waitForState("speaking");
      await until(() => daemonPlayback(dev.rig).chunks.filter(([ns]) => ns >= releasedAt).reduce((n, [, , len]) => n + len, 0) > 1200 * BYTES_PER_MS, "1.2 s at the card since the release");
      const truncated = new Promise<Record<string, unknown>>((resolve) => {
        const on = (_i: number, rec: { type: string | null; event: Record<string, unknown> | null }): void => {
          if (rec.type !== "conversation.item.truncate") return;
          dev.emulator.events.off("realtime-client-event", on);
          resolve(rec.event!);
        };
        dev.emulator.events.on("realtime-client-event", on);
      });
      const pressedAt = process.hrtime.bigint();
      await dev.press();
      const truncate = await truncated;
      const sinceRelease = daemonPlayback(dev.rig).chunks.filter(([ns]) => ns >= releasedAt && ns <= pressedAt).reduce((n, [, , len]) => n + len, 0) / BYTES_PER_MS;
      const end = Number(truncate.audio_end_ms);
      // The reply came 40 ms into the 150 ms stop sound and cut it: what played since the release is
      // a little of the sound and then the reply. Counted from the sound, the reply would be ~100 ms
      // longer than it was; counted from nothing (a start taken for the sound's), 0.
      assert.ok(end <= sinceRelease + 30, `truncated at ${end} ms; only ${sinceRelease.toFixed(0)} ms played since the release`);
      assert.ok(end >= sinceRelease - 150, `truncated at ${end} ms; ${sinceRelease.toFixed(0)} ms played since the release, at most ~60 ms of it the stop sound`);
      await dev.release();
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
