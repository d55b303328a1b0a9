/**
 * Server VAD on the emulator's Realtime endpoint (OpenAI flavour) with the sim board's
 * recorded speech, streamed in 20 ms appends on a real-time schedule as a device does.
 * Timing is checked only against bounds with margin.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type Emulator, type RealtimeResponseRecord } from "../../src/emulator/server";
import { SPEECH_START_MS } from "../../src/emulator/shared/speech-detector";
import { SPEECH_16K, resampleAll, silence } from "../support/speech";
import { RtClient, SPOKEN_RESPONSE, order, type RtEvent } from "./emulator-realtime-client";

const RATE = 24000;
const CHUNK_MS = 20;
const CHUNK_BYTES = (RATE * CHUNK_MS * 2) / 1000;
const SLACK_MS = 150;
/** WebRTC's VAD keeps calling a few frames voiced after speech ends. */
const VAD_HANGOVER_MAX_MS = 200;
const ms = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

describe("realtime server VAD (openai flavour)", { timeout: 40_000 }, () => {
  let emu: Emulator;
  let speech: Buffer;
  before(async () => {
    // Real time, so a reply lasts as long as its audio and speech can interrupt it.
    emu = await startEmulator({ realtimePacing: "realtime" });
    speech = await resampleAll(SPEECH_16K, 16000, RATE);
    speech = speech.subarray(0, speech.length - (speech.length % 2));
  });
  after(() => emu.close());

  test("speech_started, speech_stopped after the silence, auto-commit with the speech, then a response echoing it", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { flavour: "openai", session: { turn_detection: { type: "server_vad", silence_duration_ms: 500, prefix_padding_ms: 300 } } });
    const index = emu.realtimeSessions().length - 1;
    const lead = 0.5;
    const mic = Buffer.concat([silence(RATE, lead), speech, silence(RATE, (500 + VAD_HANGOVER_MAX_MS + SLACK_MS) / 1000 + 0.2)]);
    const sentAt = await c.stream(mic, CHUNK_BYTES, CHUNK_MS);
    const started = await c.next("input_audio_buffer.speech_started");
    const stopped = await c.next("input_audio_buffer.speech_stopped", 5000);
    const done = await c.next("response.done", 10_000);

    const speechAt = sentAt[Math.round((lead * 1000) / CHUNK_MS)] as bigint;
    assert.ok(started.atNs > speechAt, "speech_started only after speech was sent");
    assert.ok(ms(speechAt, started.atNs) <= SPEECH_START_MS + 2 * CHUNK_MS + SLACK_MS, `speech_started ${ms(speechAt, started.atNs).toFixed(0)} ms after the speech began`);
    assert.equal(stopped.item_id, started.item_id);
    assert.ok(Number(started.audio_start_ms) >= lead * 1000 - SPEECH_START_MS - CHUNK_MS, `audio_start_ms ${String(started.audio_start_ms)}`);
    assert.ok(Number(stopped.audio_end_ms) > Number(started.audio_start_ms));

    const after = c.events.slice(c.events.indexOf(stopped) + 1, c.events.indexOf(done) + 1);
    assert.deepEqual(order(after), ["input_audio_buffer.committed", "conversation.item.created", ...SPOKEN_RESPONSE]);
    assert.equal(after[0]?.item_id, started.item_id, "the committed item is the one speech_started named");
    assert.equal((done.response as Record<string, unknown>).status, "completed");

    const view = emu.realtimeSessions()[index];
    assert.deepEqual(view?.vadEvents.map((e) => e.type), ["speech_started", "speech_stopped"]);
    const commit = view?.commits[0];
    assert.equal(commit?.by, "server_vad");
    assert.equal(commit?.itemId, started.item_id);
    assert.ok((commit?.audio.indexOf(speech.subarray(0, 4800)) ?? -1) >= 0, "the commit holds the speech");
    const speechMs = (speech.length / 2 / RATE) * 1000;
    assert.ok((commit?.ms ?? 0) >= speechMs && (commit?.ms ?? 0) <= speechMs + 300 + 500 + VAD_HANGOVER_MAX_MS + CHUNK_MS, `the commit holds ${commit?.ms} ms`);
    const response = view?.responses[0] as RealtimeResponseRecord;
    assert.equal(response.request, null, "server VAD started the response");
    assert.ok(response.audio.equals(commit?.audio as Buffer), "the reply echoes the utterance");
    await c.close();
  });

  test("speech during a response cancels it (turn_detected), and the new utterance gets its own response", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { flavour: "openai", session: { turn_detection: { type: "server_vad", silence_duration_ms: 400 } } });
    const index = emu.realtimeSessions().length - 1;
    const first = speech.subarray(0, RATE * 2 * 1.5);
    await c.stream(Buffer.concat([silence(RATE, 0.3), first, silence(RATE, (400 + VAD_HANGOVER_MAX_MS + SLACK_MS) / 1000)]), CHUNK_BYTES, CHUNK_MS);
    const firstDelta = await c.next("response.audio.delta", 5000);
    await c.stream(Buffer.concat([silence(RATE, 0.1), first, silence(RATE, 0.9)]), CHUNK_BYTES, CHUNK_MS);
    const cancelled = await c.next("response.done");
    const second = await c.next("response.done", 10_000);

    const firstId = firstDelta.response_id;
    assert.equal((cancelled.response as Record<string, unknown>).id, firstId);
    assert.equal((cancelled.response as Record<string, unknown>).status, "cancelled");
    assert.deepEqual((cancelled.response as Record<string, unknown>).status_details, { type: "cancelled", reason: "turn_detected" });
    const i = c.events.indexOf(cancelled);
    assert.equal(c.events[i - 1]?.type, "input_audio_buffer.speech_started", "the response is cancelled as speech starts");
    assert.ok(!c.events.slice(i).some((e: RtEvent) => e.type === "response.audio.delta" && e.response_id === firstId), "no audio of the cancelled response after it");
    assert.equal((second.response as Record<string, unknown>).status, "completed");

    const view = emu.realtimeSessions()[index];
    assert.deepEqual(view?.vadEvents.map((e) => e.type), ["speech_started", "speech_stopped", "speech_started", "speech_stopped"]);
    const [r1, r2] = view?.responses ?? [];
    assert.equal(r1?.cancelReason, "turn_detected");
    assert.ok((r1?.audio.length ?? 0) > 0 && (r1?.audio.length ?? 0) < (view?.commits[0]?.audio.length ?? 0));
    assert.equal(r2?.status, "completed");
    assert.ok(r2?.audio.equals(view?.commits[1]?.audio as Buffer));
    await c.close();
  });

  test("turn_detection null: speech alone commits nothing; volcengine never detects speech", async () => {
    for (const opts of [{ flavour: "openai" as const, session: { turn_detection: null } }, { flavour: "volcengine" as const }]) {
      const c = await RtClient.ready(emu.realtimeUrl, opts);
      const rate = opts.flavour === "openai" ? RATE : 16000;
      c.append(Buffer.concat([opts.flavour === "openai" ? speech : SPEECH_16K, silence(rate, 1)]));
      // Events are handled in order: once clear is answered, every append has been.
      c.send("input_audio_buffer.clear");
      await c.next("input_audio_buffer.cleared");
      const seen = c.events.map((e) => e.type).filter((t) => !["session.created", "session.updated", "input_audio_buffer.cleared"].includes(t));
      assert.deepEqual(seen, [], opts.flavour);
      await c.close();
    }
  });

  test("a client commit while server VAD is on is refused with a message saying why", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { flavour: "openai" });
    c.append(silence(RATE, 0.2));
    c.send("input_audio_buffer.commit");
    assert.match(String((await c.nextError("commit_with_server_vad")).message), /turn_detection to null/);
    await c.close();
  });
});
