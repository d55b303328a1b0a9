/**
 * server_vad on the emulator with a real VAD (WebRTC's, in WASM) and real time: the client
 * streams its "microphone" in 20 ms appends on a real-time schedule, as a device does.
 * Timing is checked only against bounds with margin, never to the millisecond.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AudioCodec } from "../../src/core/media";
import { createEncoder } from "../../src/codec/registry";
import { startEmulator, type Emulator, type TurnRecord } from "../../src/emulator/server";
import { SPEECH_START_MS } from "../../src/emulator/shared/speech-detector";
import { REPLY_EVENTS, TestClient, audioPayloads, type ServerEvent } from "./emulator-client";
import { silence, speechLike } from "./emulator-signal";

const CHUNK_MS = 20;
/** Covers event-loop and timer jitter on a loaded CI machine. */
const SLACK_MS = 150;
/** WebRTC's VAD keeps calling a few frames voiced after speech ends (its hangover), on top of silence_duration_ms. */
const VAD_HANGOVER_MAX_MS = 200;

interface Uplink {
  codec: AudioCodec;
  rate: number;
}

/** Real-time delivery in 200 ms bursts: a reply lasts as long as its audio, so speech can interrupt it. */
const REAL_TIME = { period: 0.2, max_frame_num: 10 };
const AT_ONCE = { period: 1, max_frame_num: 10000 };

function serverVad(up: Uplink, turnDetection: Record<string, unknown>, limit = AT_ONCE): Record<string, unknown> {
  return {
    input_audio: { format: "pcm", codec: up.codec, sample_rate: up.rate, channel: 1, bit_depth: 16 },
    output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: CHUNK_MS, limit_config: limit } },
    turn_detection: { type: "server_vad", ...turnDetection },
  };
}

/** The microphone's audio as the device would upload it: 20 ms payloads of the session's codec. */
function uplink(pcm: Buffer, up: Uplink): Buffer[] {
  const enc = createEncoder({ codec: up.codec, sampleRate: up.rate, channels: 1 }, CHUNK_MS);
  const frameBytes = enc.frameSamples * 2;
  const out: Buffer[] = [];
  for (let off = 0; off + frameBytes <= pcm.length; off += frameBytes) out.push(enc.encode(pcm.subarray(off, off + frameBytes)));
  return out;
}

const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;
const chunks = (seconds: number): number => Math.round((seconds * 1000) / CHUNK_MS);
const types = (events: ServerEvent[]): string[] => events.map((e) => e.event_type);

describe("emulator server_vad", { timeout: 30_000 }, () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  const CONFIGS: Array<{ name: string; up: Uplink; td: Record<string, unknown>; prefixMs: number; silenceMs: number }> = [
    { name: "PCM 16 kHz, default padding and silence", up: { codec: "pcm", rate: 16000 }, td: {}, prefixMs: 600, silenceMs: 500 },
    { name: "G.711 µ-law 8 kHz, prefix 200 ms, silence 300 ms", up: { codec: "g711u", rate: 8000 }, td: { prefix_padding_ms: 200, silence_duration_ms: 300 }, prefixMs: 200, silenceMs: 300 },
    { name: "Opus 24 kHz, prefix 400 ms, silence 800 ms", up: { codec: "opus", rate: 24000 }, td: { prefix_padding_ms: 400, silence_duration_ms: 800 }, prefixMs: 400, silenceMs: 800 },
  ];

  for (const k of CONFIGS) {
    test(`${k.name}: speech_started, speech_stopped after the silence, then a reply`, async (t) => {
      const c = await TestClient.ready(emu.url, serverVad(k.up, k.td));
      const index = emu.sessions().length - 1;
      const td = (c.events.find((e) => e.event_type === "chat.updated")?.data as Record<string, unknown>).turn_detection;
      assert.deepEqual(td, { type: "server_vad", prefix_padding_ms: k.prefixMs, silence_duration_ms: k.silenceMs });

      const lead = k.prefixMs / 1000 + 0.2;
      const speechS = 1.2;
      const speech = speechLike(k.up.rate, speechS);
      const mic = Buffer.concat([silence(k.up.rate, lead), speech, silence(k.up.rate, (k.silenceMs + VAD_HANGOVER_MAX_MS + SLACK_MS) / 1000 + 0.2)]);
      const turnSeen = once(emu.events, "turn");
      const sentAt = await c.streamPayloads(uplink(mic, k.up), CHUNK_MS);
      const speechAt = chunks(lead);
      const speechEndAt = chunks(lead + speechS);
      const started = await c.next("input_audio_buffer.speech_started");
      const stopped = await c.next("input_audio_buffer.speech_stopped");
      await c.next("conversation.chat.completed");
      const [turn] = (await turnSeen) as [TurnRecord];
      const startMs = ms(sentAt[speechAt] as bigint, started.atNs);
      const stopMs = ms(sentAt[speechEndAt] as bigint, stopped.atNs);
      t.diagnostic(`speech_started ${startMs.toFixed(0)} ms after the speech began to be sent, speech_stopped ${stopMs.toFixed(0)} ms after it ended`);
      // Lower bounds by cause: not before the append that completes SPEECH_START_MS of speech
      // (or silence_duration_ms of silence) was sent, whatever the timer jitter.
      const startedBy = sentAt[speechAt + SPEECH_START_MS / CHUNK_MS - 1] as bigint;
      const stoppedBy = sentAt[speechEndAt + k.silenceMs / CHUNK_MS - 1] as bigint;
      assert.ok(started.atNs > startedBy, `speech_started came ${ms(started.atNs, startedBy).toFixed(0)} ms before ${SPEECH_START_MS} ms of speech was sent`);
      assert.ok(startMs <= SPEECH_START_MS + 2 * CHUNK_MS + SLACK_MS, `speech_started after ${startMs.toFixed(0)} ms`);
      assert.ok(stopped.atNs > stoppedBy, `speech_stopped came ${ms(stopped.atNs, stoppedBy).toFixed(0)} ms before ${k.silenceMs} ms of silence was sent`);
      assert.ok(stopMs <= k.silenceMs + VAD_HANGOVER_MAX_MS + SLACK_MS, `speech_stopped ${stopMs.toFixed(0)} ms after the speech ended`);

      // Exactly one utterance, answered like a push-to-talk turn but without input_audio_buffer.completed.
      const seen = types(c.events);
      assert.equal(seen.filter((e) => e === "input_audio_buffer.speech_started").length, 1);
      assert.equal(seen.filter((e) => e === "input_audio_buffer.speech_stopped").length, 1);
      assert.ok(!seen.includes("input_audio_buffer.completed"));
      const afterStop = types(c.events.slice(c.events.indexOf(stopped) + 1)).filter((e, i, all) => e !== "conversation.audio.delta" || all[i - 1] !== e);
      assert.deepEqual(afterStop, REPLY_EVENTS);

      // The utterance: prefix padding, the speech, the silence that ended it.
      const turnMs = (turn.audio.length / 2 / k.up.rate) * 1000;
      const minMs = k.prefixMs - SPEECH_START_MS + speechS * 1000 + k.silenceMs - CHUNK_MS;
      const maxMs = k.prefixMs + speechS * 1000 + k.silenceMs + VAD_HANGOVER_MAX_MS + CHUNK_MS;
      assert.ok(turnMs >= minMs && turnMs <= maxMs, `the turn holds ${turnMs} ms of audio, expected ${minMs}..${maxMs}`);
      if (k.up.codec === "pcm") {
        const at = turn.audio.indexOf(speech);
        assert.ok(at >= 0, "the turn holds the speech exactly");
        const prefixMs = (at / 2 / k.up.rate) * 1000;
        assert.ok(prefixMs >= k.prefixMs - SPEECH_START_MS && prefixMs <= k.prefixMs, `${prefixMs} ms of audio before the speech`);
      }
      assert.equal(turn.canceled, false);
      assert.ok(Buffer.concat(audioPayloads(c.events)).equals(turn.reply), "the reply audio is what the emulator recorded");
      assert.equal(turn.reply.length, Math.round((turn.audio.length / 2) * (16000 / k.up.rate)) * 2);
      assert.ok(turn.completeAtNs <= stopped.atNs);

      const vad = emu.sessions()[index]?.vadEvents ?? [];
      assert.deepEqual(vad.map((e) => e.type), ["speech_started", "speech_stopped"]);
      assert.ok((vad[0]?.atNs as bigint) <= started.atNs && (vad[1]?.atNs as bigint) <= stopped.atNs);
      await c.close();
    });
  }

  test("speech during a reply: speech_started, chat.canceled code 1 at once, no more audio; the new utterance gets its own reply", async () => {
    const up: Uplink = { codec: "pcm", rate: 16000 };
    const c = await TestClient.ready(emu.url, serverVad(up, { prefix_padding_ms: 300, silence_duration_ms: 400 }, REAL_TIME));
    const turns: TurnRecord[] = [];
    const onTurn = (turn: TurnRecord): number => turns.push(turn);
    emu.events.on("turn", onTurn);
    try {
      const first = Buffer.concat([silence(16000, 0.5), speechLike(16000, 1.2)]);
      // Enough silence to end the utterance; the reply lasts as long as its audio (about 2 s).
      await c.streamPayloads(uplink(Buffer.concat([first, silence(16000, (400 + VAD_HANGOVER_MAX_MS + SLACK_MS) / 1000)]), up), CHUNK_MS);
      const firstDelta = await c.next("conversation.audio.delta", 5000);
      const second = speechLike(16000, 0.6, 9000);
      await c.streamPayloads(uplink(Buffer.concat([silence(16000, 0.1), second, silence(16000, 0.8)]), up), CHUNK_MS);
      const canceled = await c.next("conversation.chat.canceled");
      await c.next("conversation.chat.completed", 5000);

      const firstChat = firstDelta.data?.chat_id;
      const i = c.events.indexOf(canceled);
      assert.equal(c.events[i - 1]?.event_type, "input_audio_buffer.speech_started", "chat.canceled follows speech_started at once");
      assert.deepEqual({ code: canceled.data?.code, msg: canceled.data?.msg }, { code: 1, msg: "interrupted by user speech" });
      const later = c.events.slice(i + 1);
      assert.ok(!later.some((e) => e.event_type === "conversation.audio.delta" && e.data?.chat_id === firstChat), "audio of the canceled chat after chat.canceled");
      assert.ok(!c.events.some((e) => e.event_type === "conversation.chat.completed" && e.data?.id === firstChat));
      assert.deepEqual(types(later).filter((e) => e.startsWith("input_audio_buffer.")), ["input_audio_buffer.speech_stopped"]);
      assert.ok(!c.events.some((e) => e.event_type === "error"), "appends during a reply are fine in server_vad");

      assert.equal(turns.length, 2);
      const [t1, t2] = turns as [TurnRecord, TurnRecord];
      assert.equal(t1.canceled, true);
      assert.equal(t1.canceledBy, "user_speech");
      assert.ok(t1.reply.length > 0 && t1.reply.length < t1.audio.length, `the first reply was cut: ${t1.reply.length} of ${t1.audio.length} bytes`);
      assert.equal(t2.canceled, false);
      assert.ok(t2.audio.indexOf(second) >= 0, "the second turn holds the speech that interrupted the first");
      const vad = emu.sessions().at(-1)?.vadEvents.map((e) => e.type);
      assert.deepEqual(vad, ["speech_started", "speech_stopped", "speech_started", "speech_stopped"]);
    } finally {
      emu.events.off("turn", onTurn);
      await c.close();
    }
  });

  test("silence and quiet noise only: no VAD events, no reply; input_audio_buffer.complete is ignored", async () => {
    const up: Uplink = { codec: "pcm", rate: 16000 };
    const c = await TestClient.ready(emu.url, serverVad(up, {}));
    const noise = Buffer.alloc(16000 * 2);
    let seed = 1;
    for (let i = 0; i < 16000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      noise.writeInt16LE(Math.round((seed / 2 ** 31 - 0.5) * 60), i * 2); // about -60 dBFS
    }
    await c.streamPayloads(uplink(Buffer.concat([silence(16000, 0.5), noise]), up), CHUNK_MS);
    c.send("input_audio_buffer.complete");
    // Events are handled in order: once clear is answered, every append and the complete have been.
    c.send("input_audio_buffer.clear");
    await c.next("input_audio_buffer.cleared");
    const seen = types(c.events).filter((e) => !["chat.created", "chat.updated", "input_audio_buffer.cleared"].includes(e));
    assert.deepEqual(seen, []);
    assert.deepEqual(emu.sessions().at(-1)?.vadEvents, []);
    await c.close();
  });
});
