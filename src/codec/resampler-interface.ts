/** What every sample-rate converter offers (the polyphase FIR and the libsamplerate one). */
export interface Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Feeds PCM in; returns what the filter has ready (its delay holds a few ms back). */
  process(pcm: Buffer): Buffer;
  close(): void;
}
