/**
 * The Realtime backend's link on real parts: the gateway's idle close (with and without
 * keepalive), a press at the moment of the close, the Coze-bot conversation resuming
 * after a drop, and free conversation decided by the device's own VAD.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDevice } from "../support/device";
import { until } from "../support/daemon-process";
import { SPEECH_16K, silence, speechLoop } from "../support/speech";
import { BYTES_PER_MS, nextResponse, session, talk } from "../support/realtime";

describe("Realtime link on the ALSA rig", { timeout: 300_000 }, () => {
  test("gateway idle close: no undocumented keepalive is sent; the gateway closes the idle session and the link is back before the next press", async (t) => {
    const idleCloseMs = 1500;
    // keepalive_ms is OpenAI's: the gateway documents no harmless message, so none goes out even when set.
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, rig: { micPcm: speechLoop(30) }, emulator: { idleCloseMs }, config: { agent: { keepalive_ms: 500 } } });
    try {
      const closedAt = await until(() => session(dev).idleClosedAtNs, "the idle close", 5000);
      assert.deepEqual(session(dev).received.filter((r) => r.type !== "session.update").map((r) => r.type), [], "nothing but session.update before the idle close");
      const s1 = await until(() => dev.emulator.realtimeSessions()[1], "the reconnect", 5000);
      await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 5000, dev.daemon.logs.findIndex((l) => l.msg === "agent link ready") + 1);
      const configured = s1.received.find((r) => r.type === "session.update")!.atNs;
      const recoveryMs = Number(configured - closedAt!) / 1e6;
      t.diagnostic(`idle close → new session configured: ${recoveryMs.toFixed(1)} ms`);
      const done = nextResponse(dev);
      await talk(dev, 30);
      assert.equal((await done).status, "completed");
      assert.ok(s1.commits.length === 1, "the next press went over the new session");
      // That the close is quiet (no warning, no back-off) is for the unit test on a fake clock: it
      // takes 120 s of real silence to be recognised, and this emulator closes after 1.5 s.
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
