import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createOpus } from "../../src/codec/opus";
import { Downlink } from "../../src/device/downlink";
import { amplitudeAt, rms, samples, tone } from "../support/signal";

const db = (a: number, ref: number): number => 20 * Math.log10(a / ref);

/** A 24 kHz reply as the server sends it: 60 ms Opus packets. */
function opusReply(freq: number, seconds = 1): Buffer[] {
  const enc = createOpus(24000);
  const pcm = tone(24000, seconds, [freq], 0.5);
  const frame = 1440;
  const packets: Buffer[] = [];
  for (let off = 0; off + frame * 2 <= pcm.length; off += frame * 2) packets.push(enc.encode(pcm.subarray(off, off + frame * 2), frame));
  return packets;
}

describe("downlink", () => {
  for (const rate of [16000, 48000]) {
    test(`24 kHz Opus on a ${rate} Hz speaker decodes straight to ${rate} Hz: whole packets out, the tone intact`, async () => {
      const down = await Downlink.create({ codec: "opus", sampleRate: 24000, channels: 1 }, { sampleRate: rate, channels: 1 });
      const out = opusReply(1000).map((p) => down.decode(p));
      down.close();
      // No resampler in the way: every 60 ms packet gives exactly 60 ms at the device rate.
      for (const o of out) assert.equal(o.length, (rate * 0.06) * 2);
      const x = samples(Buffer.concat(out)).subarray(rate / 5, rate - rate / 5);
      assert.ok(Math.abs(db(amplitudeAt(x, rate, 1000), 0.5)) < 0.5);
    });
  }

  test("24 kHz Opus on a 16 kHz speaker keeps the top of the band (a resampler's transition band would dull 7 kHz)", async () => {
    const down = await Downlink.create({ codec: "opus", sampleRate: 24000, channels: 1 }, { sampleRate: 16000, channels: 1 });
    const x = samples(Buffer.concat(opusReply(7000).map((p) => down.decode(p)))).subarray(3200, 12800);
    down.close();
    const level = db(amplitudeAt(x, 16000, 7000), 0.5);
    assert.ok(Math.abs(level) < 1, `7 kHz at ${level.toFixed(2)} dB`);
  });

  test("24 kHz Opus on a 16 kHz speaker: what lies above 8 kHz does not fold back", async () => {
    const down = await Downlink.create({ codec: "opus", sampleRate: 24000, channels: 1 }, { sampleRate: 16000, channels: 1 });
    const x = samples(Buffer.concat(opusReply(10000).map((p) => down.decode(p)))).subarray(3200, 12800);
    down.close();
    assert.ok(db(rms(x) * Math.SQRT2, 0.5) < -40);
  });

  test("24 kHz Opus on a 44.1 kHz speaker (not an Opus rate) is decoded at 24 kHz and resampled", async () => {
    const down = await Downlink.create({ codec: "opus", sampleRate: 24000, channels: 1 }, { sampleRate: 44100, channels: 1 });
    const out = Buffer.concat(opusReply(1000).map((p) => down.decode(p)));
    down.close();
    assert.ok(Math.abs(out.length / 2 - 44100 * 0.96) < 100, `${out.length / 2} samples for 0.96 s`);
    const x = samples(out).subarray(8820, 35280);
    assert.ok(Math.abs(db(amplitudeAt(x, 44100, 1000), 0.5)) < 0.5);
  });
});
