/**
 * Opus through @discordjs/opus (native libopus), or opusscript (WASM) when the
 * native module is missing or fails to load — its source build is reported to fail
 * on some Raspberry Pi systems. `TALKBOX_OPUS=opusscript` forces the fallback.
 */
import { CODEC_TABLE } from "../core/media";
import type { CodecImpl } from "./types";
import type { Logger } from "../log/logger";

export interface OpusCodec {
  readonly implementation: "native" | "opusscript";
  /** One frame of mono S16_LE PCM of exactly `frameSamples` samples. */
  encode(pcm: Buffer, frameSamples: number): Buffer;
  decode(packet: Buffer): Buffer;
}

export const OPUS_RATES = CODEC_TABLE.opus.rates;

/** A frame libopus accepts: one of its durations (2.5 ms … 120 ms) at one of its rates. */
export function isLegalOpusFrame(samples: number, rate: number): boolean {
  if (!(OPUS_RATES as readonly number[]).includes(rate)) return false;
  return CODEC_TABLE.opus.frameMs.some((ms) => (rate * ms) / 1000 === samples);
}

let warned = false;

const OPUS_SET_COMPLEXITY = 4010;
/**
 * Encoder complexity 0–10. libopus defaults to 10; for speech at 16 kHz, 5 costs about
 * half as much CPU (measured: the uplink encode was the daemon's largest cost) for a
 * quality difference a voice agent's recogniser does not notice.
 */
export const OPUS_COMPLEXITY = 5;

interface RawOpus {
  implementation: OpusCodec["implementation"];
  encode(pcm: Buffer, frameSamples: number): Buffer;
  decode(packet: Buffer): Buffer;
}

function loadNative(rate: number): RawOpus {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OpusEncoder } = require("@discordjs/opus") as typeof import("@discordjs/opus");
  const native = new OpusEncoder(rate, 1);
  native.applyEncoderCTL(OPUS_SET_COMPLEXITY, OPUS_COMPLEXITY);
  return { implementation: "native", encode: (pcm) => native.encode(pcm), decode: (packet) => native.decode(packet) };
}

function loadOpusscript(rate: number): RawOpus {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const OpusScript = require("opusscript") as typeof import("opusscript");
  const wasm = new OpusScript(rate as 8000 | 12000 | 16000 | 24000 | 48000, 1, OpusScript.Application.VOIP);
  wasm.encoderCTL(OPUS_SET_COMPLEXITY, OPUS_COMPLEXITY);
  return {
    implementation: "opusscript",
    encode: (pcm, frameSamples) => Buffer.from(wasm.encode(pcm, frameSamples)),
    decode: (packet) => Buffer.from(wasm.decode(packet)),
  };
}

export function createOpus(rate: number, log?: Logger): OpusCodec {
  if (!(OPUS_RATES as readonly number[]).includes(rate)) throw new Error(`Opus runs at ${OPUS_RATES.join(", ")} Hz, not ${rate} Hz`);
  let raw: RawOpus | null = null;
  if (process.env.TALKBOX_OPUS !== "opusscript") {
    try {
      raw = loadNative(rate);
    } catch (err) {
      if (!warned) {
        warned = true;
        log?.warn({ err: (err as Error).message }, "native Opus (@discordjs/opus) unavailable; using opusscript (WASM, slower)");
      }
    }
  }
  const codec = raw ?? loadOpusscript(rate);
  return {
    implementation: codec.implementation,
    encode(pcm, frameSamples) {
      // libopus via @discordjs/opus aborts the whole process on a wrong frame length.
      if (pcm.length !== frameSamples * 2 || !isLegalOpusFrame(frameSamples, rate)) {
        throw new Error(`Opus frame of ${pcm.length} bytes is not a legal ${frameSamples}-sample frame at ${rate} Hz`);
      }
      return codec.encode(pcm, frameSamples);
    },
    decode: (packet) => codec.decode(packet),
  };
}

/** The registry's row: an encoder and a decoder, each with its own libopus state. */
export const opus: CodecImpl = {
  encoder: (rate, frameSamples, log) => {
    const codec = createOpus(rate, log);
    return (pcm) => codec.encode(pcm, frameSamples);
  },
  decoder: (rate, log) => {
    const codec = createOpus(rate, log);
    return { decode: (b) => codec.decode(b) };
  },
};
