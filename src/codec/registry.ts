/**
 * Codecs by name, between mono S16_LE PCM at the wire rate and the wire payload.
 * Rate and format conversion to and from the device happen around them
 * (src/codec/pcm16.ts, src/codec/resampler.ts). What each codec allows is src/core/media.ts.
 */
import { allowedRates, codecRules, type AudioCodec, type AudioFormat } from "../core/media";
import type { Logger } from "../log/logger";
import type { CodecImpl, Decoder, Encoder } from "./types";
import { g711a, g711u } from "./g711";
import { opus } from "./opus";
import { pcm } from "./pcm";

export type { CodecImpl, Decoder, Encoder } from "./types";

/** One row per codec of core/media.ts's table (the type makes a missing row an error). */
const CODECS: Record<AudioCodec, CodecImpl> = { pcm, opus, g711a, g711u };

function checkRate(f: AudioFormat): void {
  if (!allowedRates(f.codec).includes(f.sampleRate)) {
    throw new Error(`${f.codec} cannot run at ${f.sampleRate} Hz (allowed: ${allowedRates(f.codec).join(", ")})`);
  }
}

export function createEncoder(wire: AudioFormat, frameMs: number, log?: Logger): Encoder {
  checkRate(wire);
  const frameSamples = (wire.sampleRate * frameMs) / 1000;
  const { acceptsPartialFrames } = codecRules(wire.codec);
  return { frameSamples, encode: CODECS[wire.codec].encoder(wire.sampleRate, frameSamples, log), acceptsPartialFrames };
}

export function createDecoder(wire: AudioFormat, log?: Logger): Decoder {
  checkRate(wire);
  return CODECS[wire.codec].decoder(wire.sampleRate, log);
}
