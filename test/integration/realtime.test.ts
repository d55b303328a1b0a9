/**
 * The Realtime backend on real parts: the compiled daemon on the ALSA rig against the
 * emulator's /v1/realtime (Volcengine gateway and OpenAI flavours).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { daemonPlayback, startDevice, type Device } from "../support/device";
import { until } from "../support/daemon-process";
import type { RealtimeResponseRecord, RealtimeSessionView } from "../../src/emulator/realtime/records";
import { SPEECH_16K, silence, speechLoop } from "../support/speech";

/** The rig's speaker runs at 16 kHz mono S16. */
const BYTES_PER_MS = 32;

function session(dev: Device, i = 0): RealtimeSessionView {
  const s = dev.emulator.realtimeSessions()[i];
  assert.ok(s, `no realtime session ${i}`);
  return s;
}

function sentTypes(s: RealtimeSessionView): string[] {
  return s.received.map((r) => r.type ?? "?").filter((t) => t !== "input_audio_buffer.append");
}

/** The next response that ends (completed or cancelled) on any session. */
function nextResponse(dev: Device, pred: (r: RealtimeResponseRecord) => boolean = () => true): Promise<RealtimeResponseRecord> {
  return new Promise((resolve) => {
    const on = (r: RealtimeResponseRecord): void => {
      if (r.status === "in_progress" || !pred(r)) return;
      dev.emulator.events.off("realtime-response", on);
      resolve(r);
    };
    dev.emulator.events.on("realtime-response", on);
  });
}

async function talk(dev: Device, appends: number): Promise<void> {
  assert.equal((await dev.press()).State, "listening");
  await dev.appends(appends);
  await dev.release();
}

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

  test("a press too short to be a question is never committed; the device says so and is idle at once", async () => {
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, rig: { micPcm: speechLoop(20) } });
    try {
      await dev.press();
      await dev.appends(2);
      await dev.release();
      await dev.daemon.waitForLog((l) => typeof l.msg === "string" && /too short|press/i.test(l.msg) && l.level >= 30 && l.msg !== "state listening", 5000);
      await dev.daemon.waitForState("idle", 5000);
      const s = session(dev);
      assert.equal(s.commits.length, 0);
      assert.ok(!sentTypes(s).includes("input_audio_buffer.commit"), "an empty commit went out");
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
      await until(() => daemonPlayback(dev.rig).bytes.length > 700 * BYTES_PER_MS, "0.7 s of the reply at the speaker");
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

  test("gateway idle close: with keepalive the session never idles out; without it, the link is back before the next press", async (t) => {
    const idleCloseMs = 1500;
    const kept = await startDevice({ realtime: { flavour: "volcengine" }, emulator: { idleCloseMs }, config: { agent: { keepalive_ms: 500 } } });
    try {
      const s = session(kept);
      // Three idle windows go by: the keepalive holds the same session open.
      await until(() => s.received.filter((r) => r.type === "input_audio_buffer.clear").length >= 6 && s, "six keepalives", 10_000);
      assert.equal(s.idleClosedAtNs, null);
      assert.equal(kept.emulator.realtimeSessions().length, 1);
    } finally {
      await kept.stop();
    }

    const dev = await startDevice({ realtime: { flavour: "volcengine" }, rig: { micPcm: speechLoop(30) }, emulator: { idleCloseMs }, config: { agent: { keepalive_ms: 0 } } });
    try {
      const closedAt = await until(() => session(dev).idleClosedAtNs, "the idle close", 5000);
      const s1 = await until(() => dev.emulator.realtimeSessions()[1], "the reconnect", 5000);
      await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 5000, dev.daemon.logs.findIndex((l) => l.msg === "agent link ready") + 1);
      const configured = s1.received.find((r) => r.type === "session.update")!.atNs;
      const recoveryMs = Number(configured - closedAt!) / 1e6;
      t.diagnostic(`idle close → new session configured: ${recoveryMs.toFixed(1)} ms`);
      const done = nextResponse(dev);
      await talk(dev, 30);
      assert.equal((await done).status, "completed");
      assert.ok(s1.commits.length === 1, "the next press went over the new session");
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("a press at the very moment the gateway closes the idle session is held and answered", async (t) => {
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, rig: { micPcm: speechLoop(30) }, emulator: { idleCloseMs: 1500 }, config: { agent: { keepalive_ms: 0 } } });
    try {
      const closed = new Promise<void>((resolve) => dev.emulator.events.once("realtime-close", () => resolve()));
      await closed;
      const pressedAt = process.hrtime.bigint();
      const answer = await dev.press();
      t.diagnostic(`state at the press: ${String(answer.State)}`);
      assert.equal(answer.State, "listening", "the press is taken even though the link is coming back");
      const done = nextResponse(dev);
      await until(() => dev.emulator.realtimeSessions()[1], "the reconnect", 5000);
      await dev.appends(30);
      await dev.release();
      const r = await done;
      assert.equal(r.status, "completed");
      const c = dev.emulator.realtimeSessions()[1]!.commits[0]!;
      const captured = Number(process.hrtime.bigint() - pressedAt) / 1e6;
      assert.ok(c.ms >= 30 * 20, `the held turn carried ${c.ms} ms`);
      t.diagnostic(`held turn: ${c.ms} ms of audio, press → answer ${captured.toFixed(0)} ms`);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("Coze bot behind the gateway: the session id comes back as X-Conversation-Id after a drop", async () => {
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, config: { agent: { coze_bot_id: "7400000000000000001" } } });
    try {
      const s0 = session(dev);
      assert.equal(s0.cozeBotId, "7400000000000000001");
      assert.equal(s0.resumed, false);
      dev.emulator.dropAll();
      const s1 = await until(() => dev.emulator.realtimeSessions()[1], "the reconnect", 5000);
      assert.equal(s1.headers["x-conversation-id"], s0.sessionId);
      assert.equal(s1.resumed, true);
      assert.equal(s1.sessionId, s0.sessionId, "the conversation continues");
    } finally {
      await dev.stop();
    }
  });

  test("gateway free conversation: the device's VAD sends only the user's turns and commits them", async () => {
    // 1 s quiet, an utterance, then quiet: one turn, committed by the device.
    const micPcm = Buffer.concat([silence(16000, 1), SPEECH_16K, silence(16000, 30)]);
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, rig: { micPcm }, config: { conversation: { mode: "free" } }, ready: "listening" });
    try {
      const reply = await nextResponse(dev);
      assert.equal(reply.status, "completed");
      const s = session(dev);
      assert.equal(s.commits.length, 1);
      const c = s.commits[0]!;
      assert.equal(c.by, "client");
      assert.ok(c.audio.length >= SPEECH_16K.length * 0.9, `the turn carried ${c.ms} ms of a ${SPEECH_16K.length / BYTES_PER_MS} ms utterance`);
      // Only the turn went out: padding + speech + the silence window, not the quiet around it.
      const appended = s.received.filter((r) => r.type === "input_audio_buffer.append").length;
      assert.ok(appended * 20 <= c.ms + 100, `${appended} appends for a ${c.ms} ms turn`);
      await dev.daemon.waitForLog((l) => l.msg === "state listening" && l.from === "speaking", 15_000);
      assert.equal(s.commits.length, 1, "the agent's own reply did not become a turn (echo gate)");
      assert.equal(session(dev).errors.length, 0);
    } finally {
      await dev.stop();
    }
  });
});
