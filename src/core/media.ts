/**
 * Media vocabulary shared by every layer: the wire codecs and what each allows. This table
 * is the one place a codec's rates and frame rules are written; the config schema, the board
 * profile, the codec registry, Opus and the emulator read them from here. (Each backend's wire
 * names for codecs are its protocol's, and stay in its folder.)
 */
import { DEVICE_RATES } from "./pcm";

interface CodecRules {
  /** Rates the codec may run at on the wire, in Hz. */
  readonly rates: readonly number[];
  /** Frame durations the codec accepts, in ms (null: any whole number of samples). */
  readonly frameMs: readonly number[] | null;
  /** Whether a frame shorter than the rest may be sent (at the end of a turn). */
  readonly acceptsPartialFrames: boolean;
  /** The encoder keeps state from frame to frame: a frame (even of silence) is encoded each time, never reused. */
  readonly stateful: boolean;
  /** The decoder can produce any of `rates`, whatever rate the stream was encoded at (no resampling needed). */
  readonly decodesToAnyRate: boolean;
}

export const CODEC_TABLE = {
  pcm: { rates: DEVICE_RATES, frameMs: null, acceptsPartialFrames: true, stateful: false, decodesToAnyRate: false },
  opus: {
    rates: [8000, 12000, 16000, 24000, 48000],
    frameMs: [2.5, 5, 10, 20, 40, 60, 80, 100, 120],
    acceptsPartialFrames: false,
    stateful: true,
    decodesToAnyRate: true,
  },
  g711a: { rates: [8000], frameMs: null, acceptsPartialFrames: true, stateful: false, decodesToAnyRate: false },
  g711u: { rates: [8000], frameMs: null, acceptsPartialFrames: true, stateful: false, decodesToAnyRate: false },
} as const satisfies Record<string, CodecRules>;

export type AudioCodec = keyof typeof CODEC_TABLE;

/** The codec names as a non-empty tuple (what z.enum takes). */
export const CODECS = Object.keys(CODEC_TABLE) as [AudioCodec, ...AudioCodec[]];

export interface AudioFormat {
  codec: AudioCodec;
  sampleRate: number;
  channels: 1;
}

/** Rates a codec may run at on the wire. */
export function allowedRates(codec: AudioCodec): readonly number[] {
  return CODEC_TABLE[codec].rates;
}

export function codecRules(codec: AudioCodec): CodecRules {
  return CODEC_TABLE[codec];
}

/** The uplink frame for a codec that takes any frame length; one with fixed frames uses its configured one (audio.opus_frame_ms). */
export const FREE_FRAME_MS = 20;

/** "pcm/16000": a format as log lines and messages name it. */
export function formatName(f: AudioFormat): string {
  return `${f.codec}/${f.sampleRate}`;
}
