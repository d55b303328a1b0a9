import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Framer } from "../../src/device/framer";
import { readPcmFile, wavHeader } from "../../src/audio/wav";
import { Backoff } from "../../src/core/backoff";

describe("Framer", () => {
  test("cuts any chunking into exact frames, in order, keeping the remainder", () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    for (const step of [1, 7, 64, 100, 333, 1000]) {
      const f = new Framer(64);
      const frames: Buffer[] = [];
      for (let i = 0; i < data.length; i += step) f.push(data.subarray(i, i + step), (fr) => frames.push(Buffer.from(fr)));
      assert.ok(frames.every((fr) => fr.length === 64));
      assert.deepEqual(Buffer.concat([...frames, f.takePartial()]), data, `step ${step}`);
      assert.equal(f.pending, 0);
    }
  });

  test("refuses a frame size that is not a positive whole number", () => {
    assert.throws(() => new Framer(0));
    assert.throws(() => new Framer(1.5));
  });
});

describe("Backoff", () => {
  test("doubles up to the cap, with jitter below the nominal delay, and resets", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
    b.reset();
    assert.equal(b.next(), 100);
    const j = new Backoff({ initialMs: 1000, maxMs: 1000, random: () => 1, jitter: 0.5 });
    assert.equal(j.next(), 500);
  });
});

describe("WAV", () => {
  test("header round trip and raw passthrough", () => {
    const pcm = Buffer.from([1, 0, 2, 0, 3, 0]);
    const wav = Buffer.concat([wavHeader({ sampleRate: 16000, channels: 1 }, pcm.length), pcm]);
    assert.deepEqual(readPcmFile(wav), pcm);
    assert.deepEqual(readPcmFile(pcm), pcm);
  });
});
