/**
 * The voice API backend (seed 002) on the whole device: the compiled daemon on the rig's
 * clock-driven card, the emulator's v1 and v2 endpoints over a loopback WebSocket, push-to-talk
 * over the control socket. The emulator's recognition ends a turn on 500 ms of silence; the
 * device ends one with agent.voiceapi.end_silence_ms (800) of silence after the release.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { daemonPlayback, startDevice, type Device } from "../support/device";
import { until } from "../support/daemon-process";
import { speechLoop, toDevice } from "../support/speech";
import { GREETING, type VoiceApiTurnRecord } from "../../src/emulator/voiceapi/session";
import { DeviceEnd, PtyPair } from "../unit/serial-pty";
import { writeTestBoard } from "../support/test-board";

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

describe("the voice API: several users on one v2 link (a car's serial panel)", { timeout: 90_000 }, () => {
  test("the driver's and the passenger's buttons each open their own user session on the one connection; each answer plays", async () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "talkbox-voice-panel-"));
    const pair = await PtyPair.start(dir);
    const boards = writeTestBoard(dir, {
      description: "rig audio and a serial panel with a driver's and a passenger's button on a pty",
      buttons: [
        { name: "talk", driver: "serial", key: "talk", user_id: "driver" },
        { name: "passenger", driver: "serial", key: "passenger", user_id: "passenger" },
      ],
      serial: { panel: { path: pair.a, baud: 115200 } },
    });
    const dev = await startDevice({ board: "car-test", env: { TALKBOX_BOARDS_DIR: boards }, voiceapi: { version: "v2" }, rig: { micPcm: speechLoop(60) } });
    const panel = await DeviceEnd.open(pair.b);
    try {
      await panel.send("HELLO dash-panel 1.0\n");
      await panel.waitFor("LED idle");
      const records: VoiceApiTurnRecord[] = [];
      for (const key of ["talk", "passenger"]) {
        await panel.send(`BTN ${key} DOWN\n`);
        await panel.waitFor("LED listening");
        await audioMessages(dev, 60);
        const answered = once(dev.emulator.events, "voiceapi-turn") as Promise<[VoiceApiTurnRecord]>;
        await panel.send(`BTN ${key} UP\n`);
        records.push((await answered)[0]);
        await panel.waitFor("LED speaking");
        await panel.waitFor("LED idle", 15_000);
      }
      assert.deepEqual(records.map((r) => r.userId), ["driver", "passenger"]);
      const sessions = dev.emulator.voiceApiSessions();
      assert.equal(sessions.length, 1, "both users must share the one connection");
      assert.deepEqual(sessions[0]!.users, ["driver", "passenger"]);
      assert.deepEqual(sessions[0]!.errors, []);
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      assert.ok(played.equals(Buffer.concat(records.map((r) => r.reply))), "the speaker did not play both answers, whole, in order");
    } finally {
      await panel.close().catch(() => {});
      await pair.stop().catch(() => {});
      await dev.stop().catch(() => {});
    }
  });
});

describe("the voice API: a refused key, a server that goes away, a server that sends nonsense", { timeout: 90_000 }, () => {
  for (const version of ["v1", "v2"] as const) {
    test(`${version}: a refused API key is a clear auth problem with the long back-off, no hot loop, and the key never logged`, async () => {
      const dev = await startDevice({ voiceapi: { version }, emulator: { token: "the-right-key" }, ready: "offline" });
      try {
        const down = await dev.daemon.waitForLog((l) => l.msg.startsWith("agent link down"));
        assert.match(down.msg, version === "v2" ? /refused the open frame: invalid API key/ : /closed the connection right after the open frame.*API key/);
        assert.match(down.msg, /retrying in 300\.0 s/);
        const link = (await dev.status()).Link as Record<string, unknown>;
        assert.equal(link.problem, "auth");
        assert.equal((await dev.press()).State, "offline");
        await dev.daemon.waitForLog((l) => l.msg.startsWith("not reconnecting on button press"));
        assert.equal(dev.daemon.logs.filter((l) => l.msg === "connecting to agent").length, 1);
        assert.equal(dev.emulator.voiceApiSessions().length, 1);
        assert.ok(!dev.daemon.rawOutput.some((line) => line.includes("test-token-1234")), "the key appeared in the log");
      } finally {
        await dev.stop();
      }
    });
  }

  test("v2: the server drops the link mid-answer: the device recovers and the next turn is answered on a new link", async () => {
    const dev = await startDevice({ voiceapi: { version: "v2" }, rig: { micPcm: speechLoop(60) } });
    try {
      await dev.press();
      await audioMessages(dev, 75);
      await dev.release();
      await dev.daemon.waitForState("speaking");
      dev.emulator.dropAll();
      await dev.daemon.waitForLog((l) => l.msg.startsWith("agent link down"));
      await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 15_000, dev.daemon.logs.findLastIndex((l) => l.msg.startsWith("agent link down")));
      await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findLastIndex((l) => l.msg.startsWith("agent link down")));
      const record = await turn(dev, 50);
      assert.equal(record.session, 1);
      assert.deepEqual(dev.emulator.voiceApiSessions()[1]!.users, ["talkbox"]);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("v2: an unknown kind, a malformed frame beside a good one, audio for an unknown user, not JSON, a binary message: logged, survived, the next turn answered", async () => {
    const dev = await startDevice({ voiceapi: { version: "v2" }, rig: { micPcm: speechLoop(60) } });
    try {
      const warnings = () => dev.daemon.logs.filter((l) => l.level === 40).map((l) => l.msg);
      dev.emulator.injectVoiceApi(0, JSON.stringify([{ kind: "bot_session_mood", mood: "happy" }]));
      dev.emulator.injectVoiceApi(0, JSON.stringify([{ kind: "bot_session_audio", user_id: "talkbox", audio: 42 }, { kind: "user_session_ended", user_id: "nobody" }]));
      dev.emulator.injectVoiceApi(0, JSON.stringify([{ kind: "bot_session_audio", user_id: "nobody", audio: "AAAA" }]));
      dev.emulator.injectVoiceApi(0, "this is not JSON");
      dev.emulator.injectVoiceApi(0, Buffer.alloc(64), { binary: true });
      await until(() => warnings().length >= 5, "five warnings");
      const w = warnings();
      assert.ok(w.some((m) => /frame kind talkbox does not know/.test(m)), w.join("\n"));
      assert.ok(w.some((m) => /bot_session_audio: audio/.test(m)), w.join("\n"));
      assert.ok(w.some((m) => /audio for a user without a session/.test(m)), w.join("\n"));
      assert.ok(w.some((m) => /not JSON/.test(m)), w.join("\n"));
      assert.ok(w.some((m) => /binary message of 64 bytes/.test(m)), w.join("\n"));
      assert.equal((await dev.status()).State, "idle");
      const record = await turn(dev, 50);
      assert.equal(record.session, 0, "the link was replaced");
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("v1: a text message where only audio comes, and a frame beyond the size limit: logged, the link replaced, the next turn answered", async () => {
    const dev = await startDevice({ voiceapi: { version: "v1" }, rig: { micPcm: speechLoop(60) } });
    try {
      dev.emulator.injectVoiceApi(0, "{\"kind\": \"error\", \"message\": \"surprise\"}");
      await dev.daemon.waitForLog((l) => /sent a text message where only audio is expected/.test(l.msg));
      dev.emulator.injectVoiceApi(0, Buffer.alloc(5 * 1024 * 1024), { binary: true });
      await dev.daemon.waitForLog((l) => l.msg.startsWith("agent link down"));
      await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 15_000, dev.daemon.logs.findLastIndex((l) => l.msg.startsWith("agent link down")));
      const record = await turn(dev, 50);
      assert.equal(record.session, 1);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("the voice API: the bot speaks first", { timeout: 60_000 }, () => {
  for (const version of ["v1", "v2"] as const) {
    test(`${version}: trigger_bot_first asks for the greeting when the link opens; it plays, and the device rests after it`, async () => {
      const dev = await startDevice({ voiceapi: { version, trigger_bot_first: true } });
      try {
        const [record] = (await once(dev.emulator.events, "voiceapi-turn")) as [VoiceApiTurnRecord];
        assert.equal(record.text, GREETING);
        assert.equal(record.audio, null);
        const session = dev.emulator.voiceApiSessions()[0]!;
        if (version === "v1") assert.equal(session.openFrame!.trigger_bot, true);
        else assert.deepEqual(session.users, ["talkbox"]);
        await until(() => daemonPlayback(dev.rig).bytes.length >= record.reply.length, "the greeting at the speaker");
        for (let i = 0; (await dev.status()).Playing !== false; i++) {
          assert.ok(i < 500, "the greeting never finished playing");
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal((await dev.status()).State, "idle");
        assert.equal(await dev.stopDaemon(), 0);
        assert.ok(daemonPlayback(dev.rig).bytes.equals(record.reply), "the greeting did not play whole");
      } finally {
        await dev.stop().catch(() => {});
      }
    });
  }
});
