/**
 * The pipe gate on a real child process's output: closed, the stream gets nothing (the
 * main thread is not woken) while the child keeps writing; emptied, the waiting bytes are
 * dropped without a read event each; opened, what waited is dropped and what the child
 * writes from then on flows, in order.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { PipeGate } from "../../src/audio/capture/pipe-gate";

/** Records of 100 bytes, one every 5 ms: [sequence u32][CLOCK_MONOTONIC ns u64 when written][filler]. */
const RECORD = 100;
const WRITER = `
let n = 0;
setInterval(() => {
  const b = Buffer.alloc(${RECORD}, 7);
  b.writeUInt32LE(n++, 0);
  b.writeBigUInt64LE(process.hrtime.bigint(), 4);
  process.stdout.write(b);
}, 5);
`;
const wait = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

describe("pipe gate", () => {
  test("closed: no reads while the child writes; empty() drops the backlog; open: only what is written from then on flows", { timeout: 20_000 }, async () => {
    const child = spawn(process.execPath, ["-e", WRITER], { stdio: ["ignore", "pipe", "inherit"] });
    const stream = child.stdout!;
    const got: Buffer[] = [];
    stream.on("data", (d: Buffer) => got.push(d));
    try {
      await once(stream, "data");
      const gate = new PipeGate(stream);
      assert.equal(gate.supported, true, "this Node has the handle the gate needs");

      gate.close();
      const before = got.length;
      // Time passing is what is tested: ~60 records written while the gate is closed.
      await wait(300);
      assert.ok(got.length - before <= 1, `${got.length - before} reads while closed (one may have been on its way)`);
      const dropped = gate.empty();
      assert.ok(dropped >= 40 * RECORD, `empty() dropped what waited (${dropped} bytes)`);
      assert.equal(gate.empty(), 0, "and then nothing is left");

      await wait(200);
      const openedAt = process.hrtime.bigint();
      const from = got.length;
      gate.open();
      while (Buffer.concat(got.slice(from)).length < 10 * RECORD) await once(stream, "data");
      const flowed = Buffer.concat(got.slice(from));
      const ageMs = Number(openedAt - flowed.readBigUInt64LE(4)) / 1e6;
      assert.ok(ageMs <= 5, `the first record after open() was written ${ageMs.toFixed(1)} ms before it (what waited was dropped)`);
      const first = flowed.readUInt32LE(0);
      for (let i = 0; i + RECORD <= flowed.length; i += RECORD) assert.equal(flowed.readUInt32LE(i), first + i / RECORD, "in order, none missing");
    } finally {
      child.kill();
    }
  });
});
