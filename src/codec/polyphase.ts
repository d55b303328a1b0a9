/**
 * Streaming sample-rate conversion of mono S16 PCM by a rational factor L/M through a
 * polyphase FIR: conceptually upsample by L, low-pass, keep every M-th sample, but only
 * the taps that meet a real input sample are computed. Every pair of rates talkbox
 * allows is such a ratio with a small L (24 → 16 kHz is 2/3, 44.1 → 16 kHz is 160/441).
 * Plain JS on Float64Arrays, no copies in or out: about half the CPU of libsamplerate's
 * SINC_FASTEST (WASM) for the same rates, measured both alone and in the daemon.
 */
import { int16 } from "./pcm16";
import type { Resampler } from "./resampler-interface";

/** The filter: a Kaiser-windowed sinc. */
export interface PolyphaseDesign {
  /** Passband edge as a fraction of the lower Nyquist frequency; from there to that Nyquist is the transition band. */
  passband: number;
  /** Stopband attenuation in dB (images and aliases sit at least this far down). */
  attenuationDb: number;
}

/** 80 % of the band kept (as libsamplerate's SINC_FASTEST), 70 dB down beyond the new Nyquist. */
export const SPEECH_DESIGN: PolyphaseDesign = { passband: 0.8, attenuationDb: 70 };

/** Above this many phases the coefficient table grows too large; such ratios go elsewhere. */
export const MAX_PHASES = 1024;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** L/M in lowest terms, or null when L is beyond MAX_PHASES. */
export function ratio(inRate: number, outRate: number): { up: number; down: number } | null {
  const g = gcd(inRate, outRate);
  const up = outRate / g;
  return up <= MAX_PHASES ? { up, down: inRate / g } : null;
}

/** Modified Bessel function of the first kind, order 0 (for the Kaiser window). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 64 && term > 1e-12 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

/**
 * Coefficients by phase: phase p's T taps are at [p*T, p*T + T), in the order of the
 * input samples they weigh (oldest first). Each phase sums to ~1 (unity gain at DC).
 */
function designTable(up: number, down: number, inRate: number, d: PolyphaseDesign): { taps: number; table: Float64Array } {
  const protoRate = inRate * up;
  const nyquist = Math.min(inRate, (inRate * up) / down) / 2;
  const transition = nyquist * (1 - d.passband);
  const cutoff = (nyquist * (1 + d.passband)) / 2 / protoRate;
  const a = d.attenuationDb;
  const beta = a > 50 ? 0.1102 * (a - 8.7) : a >= 21 ? 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21) : 0;
  // Kaiser's estimate of the length for this attenuation and transition width.
  const length = Math.ceil((a - 7.95) / (2.285 * 2 * Math.PI * (transition / protoRate))) + 1;
  // The centre (the delay) falls on a whole output sample: the output then lines up with
  // the input's timeline at a whole-sample lag, with no fractional shift in between.
  const mid = Math.max(1, Math.ceil((length - 1) / 2 / down)) * down;
  const taps = Math.ceil((2 * mid + 1) / up);
  const n = taps * up;
  // Zeros past 2 * mid pad the length to whole phases.
  const h = new Float64Array(n);
  const i0beta = besselI0(beta);
  let sum = 0;
  for (let i = 0; i <= 2 * mid; i++) {
    const t = i - mid;
    const x = 2 * cutoff * t;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const r = t / mid;
    h[i] = 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0beta);
    sum += h[i]!;
  }
  const table = new Float64Array(n);
  for (let p = 0; p < up; p++) {
    // Output k uses h[p + j*up] on input n_k - j: stored reversed so input is read oldest first.
    for (let j = 0; j < taps; j++) table[p * taps + (taps - 1 - j)] = (h[p + j * up]! * up) / sum;
  }
  return { taps, table };
}

export class PolyphaseResampler implements Resampler {
  readonly up: number;
  readonly down: number;
  private readonly taps: number;
  private readonly table: Float64Array;
  /** Input samples from `taps - 1` before the next output's newest one; starts as silence. */
  private hist: Float64Array;
  private fill: number;
  /** Phase of the next output (k*down mod up) and the index in `hist` of its newest input sample. */
  private phase = 0;
  private newest: number;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
    design: PolyphaseDesign = SPEECH_DESIGN,
  ) {
    const r = ratio(inRate, outRate);
    if (!r) throw new Error(`${inRate} → ${outRate} Hz needs more than ${MAX_PHASES} filter phases`);
    this.up = r.up;
    this.down = r.down;
    ({ taps: this.taps, table: this.table } = designTable(r.up, r.down, inRate, design));
    this.hist = new Float64Array(this.taps + 4096);
    this.fill = this.taps - 1;
    this.newest = this.taps - 1;
  }

  /** Output lags the input by half the filter, a whole number of samples (22, 1.4 ms, at 24 → 16 kHz); nothing is dropped. */
  process(pcm: Buffer): Buffer {
    const input = int16(pcm);
    const count = input.length;
    if (this.fill + count > this.hist.length) {
      const bigger = new Float64Array(this.fill + count + 4096);
      bigger.set(this.hist.subarray(0, this.fill));
      this.hist = bigger;
    }
    const hist = this.hist;
    let fill = this.fill;
    for (let i = 0; i < count; i++) hist[fill++] = input[i]!;
    const { up, down, taps, table } = this;
    let phase = this.phase;
    let newest = this.newest;
    const max = newest < fill ? Math.floor(((fill - 1 - newest) * up + (up - 1 - phase)) / down) + 1 : 0;
    const bytes = Buffer.allocUnsafe(max * 2);
    // allocUnsafe aligns pool slices to 8 bytes, so the view never needs a copy.
    const out = new Int16Array(bytes.buffer, bytes.byteOffset, max);
    let k = 0;
    while (newest < fill) {
      const c = phase * taps;
      const x = newest - taps + 1;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += table[c + j]! * hist[x + j]!;
      const v = Math.round(acc);
      out[k++] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      phase += down;
      while (phase >= up) {
        phase -= up;
        newest++;
      }
    }
    // Keep what the next outputs still read: from taps - 1 before the next newest sample on.
    const keepFrom = Math.min(newest - (taps - 1), fill);
    hist.copyWithin(0, keepFrom, fill);
    this.fill = fill - keepFrom;
    this.newest = newest - keepFrom;
    this.phase = phase;
    return k === max ? bytes : bytes.subarray(0, k * 2);
  }

  close(): void {
    // Nothing outside the JS heap to free.
  }
}
