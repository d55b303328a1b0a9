/**
 * Sample-rate conversion of 16-bit little-endian mono PCM for the echo agent.
 * Linear interpolation: good enough to hear the echo and to test lengths, but it
 * aliases when downsampling. A band-limited resampler replaces it when audio quality
 * matters (tracked as a later issue); nothing outside the emulator depends on it.
 */
export function resamplePcm16(input: Buffer, fromRate: number, toRate: number): Buffer {
  if (fromRate === toRate) return Buffer.from(input);
  const inCount = Math.floor(input.length / 2);
  const outCount = Math.round((inCount * toRate) / fromRate);
  const out = Buffer.alloc(outCount * 2);
  if (inCount === 0) return out;
  const step = fromRate / toRate;
  for (let i = 0; i < outCount; i++) {
    const pos = i * step;
    const i0 = Math.min(Math.floor(pos), inCount - 1);
    const i1 = Math.min(i0 + 1, inCount - 1);
    const frac = pos - i0;
    const a = input.readInt16LE(i0 * 2);
    const b = input.readInt16LE(i1 * 2);
    out.writeInt16LE(Math.round(a + (b - a) * frac), i * 2);
  }
  return out;
}
