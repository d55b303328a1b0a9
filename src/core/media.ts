/**
 * Media vocabulary shared by every layer: the wire codecs and what each allows. This table
 * is the one place a codec's rates and frame rules are written; the config schemas, the
 * codec registry and the backends derive from it.
 */

interface CodecRules {
  /** Rates the codec may run at on the wire, in Hz. */
  readonly rates: readonly number[];
  /** Frame durations the codec accepts, in ms (null: any whole number of samples). */
  readonly frameMs: readonly number[] | null;
  /** Whether a frame shorter than the rest may be sent (at the end of a turn). */
  readonly acceptsPartialFrames: boolean;
  /** Whether decoding depends on earlier packets (a reply's end resets it). */
  readonly stateful: boolean;
}

export const CODEC_TABLE = {
  pcm: { rates: [8000, 16000, 22050, 24000, 32000, 44100, 48000], frameMs: null, acceptsPartialFrames: true, stateful: false },
  opus: { rates: [8000, 12000, 16000, 24000, 48000], frameMs: [2.5, 5, 10, 20, 40, 60, 80, 100, 120], acceptsPartialFrames: false, stateful: true },
  g711a: { rates: [8000], frameMs: null, acceptsPartialFrames: true, stateful: false },
  g711u: { rates: [8000], frameMs: null, acceptsPartialFrames: true, stateful: false },
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
