/** Interleaved signed 16-bit little-endian PCM: the format between the audio drivers and the codecs. */
export interface PcmFormat {
  sampleRate: number;
  channels: number;
}

export const BYTES_PER_SAMPLE = 2;

export function bytesPerMs(f: PcmFormat): number {
  return (f.sampleRate * f.channels * BYTES_PER_SAMPLE) / 1000;
}

export function bytesFor(f: PcmFormat, ms: number): number {
  const frameBytes = f.channels * BYTES_PER_SAMPLE;
  return Math.round((f.sampleRate * ms) / 1000) * frameBytes;
}

export function msFor(f: PcmFormat, bytes: number): number {
  return bytes / bytesPerMs(f);
}
