/**
 * The Realtime backend on real parts: the compiled daemon on the ALSA rig against the
 * emulator's /v1/realtime (Volcengine gateway and OpenAI flavours): turns and barge-in.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { daemonPlayback, startDevice } from "../support/device";
import { until } from "../support/daemon-process";
import { speechLoop } from "../support/speech";
import { BYTES_PER_MS, nextResponse, session, sentTypes, talk } from "../support/realtime";

describe("Realtime backend on the ALSA rig", { timeout: 300_000 }, () => {
  test("gateway push-to-talk: session.update first, the mic's audio, commit + response.create, the reply played exactly", async () => {
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, rig: { micPcm: speechLoop(20) } });
    try {
      const done = nextResponse(dev);
      await talk(dev, 60);
      const reply = await done;
      assert.equal(reply.status, "completed");
      const s = session(dev);
      assert.equal(s.flavour, "volcengine");
      const types = sentTypes(s);
      assert.equal(types[0], "session.update", "session.update is the first message");
      assert.equal(types.filter((t) => t === "session.update").length, 1, "and the only one");
      const commit = types.indexOf("input_audio_buffer.commit");
      assert.ok(commit > 0 && types[commit + 1] === "response.create", `commit then response.create: ${types.join(", ")}`);
      const c = s.commits[0]!;
      assert.equal(c.by, "client");
      assert.ok(c.ms >= 60 * 20, `the turn carried ${c.ms} ms`);
      assert.ok(dev.rig.micInput.indexOf(c.audio.subarray(0, 640)) >= 0, "the turn is the mic's audio");
      assert.ok(reply.audio.equals(c.audio), "the echo agent answers with what it heard");
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.findIndex((l) => l.msg === "state speaking"));
      assert.equal(await dev.stopDaemon(), 0);
      assert.ok(daemonPlayback(dev.rig).bytes.equals(reply.audio), "the speaker did not play exactly the reply");
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("a press too short to be a question never reaches the gateway and is never committed; the device says so and is idle at once", async () => {
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, rig: { micPcm: speechLoop(20) } });
    try {
      // Released at once: a capture period or two of audio, under the 100 ms a question needs.
      await dev.press();
      await dev.release();
      await dev.daemon.waitForLog((l) => typeof l.msg === "string" && /too short|press/i.test(l.msg) && l.level >= 30 && l.msg !== "state listening", 5000);
      await dev.daemon.waitForState("idle", 5000);
      const s = session(dev);
      assert.equal(s.commits.length, 0);
      assert.ok(!sentTypes(s).includes("input_audio_buffer.commit"), "an empty commit went out");
      // Seed 001 has no input_audio_buffer.clear: what could not be taken back was never sent.
      assert.deepEqual(sentTypes(s).filter((t) => t === "input_audio_buffer.append" || t === "input_audio_buffer.clear"), []);
      assert.equal(s.errors.length, 0, `the server reported: ${s.errors.map((e) => e.code).join(", ")}`);
      // The next real turn works.
      const done = nextResponse(dev);
      await talk(dev, 30);
      assert.equal((await done).status, "completed");
    } finally {
      await dev.stop();
    }
  });

  test("OpenAI barge-in: a press cancels the reply, flushes it, and truncates it at the milliseconds actually heard", async (t) => {
    const dev = await startDevice({
      realtime: { flavour: "openai" },
      rig: { micPcm: speechLoop(20) },
      emulator: { realtimePacing: "realtime" },
      // OpenAI takes pcm16 at 24 kHz; the rig's card runs at 16 kHz, so both ways are resampled.
      config: { audio: { uplink_rate: 24000, downlink_rate: 24000 } },
    });
    try {
      const first = nextResponse(dev);
      await talk(dev, 100);
      await dev.daemon.waitForState("speaking");
      // Early in the reply, while the server still sends it: the emulator echoes the speech it
      // heard (750 ms in a run where this waited for 700 ms), and on a loaded machine the press
      // came after all of it was sent, so the truncate (capped at what was received) cut nothing.
      await until(() => daemonPlayback(dev.rig).bytes.length > 200 * BYTES_PER_MS, "0.2 s of the reply at the speaker");
      assert.equal((await dev.press()).State, "listening");
      const r1 = await first;
      assert.equal(r1.status, "cancelled");
      assert.equal(r1.cancelReason, "client_cancelled");
      const truncate = await until(() => dev.emulator.realtimeResponses().find((r) => r.id === r1.id)?.truncate, "conversation.item.truncate");
      await dev.appends(25);
      const second = nextResponse(dev);
      const from = dev.daemon.logs.length;
      await dev.release();
      const r2 = await second;
      assert.equal(r2.status, "completed");
      await dev.daemon.waitForState("idle", 15_000, from);
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes.length;
      const r2Ms = r2.audioMs;
      const heardMs = played / BYTES_PER_MS - r2Ms;
      const truncatedMs = truncate!.audioEndMs;
      assert.equal(truncate!.itemId, r1.itemId);
      t.diagnostic(`truncate audio_end_ms ${truncatedMs}, heard at the card ${heardMs.toFixed(0)} ms of ${r1.audioMs} ms sent`);
      // The estimate is the time since the first sample came out, capped by the audio received;
      // the card's queue (≤ 60 ms) and scheduling make the difference.
      assert.ok(Math.abs(truncatedMs - heardMs) <= 80, `truncated at ${truncatedMs} ms, but ${heardMs.toFixed(0)} ms were heard`);
      assert.ok(truncatedMs < r1.audioMs, "the truncate must cut the reply");
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
