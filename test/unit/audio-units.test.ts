import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Framer } from "../../src/audio/framer";
import { Player } from "../../src/audio/playback/player";
import type { PcmSink } from "../../src/audio/playback/sink";
import { readPcmFile, wavHeader } from "../../src/audio/wav";
import { Backoff } from "../../src/net/backoff";
import { FakeClock } from "../support/fake-clock";

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

class RecordingSink implements PcmSink {
  readonly format = { sampleRate: 16000, channels: 1 };
  readonly description = "test";
  writes: Array<{ at: number; bytes: number }> = [];
  drops = 0;
  constructor(private readonly clock: FakeClock) {}
  write(chunk: Buffer, done: () => void): void {
    this.writes.push({ at: this.clock.now(), bytes: chunk.length });
    done();
  }
  drop(): void {
    this.drops++;
  }
  async close(): Promise<void> {}
  onError(): void {}
}

describe("Player", () => {
  test("keeps about 60 ms in the device, 20 ms chunks, and says when it drained", () => {
    const clock = new FakeClock();
    const sink = new RecordingSink(clock);
    const p = new Player(sink, clock, 20, 60);
    let drained = 0;
    p.on("drained", () => drained++);
    p.write(Buffer.alloc(32_000)); // 1 s
    // At t=0 only what fits in the 60 ms device queue was handed over (plus the chunk that crosses it).
    assert.ok(sink.writes.length <= 4, `${sink.writes.length} chunks written at once`);
    assert.ok(sink.writes.every((w) => w.bytes === 640));
    clock.advance(500);
    const byHalf = sink.writes.reduce((n, w) => n + w.bytes, 0);
    assert.ok(byHalf >= 500 * 32 && byHalf <= 580 * 32, `written by 500 ms: ${byHalf / 32} ms`);
    assert.ok(p.playing);
    clock.advance(600);
    assert.equal(sink.writes.reduce((n, w) => n + w.bytes, 0), 32_000);
    assert.equal(drained, 1);
    assert.equal(p.playing, false);
  });

  test("flush drops the queue at once, drops the device's buffer, and reports drained", () => {
    const clock = new FakeClock();
    const sink = new RecordingSink(clock);
    const p = new Player(sink, clock, 20, 60);
    let drained = 0;
    p.on("drained", () => drained++);
    p.write(Buffer.alloc(32_000));
    clock.advance(200);
    const before = sink.writes.length;
    p.flush();
    assert.equal(sink.drops, 1);
    assert.equal(drained, 1);
    clock.advance(2000);
    assert.equal(sink.writes.length, before, "nothing is written after a flush");
    p.write(Buffer.alloc(640));
    assert.equal(sink.writes.length, before + 1, "playback resumes with new audio");
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
