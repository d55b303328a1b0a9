import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createDecoder, createEncoder } from "../../src/codec/registry";
import { createOpus, isLegalOpusFrame } from "../../src/codec/opus";
import { int16 } from "../../src/codec/pcm16";
import { amplitudeAt, bestLag, samples, snrDb, tone } from "../support/signal";

/** Encodes `pcm` frame by frame and decodes it back. */
function roundTrip(codec: "pcm" | "opus" | "g711a" | "g711u", rate: number, frameMs: number, pcm: Buffer): Buffer {
  const wire = { codec, sampleRate: rate, channels: 1 as const };
  const enc = createEncoder(wire, frameMs);
  const dec = createDecoder(wire);
  const frameBytes = enc.frameSamples * 2;
  const out: Buffer[] = [];
  for (let off = 0; off + frameBytes <= pcm.length; off += frameBytes) out.push(dec.decode(enc.encode(pcm.subarray(off, off + frameBytes))));
  return Buffer.concat(out);
}

describe("codecs", () => {
  const speechLike = (rate: number): Buffer => tone(rate, 1, [300, 700, 1900]);

  test("PCM is passed through untouched", () => {
    const pcm = speechLike(16000);
    assert.ok(roundTrip("pcm", 16000, 20, pcm).equals(pcm));
  });

  for (const codec of ["g711a", "g711u"] as const) {
    test(`${codec}: one byte per sample at 8 kHz, ≥ 30 dB SNR on a speech-band signal`, () => {
      const pcm = speechLike(8000);
      const enc = createEncoder({ codec, sampleRate: 8000, channels: 1 }, 20);
      assert.equal(enc.frameSamples, 160);
      assert.equal(enc.encode(pcm.subarray(0, 320)).length, 160);
      const back = roundTrip(codec, 8000, 20, pcm);
      const snr = snrDb(samples(pcm), samples(back), 0);
      assert.ok(snr >= 30, `${codec} SNR ${snr.toFixed(1)} dB`);
    });
  }

  test("G.711 copes with a Buffer slice at an odd byte offset", () => {
    const pcm = speechLike(8000);
    const odd = Buffer.alloc(pcm.length + 1);
    pcm.copy(odd, 1);
    const slice = odd.subarray(1);
    assert.equal(slice.byteOffset % 2, 1);
    assert.deepEqual(Array.from(int16(slice).subarray(0, 5)), Array.from(int16(pcm).subarray(0, 5)));
  });

  test("G.711 refuses a rate other than 8000 Hz", () => {
    assert.throws(() => createEncoder({ codec: "g711a", sampleRate: 16000, channels: 1 }, 20), /8000/);
  });

  for (const impl of ["native", "opusscript"] as const) {
    for (const [rate, frameMs] of [[16000, 20], [16000, 40], [24000, 60]] as const) {
      test(`Opus (${impl}) at ${rate} Hz, ${frameMs} ms frames: tones survive, the codec delay is found`, () => {
        const before = process.env.TALKBOX_OPUS;
        if (impl === "opusscript") process.env.TALKBOX_OPUS = "opusscript";
        try {
          assert.equal(createOpus(rate).implementation, impl);
          const pcm = speechLike(rate);
          const back = roundTrip("opus", rate, frameMs, pcm);
          const x = samples(pcm);
          const y = samples(back);
          const lag = bestLag(x.subarray(0, rate / 4), y, rate / 50);
          // Skip the encoder's start-up; compare the steady part. Opus is perceptual, so the
          // waveform SNR is modest (11–20 dB measured here); a broken or misaligned decode
          // gives ≤ 0 dB. The per-tone levels below check the spectrum.
          const snr = snrDb(x, y, lag, rate / 5, x.length - rate / 10);
          assert.ok(snr >= 8, `Opus SNR ${snr.toFixed(1)} dB at lag ${lag}`);
          for (const f of [300, 700, 1900]) {
            const a = amplitudeAt(y.subarray(rate / 5 + lag, rate / 5 + lag + rate / 2), rate, f);
            assert.ok(a > 0.07 && a < 0.13, `${f} Hz at amplitude ${a.toFixed(3)} (sent 0.1)`);
          }
        } finally {
          if (before === undefined) delete process.env.TALKBOX_OPUS;
          else process.env.TALKBOX_OPUS = before;
        }
      });
    }

    test(`Opus (${impl}): a wrong frame length is an error, never a crash`, () => {
      const before = process.env.TALKBOX_OPUS;
      if (impl === "opusscript") process.env.TALKBOX_OPUS = "opusscript";
      try {
        const opus = createOpus(16000);
        assert.throws(() => opus.encode(Buffer.alloc(100), 320), /not a legal/);
        assert.throws(() => opus.encode(Buffer.alloc(2 * 300), 300), /not a legal/);
        assert.equal(opus.encode(Buffer.alloc(640), 320).length > 0, true);
      } finally {
        if (before === undefined) delete process.env.TALKBOX_OPUS;
        else process.env.TALKBOX_OPUS = before;
      }
    });
  }

  test("legal Opus frame sizes", () => {
    assert.ok(isLegalOpusFrame(320, 16000) && isLegalOpusFrame(960, 16000) && isLegalOpusFrame(1440, 24000));
    assert.ok(!isLegalOpusFrame(300, 16000) && !isLegalOpusFrame(441, 44100));
  });
});
