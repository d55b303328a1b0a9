/** What a codec is to the rest of the device: an encoder and a decoder at a wire rate. */
import type { Logger } from "../log/logger";

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

/** What each codec file exports (one row of registry.ts): its encoder and decoder at a wire rate the table allows. */
export interface CodecImpl {
  encoder(sampleRate: number, frameSamples: number, log?: Logger): (pcm: Buffer) => Buffer;
  decoder(sampleRate: number, log?: Logger): Decoder;
}
