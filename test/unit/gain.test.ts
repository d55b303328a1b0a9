/** Software volume: the curve, the PCM scaling, and the playback engine applying it to what reaches the sink. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyGain, gainToDb, percentToGain } from "../../src/audio/playback/gain";
import { PlaybackEngine } from "../../src/audio/playback/engine";
import { silentLogger } from "../../src/log/logger";
import { rms, samples, tone } from "../support/signal";

const RATE = 16000;

function ratioDb(a: Buffer, b: Buffer): number {
  return 20 * Math.log10(rms(samples(a)) / rms(samples(b)));
}

describe("volume curve", () => {
  test("100 % is unity, 0 % silence, in between 60·log10(p/100) dB", () => {
    assert.equal(percentToGain(100), 1);
    assert.equal(percentToGain(0), 0);
    assert.ok(Math.abs(gainToDb(percentToGain(50)) - 60 * Math.log10(0.5)) < 1e-9);
    assert.ok(Math.abs(gainToDb(percentToGain(80)) - -5.81) < 0.01);
    assert.equal(gainToDb(percentToGain(0)), -Infinity);
  });

  test("rises with every step and stays within 0..1 for out-of-range input", () => {
    for (let p = 1; p <= 100; p++) assert.ok(percentToGain(p) > percentToGain(p - 1), `${p} % is not louder than ${p - 1} %`);
    assert.equal(percentToGain(150), 1);
    assert.equal(percentToGain(-5), 0);
  });
});

describe("applyGain", () => {
  for (const percent of [80, 50, 20]) {
    test(`a sine at ${percent} % comes out at the curve's level`, () => {
      const sine = tone(RATE, 0.5, [440], 0.5);
      const out = applyGain(sine, percentToGain(percent));
      const expected = gainToDb(percentToGain(percent));
      const got = ratioDb(out, sine);
      assert.ok(Math.abs(got - expected) < 0.1, `${got.toFixed(2)} dB, expected ${expected.toFixed(2)} dB`);
    });
  }

  test("the input is left alone; the output is a new buffer of the same length", () => {
    const sine = tone(RATE, 0.1, [440]);
    const copy = Buffer.from(sine);
    const out = applyGain(sine, 0.5);
    assert.ok(sine.equals(copy));
    assert.equal(out.length, sine.length);
    assert.notEqual(out.buffer, sine.buffer);
  });

  test("mute: every sample is zero", () => {
    const out = applyGain(tone(RATE, 0.1, [440]), 0);
    assert.ok(out.every((b) => b === 0));
  });

  test("a gain above 1 clamps at full scale instead of wrapping around", () => {
    const pcm = Buffer.alloc(8);
    [30000, -30000, 1000, -32768].forEach((v, i) => pcm.writeInt16LE(v, i * 2));
    const out = applyGain(pcm, 2);
    assert.deepEqual([0, 1, 2, 3].map((i) => out.readInt16LE(i * 2)), [32767, -32768, 2000, -32768]);
  });

  test("S32_LE samples are scaled and clamped as 32-bit", () => {
    const pcm = Buffer.alloc(12);
    [1_000_000_000, -2_000_000_000, 2_000_000_000].forEach((v, i) => pcm.writeInt32LE(v, i * 4));
    assert.deepEqual([0, 1, 2].map((i) => applyGain(pcm, 0.5, "S32_LE").readInt32LE(i * 4)), [500_000_000, -1_000_000_000, 1_000_000_000]);
    assert.deepEqual([0, 1, 2].map((i) => applyGain(pcm, 2, "S32_LE").readInt32LE(i * 4)), [2_000_000_000, -2147483648, 2147483647]);
  });

  test("a chunk at an odd byte offset is handled", () => {
    const backing = Buffer.alloc(9);
    const pcm = backing.subarray(1);
    pcm.writeInt16LE(1000, 0);
    pcm.writeInt16LE(-1000, 6);
    const out = applyGain(pcm, 0.5);
    assert.equal(out.readInt16LE(0), 500);
    assert.equal(out.readInt16LE(6), -500);
  });
});

describe("playback engine with a software gain", { timeout: 20_000 }, () => {
  test("the gain set between two replies changes the level that reaches the speaker", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-gain-"));
    const engine = await PlaybackEngine.start({ device: `dir:${dir}`, format: { sampleRate: RATE, channels: 1 }, log: silentLogger() });
    const sine = tone(RATE, 0.3, [440], 0.5);
    const play = async (): Promise<void> => {
      const drained = new Promise<void>((resolve) => engine.once("drained", () => resolve()));
      for (let i = 0; i < sine.length; i += 1280) engine.write(sine.subarray(i, i + 1280));
      engine.endOfReply();
      await drained;
    };
    try {
      await play();
      engine.setGain(percentToGain(50));
      await play();
    } finally {
      await engine.close();
    }
    // One WAV file (both replies, back to back): the first 0.3 s at unity, the next at 50 %.
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".wav")).sort();
    const pcm = Buffer.concat(files.map((f) => fs.readFileSync(path.join(dir, f)).subarray(44)));
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(pcm.length, sine.length * 2, "every sample of both replies was played");
    const first = pcm.subarray(0, sine.length);
    const second = pcm.subarray(sine.length);
    assert.ok(first.equals(sine), "unity gain leaves the audio untouched");
    const got = ratioDb(second, first);
    assert.ok(Math.abs(got - -18.06) < 0.1, `the second reply is ${got.toFixed(2)} dB against the first, expected −18.06 dB`);
  });
});
