/**
 * Software volume for reply audio. The curve is a cube, the one PulseAudio and
 * alsamixer's "mapped" volume use: gain = (percent / 100)³, i.e. 60·log10(p/100) dB
 * (100 % → 0 dB, 80 % → −5.8 dB, 50 % → −18 dB, 20 % → −42 dB, 0 % → silence),
 * so equal steps of the slider sound like roughly equal steps of loudness.
 */
import type { SampleFormat } from "../../core/pcm";

export function percentToGain(percent: number): number {
  const p = Math.min(100, Math.max(0, percent)) / 100;
  return p * p * p;
}

/** The gain in dB (−Infinity for silence), for logs and status. */
export function gainToDb(gain: number): number {
  return 20 * Math.log10(gain);
}

/**
 * A copy of interleaved PCM scaled by `gain`, clamped to the sample range. The
 * input is never changed: whoever passed it may still hold it. Samples are read
 * in the machine's byte order, which is little-endian on every board we run on.
 */
export function applyGain(pcm: Buffer, gain: number, format: SampleFormat = "S16_LE"): Buffer {
  // A buffer of its own (offset 0): the caller's may sit at an odd offset, which a typed-array view cannot.
  const out = Buffer.from(new ArrayBuffer(pcm.length));
  if (gain === 0) return out;
  pcm.copy(out);
  const wide = format === "S32_LE";
  const size = wide ? 4 : 2;
  const count = Math.floor(out.length / size);
  const max = wide ? 2147483647 : 32767;
  const min = -max - 1;
  const samples = wide ? new Int32Array(out.buffer, 0, count) : new Int16Array(out.buffer, 0, count);
  for (let i = 0; i < count; i++) {
    const v = Math.round(samples[i]! * gain);
    samples[i] = v > max ? max : v < min ? min : v;
  }
  return out;
}
