import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { SpscRing } from "../../src/audio/playback/ring";

const bytes = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe("SPSC ring", () => {
  test("write and read across the wrap-around keep order and content", () => {
    const ring = new SpscRing(SpscRing.allocate(100));
    const out: number[] = [];
    let next = 0;
    const dst = new Uint8Array(37);
    for (let round = 0; round < 50; round++) {
      next += ring.write(bytes(next, 61));
      const n = ring.read(dst);
      out.push(...dst.subarray(0, n));
    }
    let n: number;
    while ((n = ring.read(dst)) > 0) out.push(...dst.subarray(0, n));
    assert.equal(out.length, next);
    assert.ok(out.every((b, i) => b === (i & 0xff)), "bytes came out in order");
  });

  test("full and empty: writes stop at capacity, reads at empty", () => {
    const ring = new SpscRing(SpscRing.allocate(64));
    assert.equal(ring.used, 0);
    assert.equal(ring.read(new Uint8Array(10)), 0);
    assert.equal(ring.write(bytes(0, 100)), 64);
    assert.equal(ring.free, 0);
    assert.equal(ring.write(bytes(0, 1)), 0);
    assert.equal(ring.read(new Uint8Array(64)), 64);
    assert.equal(ring.used, 0);
  });

  test("reads only whole frames when asked to align", () => {
    const ring = new SpscRing(SpscRing.allocate(64));
    ring.write(bytes(0, 7));
    assert.equal(ring.read(new Uint8Array(64), 4), 4);
    assert.equal(ring.used, 3);
  });

  test("flush empties the ring at once and counts; the end mark tracks the reply's end", () => {
    const ring = new SpscRing(SpscRing.allocate(64));
    ring.write(bytes(0, 40));
    ring.markEnd();
    assert.equal(ring.toEnd, 40);
    assert.equal(ring.endReached, false);
    ring.flush();
    assert.equal(ring.used, 0);
    assert.equal(ring.flushes, 1);
    assert.equal(ring.toEnd, null, "a flush forgets the end mark");
    ring.write(bytes(0, 10));
    ring.markEnd(5);
    ring.read(new Uint8Array(10));
    assert.equal(ring.endReached, false, "5 bytes are still to come (queued outside the ring)");
    ring.write(bytes(0, 5));
    ring.read(new Uint8Array(10));
    assert.equal(ring.endReached, true);
  });

  test("a concurrent worker reads everything in order while the main thread writes", async () => {
    const sab = SpscRing.allocate(4096);
    const ring = new SpscRing(sab);
    const total = 2_000_000;
    const worker = new Worker(
      `
      const { workerData, parentPort } = require("node:worker_threads");
      const { SpscRing } = require(workerData.ringModule);
      const ring = new SpscRing(workerData.sab);
      const dst = new Uint8Array(333);
      let seen = 0, bad = -1;
      while (seen < workerData.total) {
        const signals = ring.signals;
        const n = ring.read(dst);
        if (n === 0) { ring.waitForSignal(signals, 1000); continue; }
        for (let i = 0; i < n; i++) if (bad < 0 && dst[i] !== ((seen + i) & 0xff)) bad = seen + i;
        seen += n;
      }
      parentPort.postMessage({ seen, bad });
      `,
      { eval: true, workerData: { sab, total, ringModule: require.resolve("../../src/audio/playback/ring") } },
    );
    let written = 0;
    while (written < total) {
      const n = ring.write(bytes(written, Math.min(1000, total - written)));
      written += n;
      if (n === 0) await new Promise((r) => setImmediate(r));
    }
    const result = await new Promise<{ seen: number; bad: number }>((resolve) => worker.once("message", resolve));
    await worker.terminate();
    assert.equal(result.seen, total);
    assert.equal(result.bad, -1, `first wrong byte at ${result.bad}`);
  });

  test("audio wakes a consumer waiting for audio, not one waiting for the device; a flush or a close wakes either", async () => {
    // The worker waits (10 s at most) once per order and says how the wait ended. A signal that
    // lands before its wait begins shows as "not-equal" (never lost), one that wakes it as "ok".
    const sab = SpscRing.allocate(64);
    const ring = new SpscRing(sab);
    const worker = new Worker(
      `
      const { workerData, parentPort } = require("node:worker_threads");
      const { SpscRing } = require(workerData.ringModule);
      const ring = new SpscRing(workerData.sab);
      parentPort.on("message", ({ forData, timeoutMs }) => {
        const seen = ring.signals;
        parentPort.postMessage("waiting");
        parentPort.postMessage(ring.waitForSignal(seen, timeoutMs, forData));
      });
      `,
      { eval: true, workerData: { sab, ringModule: require.resolve("../../src/audio/playback/ring") } },
    );
    const results: string[] = [];
    worker.on("message", (m: string) => results.push(m));
    const next = (): Promise<string> => new Promise((resolve) => worker.once("message", resolve));
    const wait = async (forData: boolean, timeoutMs: number, act: () => void): Promise<string> => {
      const waiting = next();
      worker.postMessage({ forData, timeoutMs });
      assert.equal(await waiting, "waiting");
      const ended = next();
      act();
      return ended;
    };
    try {
      assert.notEqual(await wait(true, 10_000, () => ring.write(bytes(0, 8))), "timed-out", "audio wakes a consumer waiting for audio");
      assert.notEqual(await wait(true, 10_000, () => ring.markEnd()), "timed-out", "so does an end mark");
      // Waiting for the device: audio must not wake it, so its wait runs out (300 ms). The audio
      // comes as a reply's does, a write every few ms for 200 ms, so most of it lands while the
      // worker waits. A first write before the wait began ("not-equal") says nothing: try again.
      let writing: Promise<void> = Promise.resolve();
      const deltas = (): void => {
        const until = Date.now() + 200;
        writing = new Promise((done) => {
          const tick = (): void => {
            ring.read(new Uint8Array(64));
            ring.write(bytes(0, 8));
            if (Date.now() < until) setTimeout(tick, 5);
            else done();
          };
          tick();
        });
      };
      let verdict = "not-equal";
      for (let i = 0; i < 20 && verdict === "not-equal"; i++) {
        verdict = await wait(false, 300, deltas);
        await writing;
      }
      assert.equal(verdict, "timed-out", "audio woke a consumer that waits for the device (or every write came before its wait)");
      assert.notEqual(await wait(false, 10_000, () => ring.flush()), "timed-out", "a flush wakes it");
      assert.notEqual(await wait(false, 10_000, () => ring.close()), "timed-out", "so does a close");
    } finally {
      await worker.terminate();
    }
  });
});
