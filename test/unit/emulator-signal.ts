/**
 * Test audio for the emulator's codec and VAD tests: a deterministic speech-like signal,
 * real synthetic speech from espeak-ng when it is installed, and the SNR measure the
 * codec tests judge by.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** Vowel formants (Hz) the synthetic voice moves between, one per syllable. */
const VOWELS: Array<[number, number, number]> = [
  [730, 1090, 2440], // a
  [270, 2290, 3010], // i
  [300, 870, 2240], // u
  [530, 1840, 2480], // e
  [570, 840, 2410], // o
];
const SYLLABLE_S = 0.22;
const GAP_S = 0.06;

/**
 * Voiced speech in the rough: a glottal pulse train (f0 100–140 Hz, drifting) whose
 * harmonics are shaped by three formants, in syllables of 220 ms with 60 ms pauses and a
 * smooth attack and decay. Deterministic, and a function of time rather than of sample
 * index, with harmonics below 3.4 kHz: calls at two rates sample (nearly) the same
 * continuous signal, so one can serve as the reference for the other after resampling.
 */
export function speechLike(sampleRate: number, seconds: number, peak = 12000): Buffer {
  const n = Math.round(sampleRate * seconds);
  const out = Buffer.alloc(n * 2);
  const period = SYLLABLE_S + GAP_S;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const syllable = Math.floor(t / period);
    const inSyllable = t - syllable * period;
    const env = inSyllable < SYLLABLE_S ? Math.sin((Math.PI * inSyllable) / SYLLABLE_S) ** 0.6 : 0;
    // f0(t) = 120 + 20 sin(2π·0.7t) + 5 sin(2π·5.3t), integrated in closed form.
    const f0 = 120 + 20 * Math.sin(2 * Math.PI * 0.7 * t) + 5 * Math.sin(2 * Math.PI * 5.3 * t);
    const phase = 2 * Math.PI * 120 * t - (20 / 0.7) * Math.cos(2 * Math.PI * 0.7 * t) - (5 / 5.3) * Math.cos(2 * Math.PI * 5.3 * t);
    const formants = VOWELS[syllable % VOWELS.length] as [number, number, number];
    let v = 0;
    for (let k = 1; k * f0 < 3400; k++) {
      const f = k * f0;
      // Each harmonic's level: a falling glottal slope times resonance bumps at the formants.
      const gain = formants.reduce((g, fc, j) => g + 1 / (1 + ((f - fc) / (80 + 40 * j)) ** 2), 0.05) / Math.sqrt(k);
      v += gain * Math.sin(k * phase);
    }
    out.writeInt16LE(Math.round(peak * 0.35 * env * v), i * 2);
  }
  return out;
}

/** Digital silence: the VAD's "nobody speaks". */
export function silence(sampleRate: number, seconds: number): Buffer {
  return Buffer.alloc(Math.round(sampleRate * seconds) * 2);
}

const spoken = new Map<number, Buffer | null>();

/**
 * A sentence spoken by espeak-ng, resampled by sox to `sampleRate` (without dither, so the
 * same at every call), mono S16_LE; null when either tool is missing (the tests that need
 * it are then skipped, saying why).
 */
export function espeakSpeech(sampleRate: number): Buffer | null {
  if (!spoken.has(sampleRate)) spoken.set(sampleRate, speak(sampleRate, "Hello, please talk to me about the weather."));
  return spoken.get(sampleRate) ?? null;
}

function speak(sampleRate: number, text: string): Buffer | null {
  const dir = mkdtempSync(path.join(tmpdir(), "talkbox-espeak-"));
  try {
    const wav = path.join(dir, "speech.wav");
    const raw = path.join(dir, "speech.raw");
    execFileSync("espeak-ng", ["-w", wav, text], { stdio: "ignore" });
    execFileSync("sox", ["-D", wav, "-r", String(sampleRate), "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", raw], { stdio: "ignore" });
    return readFileSync(raw);
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function samples(pcm: Buffer): Int16Array {
  const copy = Buffer.from(pcm);
  return new Int16Array(copy.buffer, copy.byteOffset, copy.length >> 1);
}

/**
 * The lag (in samples, 0..maxLag) at which `got` best matches `ref` — a codec's delay —
 * by cross-correlation normalised by the energy of the overlapping part of `got`.
 */
export function bestLag(ref: Int16Array, got: Int16Array, maxLag: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = 0; lag <= maxLag; lag++) {
    let dot = 0;
    let energy = 0;
    const n = Math.min(ref.length, got.length - lag);
    for (let i = 0; i < n; i++) {
      const g = got[i + lag] as number;
      dot += (ref[i] as number) * g;
      energy += g * g;
    }
    const score = energy > 0 ? dot / Math.sqrt(energy) : -Infinity;
    if (score > bestScore) {
      bestScore = score;
      best = lag;
    }
  }
  return best;
}

/** SNR in dB of `got` against `ref` after shifting `got` by its best lag (up to `maxLagMs`). */
export function alignedSnr(refPcm: Buffer, gotPcm: Buffer, sampleRate: number, maxLagMs = 20): { snrDb: number; lag: number } {
  const ref = samples(refPcm);
  const got = samples(gotPcm);
  const lag = bestLag(ref, got, Math.round((sampleRate * maxLagMs) / 1000));
  const n = Math.min(ref.length, got.length - lag);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const r = ref[i] as number;
    const e = r - (got[i + lag] as number);
    signal += r * r;
    noise += e * e;
  }
  return { snrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise), lag };
}
