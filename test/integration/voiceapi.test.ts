/**
 * The voice API backend (seed 002) on the whole device: the compiled daemon on the rig's
 * clock-driven card, the emulator's v1 and v2 endpoints over a loopback WebSocket, push-to-talk
 * over the control socket. The emulator's recognition ends a turn on 500 ms of silence; the
 * device ends one with agent.voiceapi.end_silence_ms (800) of silence after the release.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { daemonPlayback, startDevice, type Device } from "../support/device";
import { speechLoop, toDevice } from "../support/speech";
import type { VoiceApiTurnRecord } from "../../src/emulator/voiceapi/session";

/** Resolves once the emulator has had `n` more audio messages. */
function audioMessages(dev: Device, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const on = (_i: number, rec: { kinds: (string | null)[] }): void => {
      if (!rec.kinds.some((k) => k === "binary" || k === "user_session_audio") || ++seen < n) return;
      dev.emulator.events.off("voiceapi-message", on);
      resolve();
    };
    dev.emulator.events.on("voiceapi-message", on);
  });
}

async function turn(dev: Device, frames: number): Promise<VoiceApiTurnRecord> {
  assert.equal((await dev.press()).State, "listening");
  await audioMessages(dev, frames);
  const answered = once(dev.emulator.events, "voiceapi-turn") as Promise<[VoiceApiTurnRecord]>;
  assert.equal((await dev.release()).State, "thinking");
  const [record] = await answered;
  await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findIndex((l) => l.msg === "state speaking"));
  return record;
}

describe("the voice API backend on the ALSA rig", { timeout: 90_000 }, () => {
  test("v2: a push-to-talk turn goes to the user's own session; the bot's answer plays whole; the link sends its close on shutdown", async () => {
    const dev = await startDevice({ voiceapi: { version: "v2" }, rig: { micPcm: speechLoop(60) } });
    try {
      const session = dev.emulator.voiceApiSessions()[0]!;
      assert.deepEqual(session.openFrame, { kind: "open", api_key: "test-token-1234", overrides: { stt: { sample_rate: 16000 }, tts: { sample_rate: 16000 } } });
      const record = await turn(dev, 75);
      assert.equal(record.userId, "talkbox");
      assert.deepEqual(session.users, ["talkbox"]);
      assert.ok(record.audio && record.audio.length > 16000 * 2, "the utterance is shorter than a second");
      assert.deepEqual(session.errors, []);
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      assert.ok(played.equals(record.reply), `the speaker played ${played.length} bytes, the bot answered ${record.reply.length}`);
      const kinds = session.received.flatMap((r) => r.kinds);
      assert.deepEqual(kinds.slice(-2), ["user_session_end", "close"]);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("v1 at overridden rates (STT 8 kHz, TTS 24 kHz): the mic goes byte for byte at 8 kHz, the answer plays byte for byte at 24 kHz", async () => {
    const micPcm = await toDevice(speechLoop(60), { sampleRate: 8000, channels: 1 });
    const dev = await startDevice({
      voiceapi: { version: "v1", stt_rate: 8000, tts_rate: 24000 },
      mic: { rate: 8000 },
      spk: { rate: 24000 },
      rig: { micPcm },
    });
    try {
      const session = dev.emulator.voiceApiSessions()[0]!;
      assert.equal(session.version, "v1");
      assert.deepEqual([session.sttRate, session.ttsRate], [8000, 24000]);
      assert.equal(session.openFrame!.user_id, "talkbox");
      const record = await turn(dev, 60);
      // What the emulator heard is the mic's own audio (the utterance includes its padding and the end silence).
      const utterance = record.audio!;
      const speech = utterance.subarray(0, 3200);
      assert.ok(dev.rig.micInput.indexOf(speech) >= 0, "the first 200 ms the server heard are not in what the mic captured");
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      assert.ok(played.equals(record.reply), `the speaker played ${played.length} bytes, the bot answered ${record.reply.length}`);
      assert.deepEqual(session.errors, []);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
