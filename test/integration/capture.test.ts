/**
 * The mic through real arecord on the rig's clock-driven card: while its audio is not
 * needed (a push-to-talk device at rest) it is not read, yet the device stays open and
 * the same arecord keeps capturing; when needed again it delivers from that moment on,
 * never the audio that waited in between.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { AlsaCapture } from "../../src/audio/capture/alsa-capture";
import { silentLogger } from "../../src/log/logger";
import { startRig, type Rig } from "../rig/rig";

const PERIOD_MS = 40;
const BYTES_PER_MS = 32; // 16 kHz mono S16_LE
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const wait = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

function arecords(): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "arecord"], { encoding: "utf8" }).trim().split("\n").map(Number);
  } catch {
    return [];
  }
}

interface OnRig {
  rig: Rig;
  capture: AlsaCapture;
  /** Every 'data', stamped when it came. */
  chunks: Array<{ at: bigint; data: Buffer }>;
  errors: Error[];
}

/** Real arecord on a fresh rig card (its ALSA config for this process while `body` runs), stopped and cleaned up after. */
async function onRig(body: (o: OnRig) => Promise<void>): Promise<void> {
  const rig = await startRig({ micRate: 16000, micSeconds: 30 });
  const env = process.env.ALSA_CONFIG_PATH;
  process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
  const capture = new AlsaCapture(rig.micDevice, { sampleRate: 16000, channels: 1 }, silentLogger(), PERIOD_MS);
  const chunks: OnRig["chunks"] = [];
  capture.on("data", (data: Buffer) => chunks.push({ at: process.hrtime.bigint(), data }));
  const errors: Error[] = [];
  capture.on("error", (e: Error) => errors.push(e));
  try {
    await body({ rig, capture, chunks, errors });
  } finally {
    await capture.stop();
    if (env === undefined) delete process.env.ALSA_CONFIG_PATH;
    else process.env.ALSA_CONFIG_PATH = env;
    await rig.close();
  }
}

describe("capture: a mic that is not needed", () => {
  test("stops, and is restarted after a crash, while not needed (its unread output is read to the end)", { timeout: 30_000 }, async () => {
    const bounded = <T,>(p: Promise<T>, what: string): Promise<T> =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within 5 s`)), 5000).unref())]);
    await onRig(async ({ capture, errors }) => {
      capture.start();
      await once(capture, "data");
      capture.need(false);
      const [first] = arecords();
      process.kill(first!, "SIGKILL");
      // A dead arecord is reported and started again, although nobody was reading it.
      await bounded(once(capture, "error"), "the report of the dead mic");
      // No event marks the new arecord (its audio is not needed, so none flows): look for it, within a bound.
      const deadline = Date.now() + 5000;
      while (arecords().length === 0 || arecords()[0] === first) {
        assert.ok(Date.now() < deadline, "a new arecord within 5 s of the report");
        await wait(50);
      }
      await bounded(capture.stop(), "stop()");
      assert.deepEqual(arecords(), [], "no arecord left");
      assert.match(errors[0]!.message, /microphone .* stopped/);
    });
  });

  test("is not read while not needed, keeps capturing, and when needed again delivers from then on, not the backlog", { timeout: 30_000 }, async () => {
    await onRig(async ({ rig, capture, chunks, errors }) => {
      capture.start();
      await once(capture, "data");
      const [recorder] = arecords();
      assert.ok(recorder, "arecord runs");

      capture.need(false);
      const shutAt = process.hrtime.bigint();
      const before = chunks.length;
      // Time passing is what is tested here: a second unread (25 periods).
      await wait(1000);
      const openedAt = process.hrtime.bigint();
      assert.ok(chunks.length - before <= 1, `${chunks.length - before} chunks came while the mic was not needed (one may be on its way)`);
      const captured = rig.micTimes().filter(([t]) => t > shutAt + 100_000_000n && t < openedAt);
      assert.ok(captured.length >= 15, `the device went on capturing while not needed (${captured.length} periods logged)`);

      capture.need(true);
      const after = chunks.length;
      while (chunks.length < after + 5) await once(capture, "data");
      assert.deepEqual(arecords(), [recorder], "the same arecord throughout: the device was never closed");

      // Where the first delivered audio was in what the mic heard, and when the card captured it.
      const first = chunks[after]!.data;
      const offset = rig.micInput.indexOf(first.subarray(0, 640));
      assert.ok(offset >= 0, "the delivered audio is the mic's");
      const log = rig.micTimes().find(([, off, len]) => off <= offset && offset < off + len);
      assert.ok(log, "the card logged capturing it");
      const capturedAt = log[0] + BigInt(Math.round(((offset - log[1]) / BYTES_PER_MS) * 1e6));
      const early = ms(capturedAt, openedAt);
      assert.ok(early <= PERIOD_MS + 15, `the first audio delivered was captured ${early.toFixed(1)} ms before the mic was needed again (at most about a period)`);

      // From there on, the audio is continuous: nothing dropped between reads.
      const delivered = Buffer.concat(chunks.slice(after).map((c) => c.data));
      assert.ok(rig.micInput.subarray(offset, offset + delivered.length).equals(delivered), "what follows is the mic's audio, in order, without a gap");
      assert.deepEqual(errors, []);
    });
  });
  test("needed with a hold (push-to-talk): read a few periods at a time, catchUp() delivers at once, nothing lost or repeated", { timeout: 30_000 }, async () => {
    await onRig(async ({ rig, capture, chunks }) => {
      capture.start();
      await once(capture, "data");
      capture.need(false);
      await wait(200);
      const HOLD_MS = 3 * PERIOD_MS;
      const from = chunks.length;
      capture.need(true, { holdMs: HOLD_MS });
      // Time passing is what is tested: a second of held audio (25 periods).
      await wait(1000);
      const held = chunks.slice(from);
      assert.ok(held.length >= 5 && held.length <= 11, `${held.length} deliveries in a second with a ${HOLD_MS} ms hold (25 unheld)`);
      const bytes = held.slice(1).map((c) => c.data.length);
      assert.ok(bytes.every((b) => b >= 2 * PERIOD_MS * BYTES_PER_MS), `deliveries of at least two periods each: ${bytes.join(", ")}`);

      // catchUp() delivers what waits, before it returns. With a hold longer than the test,
      // nothing else can deliver: whatever arrives, arrives inside a catchUp() call.
      capture.need(true, { holdMs: 60_000 });
      const deadline = Date.now() + 5000;
      let caught = 0;
      while (caught === 0) {
        assert.ok(Date.now() < deadline, "catchUp() delivered nothing within 5 s of held audio");
        const before = chunks.length;
        await wait(5);
        assert.equal(chunks.length, before, "audio was delivered outside catchUp() during a 60 s hold");
        capture.catchUp();
        caught = chunks.length - before;
      }
      assert.equal(caught, 1, "one delivery per catchUp()");

      const delivered = Buffer.concat(chunks.slice(from).map((c) => c.data));
      const offset = rig.micInput.indexOf(delivered.subarray(0, 640));
      assert.ok(offset >= 0, "the delivered audio is the mic's");
      assert.ok(rig.micInput.subarray(offset, offset + delivered.length).equals(delivered), "held and caught-up audio is the mic's, in order, without a gap or a repeat");
    });
  });
});
