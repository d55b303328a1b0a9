import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MAX_PHASES, PolyphaseResampler, ratio } from "../../src/codec/polyphase";
import { createResampler } from "../../src/codec/resampler";
import { DEVICE_RATES } from "../../src/core/pcm";
import { amplitudeAt, bestLag, rms, samples, snrDb, tone } from "../support/signal";

const db = (a: number, ref: number): number => 20 * Math.log10(a / ref);

function run(r: { process(b: Buffer): Buffer }, pcm: Buffer, chunkBytes: number): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < pcm.length; off += chunkBytes) out.push(r.process(pcm.subarray(off, off + chunkBytes)));
  return Buffer.concat(out);
}

/** One second of a tone through a fresh resampler in 20 ms chunks; the steady middle of the output. */
function through(from: number, to: number, freq: number): Float64Array {
  const out = run(new PolyphaseResampler(from, to), tone(from, 1, [freq], 0.5), Math.round(from / 50) * 2);
  return samples(out).subarray(Math.round(to / 10), Math.round(to - to / 10));
}

const DOWN = [[24000, 16000], [48000, 16000], [44100, 16000], [22050, 16000], [16000, 8000], [48000, 44100]] as const;
const UP = [[16000, 24000], [16000, 48000], [8000, 16000], [16000, 44100], [8000, 44100], [24000, 48000]] as const;

describe("polyphase resampler", () => {
  test("every pair of rates the config allows is a ratio it takes", () => {
    for (const a of DEVICE_RATES) for (const b of DEVICE_RATES) if (a !== b) assert.ok(ratio(a, b), `${a} → ${b}`);
    assert.deepEqual(ratio(24000, 16000), { up: 2, down: 3 });
    assert.equal(ratio(44101, 16000), null, `needs 16000 phases, more than ${MAX_PHASES}`);
  });

  for (const [from, to] of [...DOWN, ...UP]) {
    const nyquist = Math.min(from, to) / 2;
    test(`${from} → ${to} Hz: flat within ±0.5 dB up to 80 % of ${nyquist} Hz`, () => {
      for (const f of [100, 1000, Math.round(0.5 * nyquist), Math.round(0.78 * nyquist)]) {
        const level = db(amplitudeAt(through(from, to, f), to, f), 0.5);
        assert.ok(Math.abs(level) < 0.5, `${f} Hz came out at ${level.toFixed(2)} dB`);
      }
    });
  }

  for (const [from, to] of DOWN) {
    test(`${from} → ${to} Hz: what lies above ${to / 2} Hz does not fold back (≤ −60 dB)`, () => {
      for (const f of [Math.round(to / 2 + 200), Math.round((to / 2 + from / 2) / 2), Math.round(from / 2 - 200)]) {
        // Everything that comes out is alias: the tone itself cannot exist at the new rate.
        const level = db(rms(through(from, to, f)) * Math.SQRT2, 0.5);
        assert.ok(level < -60, `${f} Hz leaked at ${level.toFixed(1)} dB`);
      }
    });
  }

  for (const [from, to] of UP) {
    test(`${from} → ${to} Hz: no images of the input above ${from / 2} Hz (≤ −60 dB)`, () => {
      const f = Math.round(0.7 * (from / 2));
      const out = through(from, to, f);
      for (const image of [from - f, from + f].filter((i) => i < to / 2)) {
        const level = db(amplitudeAt(out, to, image), 0.5);
        assert.ok(level < -60, `image at ${image} Hz: ${level.toFixed(1)} dB`);
      }
    });
  }

  for (const [from, to] of [...DOWN, ...UP]) {
    test(`${from} → ${to} Hz: the same signal as made at ${to} Hz, a whole number of samples later (≥ 60 dB SNR)`, () => {
      // Tones well inside the passband, made at both rates from the same continuous function.
      const freqs = [310, 1230, Math.round(0.6 * (Math.min(from, to) / 2))];
      const y = samples(run(new PolyphaseResampler(from, to), tone(from, 0.5, freqs, 0.6), Math.round(from / 50) * 2));
      const x = samples(tone(to, 0.5, freqs, 0.6));
      const lag = bestLag(x.subarray(to / 20), y.subarray(to / 20), 256);
      const snr = snrDb(x, y, lag, to / 20, to / 2 - to / 20);
      assert.ok(snr >= 60, `SNR ${snr.toFixed(1)} dB at lag ${lag}`);
    });
  }

  test("streaming: any chunking gives the same samples, and as many as the ratio says", () => {
    const input = tone(24000, 0.5, [440, 3000], 0.6);
    const whole = run(new PolyphaseResampler(24000, 16000), input, input.length);
    assert.equal(whole.length / 2, Math.ceil((input.length / 2) * (2 / 3)));
    let seed = 7;
    const sizes = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 2 * (1 + (seed % 700));
    };
    const r = new PolyphaseResampler(24000, 16000);
    const parts: Buffer[] = [];
    for (let off = 0; off < input.length; ) {
      const n = sizes();
      parts.push(r.process(input.subarray(off, off + n)));
      off += n;
    }
    assert.ok(Buffer.concat(parts).equals(whole));
  });

  test("reads S16 at an odd byte offset (a Buffer sliced from a larger one)", () => {
    const input = tone(16000, 0.1, [500], 0.5);
    const odd = Buffer.alloc(input.length + 1);
    input.copy(odd, 1);
    assert.ok(new PolyphaseResampler(16000, 48000).process(odd.subarray(1)).equals(new PolyphaseResampler(16000, 48000).process(input)));
  });

  test("holds back only the filter's half length (≤ 2 ms) and keeps full scale without overflow", () => {
    const from = 24000;
    const to = 16000;
    const click = Buffer.alloc(from / 10 * 2);
    click.writeInt16LE(30000, 200);
    const y = samples(new PolyphaseResampler(from, to).process(click));
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i]!) > Math.abs(y[peak]!)) peak = i;
    const delayMs = (peak / to - 100 / from) * 1000;
    assert.ok(delayMs >= 0 && delayMs <= 2, `delay ${delayMs.toFixed(2)} ms`);
    // A full-scale step overshoots (Gibbs): the output clips instead of wrapping around.
    const step = Buffer.alloc((from / 10) * 2);
    for (let i = 0; i < from / 10; i++) step.writeInt16LE(i < from / 20 ? -32768 : 32767, i * 2);
    const out = samples(new PolyphaseResampler(from, to).process(step));
    // The ringing on both plateaus goes past full scale; wrapped, it would flip a sample's sign.
    const settled = Math.round(to * 0.004);
    const crossing = out.findIndex((v, i) => i > settled && v >= 0);
    assert.ok(crossing > to / 20, `crossed zero at sample ${crossing}, before the step`);
    for (let i = settled; i < out.length; i++) {
      if (Math.abs(i - crossing) <= 2) continue;
      assert.ok(i < crossing ? out[i]! < -0.5 : out[i]! > 0.5, `sample ${i} is ${out[i]!.toFixed(3)}: wrapped around`);
    }
  });
});

describe("createResampler", () => {
  test("a ratio beyond the polyphase table goes through libsamplerate and still keeps the tone", async () => {
    const r = await createResampler(44101, 16000);
    assert.ok(!(r instanceof PolyphaseResampler));
    const out = samples(run(r, tone(44101, 1, [1000], 0.5), 1764)).subarray(1600, 14400);
    r.close();
    assert.ok(Math.abs(db(amplitudeAt(out, 16000, 1000), 0.5)) < 0.5);
  });

  test("allowed rates get the polyphase filter", async () => {
    assert.ok((await createResampler(24000, 16000)) instanceof PolyphaseResampler);
  });
});
