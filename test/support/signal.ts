/** Test signals and measurements for audio tests. */

export function tone(rate: number, seconds: number, freqs: number[], amplitude = 0.3): Buffer {
  const n = Math.round(rate * seconds);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const f of freqs) v += Math.sin((2 * Math.PI * f * i) / rate);
    b.writeInt16LE(Math.round((v / freqs.length) * amplitude * 32767), i * 2);
  }
  return b;
}

export function samples(pcm: Buffer): Float64Array {
  const out = new Float64Array(pcm.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = pcm.readInt16LE(i * 2) / 32768;
  return out;
}

/** Amplitude of the `freq` component (single-bin DFT over the given samples). */
export function amplitudeAt(x: Float64Array, rate: number, freq: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    const p = (2 * Math.PI * freq * i) / rate;
    re += x[i]! * Math.cos(p);
    im -= x[i]! * Math.sin(p);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

export function rms(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** The lag (0..maxLag) at which `y` best matches `x` (y[i + lag] ≈ x[i]). */
export function bestLag(x: Float64Array, y: Float64Array, maxLag: number): number {
  let best = 0;
  let bestScore = -Infinity;
  const n = Math.min(x.length, y.length - maxLag);
  for (let lag = 0; lag <= maxLag; lag++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * y[i + lag]!;
    if (s > bestScore) {
      bestScore = s;
      best = lag;
    }
  }
  return best;
}

/** Signal-to-noise ratio (dB) of `y` against reference `x` after aligning by `lag`, over [from, to) of x. */
export function snrDb(x: Float64Array, y: Float64Array, lag: number, from = 0, to = x.length): number {
  let sig = 0;
  let err = 0;
  for (let i = from; i < Math.min(to, y.length - lag); i++) {
    sig += x[i]! * x[i]!;
    const e = x[i]! - y[i + lag]!;
    err += e * e;
  }
  return 10 * Math.log10(sig / Math.max(err, 1e-20));
}
