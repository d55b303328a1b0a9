import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createResampler } from "../../src/codec/resampler";
import { fromMonoS16, toMonoS16 } from "../../src/codec/pcm16";
import { Uplink } from "../../src/device/uplink";
import { Downlink } from "../../src/device/downlink";
import { amplitudeAt, rms, samples, tone } from "../support/signal";
import { createOpus } from "../../src/codec/opus";

async function resample(pcm: Buffer, from: number, to: number, chunkMs = 20): Promise<Buffer> {
  const r = await createResampler(from, to);
  const chunk = (from * chunkMs) / 1000 * 2;
  const out: Buffer[] = [];
  for (let off = 0; off < pcm.length; off += chunk) out.push(r.process(pcm.subarray(off, off + chunk)));
  r.close();
  return Buffer.concat(out);
}

const db = (a: number, ref: number): number => 20 * Math.log10(a / ref);

describe("resampler", () => {
  for (const [from, to] of [[48000, 16000], [24000, 16000], [16000, 8000], [44100, 16000]] as const) {
    test(`${from} → ${to} Hz: passband kept, what lies above the new Nyquist does not alias`, async () => {
      const pass = samples(await resample(tone(from, 1, [1000], 0.5), from, to));
      const steady = pass.subarray(to / 10, to - to / 10);
      assert.ok(Math.abs(db(amplitudeAt(steady, to, 1000), 0.5)) < 0.5, "1 kHz must come through within ±0.5 dB");
      // A tone above the output's Nyquist: dropping samples would fold it back at full level.
      const high = 0.7 * from / 2 > to / 2 ? Math.round(to / 2 + (from / 2 - to / 2) / 2) : Math.round(to * 0.6);
      const alias = Math.abs(to - high);
      const out = samples(await resample(tone(from, 1, [high], 0.5), from, to)).subarray(to / 10, to - to / 10);
      const level = Math.max(rms(out) * Math.SQRT2, amplitudeAt(out, to, alias));
      assert.ok(db(level, 0.5) < -40, `${high} Hz leaked at ${db(level, 0.5).toFixed(1)} dB (alias at ${alias} Hz)`);
    });
  }

  for (const [from, to] of [[16000, 48000], [24000, 48000], [8000, 16000]] as const) {
    test(`${from} → ${to} Hz: the tone is kept and no images appear above ${from / 2} Hz`, async () => {
      const out = samples(await resample(tone(from, 1, [1000], 0.5), from, to)).subarray(to / 10, to - to / 10);
      assert.ok(Math.abs(db(amplitudeAt(out, to, 1000), 0.5)) < 0.5);
      // The first image of 1 kHz sits at from − 1 kHz.
      const image = amplitudeAt(out, to, from - 1000);
      assert.ok(db(image, 0.5) < -40, `image at ${from - 1000} Hz: ${db(image, 0.5).toFixed(1)} dB`);
    });
  }

  test("equal rates pass samples through untouched", async () => {
    const pcm = tone(16000, 0.1, [440]);
    assert.ok((await resample(pcm, 16000, 16000)).equals(pcm));
  });
});

describe("device layouts", () => {
  test("stereo S32 → mono S16 averages channels; mono S16 → stereo S32 duplicates", () => {
    const st = Buffer.alloc(16);
    st.writeInt32LE(1000 * 65536, 0);
    st.writeInt32LE(3000 * 65536, 4);
    st.writeInt32LE(-2000 * 65536, 8);
    st.writeInt32LE(-2000 * 65536, 12);
    const mono = toMonoS16(st, { sampleRate: 48000, channels: 2, sampleFormat: "S32_LE" });
    assert.deepEqual([mono.readInt16LE(0), mono.readInt16LE(2)], [2000, -2000]);
    const back = fromMonoS16(mono, { sampleRate: 48000, channels: 2, sampleFormat: "S32_LE" });
    assert.equal(back.length, 16);
    assert.deepEqual([back.readInt32LE(0), back.readInt32LE(4), back.readInt32LE(8)], [2000 * 65536, 2000 * 65536, -2000 * 65536]);
  });

  test("uplink: a 48 kHz S32 stereo HAT becomes 16 kHz mono 20 ms frames with the tone intact", async () => {
    const mic = { sampleRate: 48000, channels: 2, sampleFormat: "S32_LE" as const };
    const up = await Uplink.create(mic, { codec: "pcm", sampleRate: 16000, channels: 1 }, 20);
    const mono = tone(48000, 1, [1000], 0.5);
    const hw = Buffer.alloc(mono.length * 4);
    for (let i = 0; i < mono.length / 2; i++) {
      const v = mono.readInt16LE(i * 2) * 65536;
      hw.writeInt32LE(v, i * 8);
      hw.writeInt32LE(v, i * 8 + 4);
    }
    const frames: Buffer[] = [];
    for (let off = 0; off < hw.length; off += 7680) up.push(hw.subarray(off, off + 7680), (f) => frames.push(up.encode(f)));
    assert.ok(frames.length >= 48 && frames.every((f) => f.length === 640));
    const x = samples(Buffer.concat(frames)).subarray(1600, 14400);
    assert.ok(Math.abs(db(amplitudeAt(x, 16000, 1000), 0.5)) < 0.5);
    up.close();
  });

  test("uplink: a turn's incomplete last Opus frame is padded with silence and sent, not dropped", async () => {
    const up = await Uplink.create({ sampleRate: 16000, channels: 1 }, { codec: "opus", sampleRate: 16000, channels: 1 }, 20);
    const said = tone(16000, 0.05, [440], 0.5); // 2.5 frames
    const packets: Buffer[] = [];
    up.push(said, (f) => packets.push(up.encode(f)));
    assert.equal(packets.length, 2);
    const tail = up.takePartial();
    assert.ok(tail, "the last 10 ms were dropped");
    assert.equal(up.pendingBytes, 0);
    const opus = createOpus(16000);
    const heard = [...packets, tail].map((p) => opus.decode(p));
    assert.ok(heard.every((f) => f.length === 640), "each packet decodes to one whole 20 ms frame");
    // Opus delays by its look-ahead (6.5 ms): the tone's last 10 ms are in the third frame's first half.
    const last = samples(heard[2]!);
    assert.ok(rms(last.subarray(0, 120)) > 0.5 * rms(samples(said)), `the tail is not in the last packet (rms ${rms(last.subarray(0, 120)).toFixed(3)})`);
    up.close();
  });

  test("downlink: a 24 kHz reply plays on a 48 kHz S32 stereo device", async () => {
    const spk = { sampleRate: 48000, channels: 2, sampleFormat: "S32_LE" as const };
    const down = await Downlink.create({ codec: "pcm", sampleRate: 24000, channels: 1 }, spk);
    const out: Buffer[] = [];
    const reply = tone(24000, 1, [1000], 0.5);
    for (let off = 0; off < reply.length; off += 1920) out.push(down.decode(reply.subarray(off, off + 1920)));
    const dev = Buffer.concat(out);
    assert.equal(dev.length % 8, 0);
    const left = toMonoS16(dev, spk);
    const x = samples(left).subarray(4800, 43200);
    assert.ok(Math.abs(db(amplitudeAt(x, 48000, 1000), 0.5)) < 0.5);
    down.close();
  });
});
