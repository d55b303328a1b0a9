/**
 * Interleaved little-endian PCM as the audio drivers see it. `sampleFormat` is
 * S16_LE unless a board's device insists on S32_LE.
 */
/** Rates a sound card may run at, in Hz (the rates of the PCM wire codec too). */
export const DEVICE_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000] as const;

export type SampleFormat = "S16_LE" | "S32_LE";

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  sampleFormat?: SampleFormat;
}

export function bytesPerSample(f: PcmFormat): number {
  return f.sampleFormat === "S32_LE" ? 4 : 2;
}

export function bytesPerFrame(f: PcmFormat): number {
  return f.channels * bytesPerSample(f);
}

export function bytesPerMs(f: PcmFormat): number {
  return (f.sampleRate * bytesPerFrame(f)) / 1000;
}

export function bytesFor(f: PcmFormat, ms: number): number {
  return Math.round((f.sampleRate * ms) / 1000) * bytesPerFrame(f);
}

export function msFor(f: PcmFormat, bytes: number): number {
  return bytes / bytesPerMs(f);
}
