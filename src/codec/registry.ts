/**
 * Codecs by name, between mono S16_LE PCM at the wire rate and the wire payload.
 * Rate and format conversion to and from the device happen around them
 * (src/codec/pcm16.ts, src/codec/resampler.ts). What each codec allows is src/core/media.ts.
 */
import { allowedRates, codecRules, type AudioFormat } from "../core/media";
import type { Logger } from "../log/logger";
import { g711 } from "./g711";
import { createOpus } from "./opus";

export interface Encoder {
  /** Samples per uplink frame (one append). */
  readonly frameSamples: number;
  /** One frame of exactly `frameSamples` mono samples (PCM may be shorter at the end of a turn). */
  encode(pcm: Buffer): Buffer;
  /** Whether a frame shorter than `frameSamples` may be sent (PCM and G.711 yes, Opus no). */
  readonly acceptsPartialFrames: boolean;
}

export interface Decoder {
  decode(payload: Buffer): Buffer;
  /** The stream ended (a reply is over): drop what waits for the rest of a sample. */
  reset?(): void;
}

function checkRate(f: AudioFormat): void {
  if (!allowedRates(f.codec).includes(f.sampleRate)) {
    throw new Error(`${f.codec} cannot run at ${f.sampleRate} Hz (allowed: ${allowedRates(f.codec).join(", ")})`);
  }
}

export function createEncoder(wire: AudioFormat, frameMs: number, log?: Logger): Encoder {
  checkRate(wire);
  const frameSamples = (wire.sampleRate * frameMs) / 1000;
  const { acceptsPartialFrames } = codecRules(wire.codec);
  switch (wire.codec) {
    case "pcm":
      return { frameSamples, encode: (b) => b, acceptsPartialFrames };
    case "g711a":
    case "g711u":
      return { frameSamples, encode: g711[wire.codec].encode, acceptsPartialFrames };
    case "opus": {
      const opus = createOpus(wire.sampleRate, log);
      return { frameSamples, encode: (b) => opus.encode(b, frameSamples), acceptsPartialFrames };
    }
  }
}

export function createDecoder(wire: AudioFormat, log?: Logger): Decoder {
  checkRate(wire);
  switch (wire.codec) {
    case "pcm":
      return pcmDecoder();
    case "g711a":
    case "g711u":
      return { decode: g711[wire.codec].decode };
    case "opus": {
      const opus = createOpus(wire.sampleRate, log);
      return { decode: (b) => opus.decode(b) };
    }
  }
}

/**
 * 16-bit PCM split anywhere: a payload with an odd byte count keeps its last byte
 * for the next one, so every later sample stays aligned.
 */
function pcmDecoder(): Decoder {
  let carry: Buffer | null = null;
  return {
    decode(b) {
      const joined = carry ? Buffer.concat([carry, b]) : b;
      carry = joined.length % 2 === 1 ? Buffer.from(joined.subarray(joined.length - 1)) : null;
      return carry ? joined.subarray(0, joined.length - 1) : joined;
    },
    reset() {
      carry = null;
    },
  };
}
