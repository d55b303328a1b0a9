/**
 * Codecs by name, between mono S16_LE PCM at the wire rate and the wire payload.
 * Rate and format conversion to and from the device happen around them
 * (src/audio/convert.ts, src/audio/resampler.ts).
 */
import type { AudioCodec, AudioFormat } from "../agent/events";
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

export const CODECS: readonly AudioCodec[] = ["pcm", "opus", "g711a", "g711u"];

/** Rates each codec may run at on the wire. */
export function allowedRates(codec: AudioCodec): readonly number[] {
  switch (codec) {
    case "g711a":
    case "g711u":
      return [8000];
    case "opus":
      return [8000, 12000, 16000, 24000, 48000];
    case "pcm":
      return [8000, 16000, 22050, 24000, 32000, 44100, 48000];
  }
}

function checkRate(f: AudioFormat): void {
  if (!allowedRates(f.codec).includes(f.sampleRate)) {
    throw new Error(`${f.codec} cannot run at ${f.sampleRate} Hz (allowed: ${allowedRates(f.codec).join(", ")})`);
  }
}

export function createEncoder(wire: AudioFormat, frameMs: number, log?: Logger): Encoder {
  checkRate(wire);
  const frameSamples = (wire.sampleRate * frameMs) / 1000;
  switch (wire.codec) {
    case "pcm":
      return { frameSamples, encode: (b) => b, acceptsPartialFrames: true };
    case "g711a":
    case "g711u":
      return { frameSamples, encode: g711[wire.codec].encode, acceptsPartialFrames: true };
    case "opus": {
      const opus = createOpus(wire.sampleRate, log);
      return { frameSamples, encode: (b) => opus.encode(b, frameSamples), acceptsPartialFrames: false };
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
