/**
 * The emulator speaks every codec both ways: what a client sends decodes to what it
 * meant, and the echo comes back encoded so that it decodes to what the emulator
 * recorded as the reply — within each codec's expected error, measured as SNR after
 * finding the codec's delay by cross-correlation.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AudioCodec } from "../../src/core/media";
import { createDecoder, createEncoder } from "../../src/codec/registry";
import { startEmulator, type Emulator, type TurnRecord } from "../../src/emulator/server";
import { TestClient } from "./emulator-client";
import { alignedSnr, espeakSpeech, speechLike } from "./emulator-signal";

interface Side {
  codec: AudioCodec;
  rate: number;
  frameMs: number;
}

interface Case {
  name: string;
  up: Side;
  down: Side;
  /** Minimum SNR (dB) of each codec pass: sent → turn.audio, turn.reply → what the client decodes. */
  minUpDb: number;
  minDownDb: number;
  /**
   * Minimum SNR (dB) of what the client decodes against the signal itself at the output
   * rate (generated at that rate: the synthetic voice directly, espeak-ng speech through
   * sox's resampler), so a cross-rate case also measures the emulator's resampling.
   */
  minRoundTripDb: number;
  /** Run with the synthetic voice only. */
  syntheticOnly?: boolean;
}

/*
 * Thresholds, set from measured values with margin (the test's diagnostics print them):
 * - PCM is lossless: exact equality is asserted as well.
 * - G.711 is 8-bit logarithmic PCM: measured 37.3–37.5 dB on both signals. ≥ 30 dB.
 *   (Its downlink is exact when the reply is the decoded uplink: G.711 re-encodes its own
 *   output losslessly.)
 * - Opus is perceptual, so waveform SNR understates it, and the two implementations the
 *   codec layer may pick differ: per pass, native libopus 16.0–20.9 dB, opusscript (VOIP
 *   mode) 10.5–11.9 dB; two passes 13.5–16.0 and 5.9–6.7 dB. ≥ 8 dB per pass and ≥ 4 dB
 *   for two: a decoder reset per packet gives ≈ 1 dB, wrong rates or frames fail the
 *   length checks first.
 */
const OPUS_PASS_DB = 8;
const OPUS_TWO_PASSES_DB = 4;
const G711_DB = 30;

const CASES: Case[] = [
  { name: "opus 16 kHz, 20 ms up, 60 ms down", up: opus(16000, 20), down: opus(16000, 60), minUpDb: OPUS_PASS_DB, minDownDb: OPUS_PASS_DB, minRoundTripDb: OPUS_TWO_PASSES_DB },
  { name: "opus 16 kHz, 40 ms up, 60 ms down", up: opus(16000, 40), down: opus(16000, 60), minUpDb: OPUS_PASS_DB, minDownDb: OPUS_PASS_DB, minRoundTripDb: OPUS_TWO_PASSES_DB },
  { name: "opus 24 kHz, 20 ms up, 60 ms down", up: opus(24000, 20), down: opus(24000, 60), minUpDb: OPUS_PASS_DB, minDownDb: OPUS_PASS_DB, minRoundTripDb: OPUS_TWO_PASSES_DB },
  { name: "g711a", up: g711("g711a", 20), down: g711("g711a", 20), minUpDb: G711_DB, minDownDb: G711_DB, minRoundTripDb: G711_DB },
  { name: "g711u", up: g711("g711u", 20), down: g711("g711u", 40), minUpDb: G711_DB, minDownDb: G711_DB, minRoundTripDb: G711_DB },
  { name: "pcm 16 kHz", up: pcm(16000, 20), down: pcm(16000, 20), minUpDb: Infinity, minDownDb: Infinity, minRoundTripDb: Infinity },
  { name: "pcm 24 kHz", up: pcm(24000, 20), down: pcm(24000, 40), minUpDb: Infinity, minDownDb: Infinity, minRoundTripDb: Infinity },
  /*
   * Across rates the echo is resampled before it is encoded. The lossless cases measure the
   * resampler alone, on the synthetic voice only: espeak-ng speech has energy up to 11 kHz,
   * so its versions at two rates differ by the band one of them cannot hold, not by the
   * resampler. Measured: libsamplerate ≈ 56 dB (16→24 kHz) and 66 dB (24→16 kHz); the
   * linear interpolation it replaced gives 28 and 35 dB. ≥ 45 dB tells them apart.
   */
  { name: "pcm 16 kHz up, pcm 24 kHz down", up: pcm(16000, 20), down: pcm(24000, 40), minUpDb: Infinity, minDownDb: Infinity, minRoundTripDb: 45, syntheticOnly: true },
  { name: "pcm 24 kHz up, pcm 16 kHz down", up: pcm(24000, 20), down: pcm(16000, 40), minUpDb: Infinity, minDownDb: Infinity, minRoundTripDb: 45, syntheticOnly: true },
  { name: "pcm 16 kHz up, opus 24 kHz down", up: pcm(16000, 20), down: opus(24000, 60), minUpDb: Infinity, minDownDb: OPUS_PASS_DB, minRoundTripDb: OPUS_PASS_DB },
  { name: "opus 16 kHz up, g711u down", up: opus(16000, 20), down: g711("g711u", 20), minUpDb: OPUS_PASS_DB, minDownDb: G711_DB, minRoundTripDb: OPUS_PASS_DB },
];

function opus(rate: number, frameMs: number): Side {
  return { codec: "opus", rate, frameMs };
}
function g711(codec: "g711a" | "g711u", frameMs: number): Side {
  return { codec, rate: 8000, frameMs };
}
function pcm(rate: number, frameMs: number): Side {
  return { codec: "pcm", rate, frameMs };
}

const unlimited = { period: 1, max_frame_num: 10000 };

function chatUpdate(up: Side, down: Side, limit: { period: number; max_frame_num: number } = unlimited): Record<string, unknown> {
  const block = { sample_rate: down.rate, frame_size_ms: down.frameMs, limit_config: limit };
  return {
    input_audio: { format: "pcm", codec: up.codec, sample_rate: up.rate, channel: 1, bit_depth: 16 },
    output_audio: down.codec === "opus" ? { codec: "opus", opus_config: block } : { codec: down.codec, pcm_config: block },
  };
}

/** The signal cut into uplink frames and encoded; Opus gets whole frames (the tail padded with silence). */
function encodeUplink(pcm: Buffer, up: Side): { sent: Buffer; payloads: Buffer[] } {
  const enc = createEncoder({ codec: up.codec, sampleRate: up.rate, channels: 1 }, up.frameMs);
  const frameBytes = enc.frameSamples * 2;
  const whole = Math.ceil(pcm.length / frameBytes) * frameBytes;
  const sent = enc.acceptsPartialFrames ? pcm : Buffer.concat([pcm, Buffer.alloc(whole - pcm.length)]);
  const payloads: Buffer[] = [];
  for (let off = 0; off < sent.length; off += frameBytes) payloads.push(enc.encode(sent.subarray(off, off + frameBytes)));
  return { sent, payloads };
}

/** What a device plays: every delta decoded with one decoder, in order. */
function decodeDownlink(payloads: Buffer[], down: Side): Buffer {
  const dec = createDecoder({ codec: down.codec, sampleRate: down.rate, channels: 1 });
  return Buffer.concat(payloads.map((p) => dec.decode(p)));
}

const SIGNALS: Array<{ name: string; make: (rate: number) => Buffer | null }> = [
  { name: "speech-like signal", make: (rate) => speechLike(rate, 1.2) },
  { name: "espeak-ng speech", make: (rate) => espeakSpeech(rate) },
];
const espeakMissing = espeakSpeech(8000) === null ? "espeak-ng or sox is not installed" : false;

describe("emulator codecs: round trips within each codec's error", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  for (const k of CASES) {
    for (const sig of k.syntheticOnly ? SIGNALS.slice(0, 1) : SIGNALS) {
      test(`${k.name}, ${sig.name}`, { skip: sig.name.startsWith("espeak") ? espeakMissing : false }, async (t) => {
        const signal = sig.make(k.up.rate) as Buffer;
        const c = await TestClient.ready(emu.url, chatUpdate(k.up, k.down));
        const { sent, payloads: up } = encodeUplink(signal, k.up);
        const turnSeen = once(emu.events, "turn");
        const { payloads: down } = await c.turnPayloads(up);
        const [turn] = (await turnSeen) as [TurnRecord];
        await c.close();

        assert.equal(turn.canceled, false);
        assert.deepEqual(turn.appendBytes, up.map((p) => p.length), "appendBytes are the wire payload sizes");
        assert.equal(turn.audio.length, sent.length, "the emulator decoded every uplink frame");
        const played = decodeDownlink(down, k.down);
        const replyMs = ((turn.reply.length / 2) * 1000) / k.down.rate;
        assert.ok(Math.abs(replyMs - (sent.length / 2 / k.up.rate) * 1000) <= k.down.frameMs, `reply of ${replyMs} ms`);
        assert.equal(played.length, turn.reply.length, "the deltas carry exactly the recorded reply");

        const downFrameBytes = ((k.down.rate * k.down.frameMs) / 1000) * (k.down.codec === "opus" ? 2 : k.down.codec === "pcm" ? 2 : 1);
        if (k.down.codec === "opus") {
          const dec = createDecoder({ codec: "opus", sampleRate: k.down.rate, channels: 1 });
          for (const p of down) assert.equal(dec.decode(p).length, downFrameBytes, "each delta is one Opus packet of frame_size_ms");
        } else {
          down.slice(0, -1).forEach((p) => assert.equal(p.length, downFrameBytes, "each delta is frame_size_ms of audio"));
          assert.ok((down.at(-1)?.length ?? 0) <= downFrameBytes);
        }

        if (k.minUpDb === Infinity) assert.ok(turn.audio.equals(sent), "PCM uplink is lossless");
        if (k.minDownDb === Infinity) assert.ok(played.equals(turn.reply), "PCM downlink is lossless");
        const upSnr = alignedSnr(sent, turn.audio, k.up.rate);
        const downSnr = alignedSnr(turn.reply, played, k.down.rate);
        t.diagnostic(`uplink ${upSnr.snrDb.toFixed(1)} dB (lag ${upSnr.lag}), downlink ${downSnr.snrDb.toFixed(1)} dB (lag ${downSnr.lag})`);
        assert.ok(upSnr.snrDb >= k.minUpDb, `uplink SNR ${upSnr.snrDb.toFixed(1)} dB < ${k.minUpDb} dB`);
        assert.ok(downSnr.snrDb >= k.minDownDb, `downlink SNR ${downSnr.snrDb.toFixed(1)} dB < ${k.minDownDb} dB`);
        if (k.minRoundTripDb === Infinity) assert.ok(played.equals(sent), "a lossless round trip is exact");
        const reference = sig.make(k.down.rate) as Buffer;
        const trip = alignedSnr(reference, played, k.down.rate, 40);
        t.diagnostic(`round trip ${trip.snrDb.toFixed(1)} dB (lag ${trip.lag})`);
        assert.ok(trip.snrDb >= k.minRoundTripDb, `round-trip SNR ${trip.snrDb.toFixed(1)} dB < ${k.minRoundTripDb} dB`);
      });
    }
  }
});

describe("emulator codecs: wire rules", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  test("a corrupt Opus packet: error 4000 naming it, the connection and the turn go on without it", async () => {
    const up = opus(16000, 20);
    const c = await TestClient.ready(emu.url, chatUpdate(up, pcm(16000, 20)));
    const { sent, payloads } = encodeUplink(speechLike(16000, 0.2), up);
    const turnSeen = once(emu.events, "turn");
    c.appendPayloads(payloads.slice(0, 5));
    // Framing code 2 with a first frame longer than the whole packet.
    c.appendPayloads([Buffer.from([0x0a, 0xfb, 1, 2, 3])]);
    const err = await c.next("error");
    assert.equal(err.data?.code, 4000);
    assert.match(String(err.data?.msg), /input_audio_buffer\.append \(opus\): an Opus packet of 5 bytes does not decode/);
    const { payloads: down } = await c.turnPayloads(payloads.slice(5));
    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.audio.length, sent.length, "every good packet, and nothing for the bad one");
    assert.deepEqual(turn.appendBytes, payloads.map((p) => p.length));
    assert.ok(Buffer.concat(down).equals(turn.reply));
    assert.ok(alignedSnr(sent, turn.reply, 16000).snrDb >= OPUS_PASS_DB);
    assert.equal(emu.sessions().at(-1)?.open, true);
    await c.close();
  });

  test("Opus output without opus_config: 24 kHz, 60 ms packets, as chat.updated says", async () => {
    const c = await TestClient.ready(emu.url, { ...chatUpdate(pcm(16000, 20), pcm(16000, 20)), output_audio: { codec: "opus" } });
    const cfg = c.events.find((e) => e.event_type === "chat.updated")?.data as Record<string, Record<string, unknown>>;
    assert.deepEqual(cfg.output_audio?.opus_config, { sample_rate: 24000, frame_size_ms: 60 });
    const { payloads } = await c.turnPayloads([speechLike(16000, 0.3)]);
    const dec = createDecoder({ codec: "opus", sampleRate: 24000, channels: 1 });
    assert.equal(payloads.length, 5, "0.3 s in 60 ms packets");
    for (const p of payloads) assert.equal(dec.decode(p).length, 1440 * 2);
    await c.close();
  });

  for (const down of [opus(16000, 60), g711("g711a", 40)]) {
    test(`limit_config paces ${down.codec} too: at most max_frame_num deltas per period`, async () => {
      const period = 0.15;
      const maxFrames = 3;
      const c = await TestClient.ready(emu.url, chatUpdate(pcm(16000, 20), down, { period, max_frame_num: maxFrames }));
      const frames = Math.ceil(600 / down.frameMs);
      const { events } = await c.turnPayloads([speechLike(16000, 0.6)]);
      const times = events.filter((e) => e.event_type === "conversation.audio.delta").map((e) => e.atNs);
      assert.equal(times.length, frames);
      const t0 = times[0] as bigint;
      times.forEach((t, i) => {
        const minMs = Math.floor(i / maxFrames) * period * 1000;
        const ms = Number(t - t0) / 1e6;
        // Client and emulator share this process: under load the first delta can be read late,
        // which shortens the measured gaps. 30 ms of slack still fails an unpaced burst (all within a few ms).
        assert.ok(ms >= minMs - 30, `delta ${i} arrived after ${ms.toFixed(1)} ms, expected ≥ ${minMs} ms`);
      });
      await c.close();
    });
  }

  test("a chat.update that changes input_audio drops the audio buffered in the old format", async () => {
    const c = await TestClient.ready(emu.url, chatUpdate(pcm(16000, 20), pcm(16000, 20)));
    c.appendPayloads([speechLike(16000, 0.2)]);
    c.send("chat.update", { input_audio: { codec: "g711u", sample_rate: 8000 } });
    await c.next("chat.updated");
    const g = createEncoder({ codec: "g711u", sampleRate: 8000, channels: 1 }, 20).encode(speechLike(8000, 0.1));
    const turnSeen = once(emu.events, "turn");
    await c.turnPayloads([g]);
    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.audio.length, 800 * 2, "only the G.711 audio: 0.1 s at 8 kHz");
    await c.close();
  });
});
