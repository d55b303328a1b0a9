/**
 * The playback thread: owns the speaker, reads the ring, writes period-sized
 * chunks while keeping 40–80 ms queued in the device (engine.ts says why).
 * Main-thread stalls (GC, JSON parsing, a slow log) do not reach it. Messages to
 * the main thread: ready, started {at}, drained {heap}, underrun, error {message}.
 */
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import { createLogger, type LoggerOptions } from "../../log/logger";
import { openPlayback } from "./open";
import { bytesFor, bytesPerFrame, msFor, type PcmFormat } from "../../core/pcm";
import { SpscRing } from "./ring";

export interface PlaybackWorkerData {
  sab: SharedArrayBuffer;
  device: string;
  format: PcmFormat;
  periodMs: number;
  queueMs: number;
  log: Pick<LoggerOptions, "level" | "format">;
}

export type WorkerMessage =
  | { type: "ready"; description: string }
  | { type: "started"; at: number }
  /** heapUsed/heapTotal: this thread's own V8 heap (process.memoryUsage() in the main thread shows only its own). */
  | { type: "drained"; heapUsed: number; heapTotal: number }
  | { type: "underrun" }
  | { type: "error"; message: string };

const data = workerData as PlaybackWorkerData;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
/** Wall-clock milliseconds comparable across threads (each thread's performance.now() has its own origin). */
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Timers have millisecond resolution and may fire up to a millisecond early; a
 * wake-up that finds the device that close to the low-water mark writes instead of
 * sleeping once more for the remainder (a wake-up costs more than the margin).
 */
const EARLY_MS = 1;

const ring = new SpscRing(data.sab);
const log = createLogger(data.log).child({ component: "playback" });
const sink = openPlayback(data.device, data.format, log);
sink.onError((err) => post({ type: "error", message: err.message }));

const frameBytes = bytesPerFrame(data.format);
const periodBytes = bytesFor(data.format, data.periodMs);
/** Write when the device holds less than this; a period more is then queued. */
const lowWaterMs = data.queueMs - data.periodMs;
const chunk = new Uint8Array(periodBytes);
let deviceEndsAt = 0;
let playing = false;
let starved = false;
let closing = false;

port.on("message", (m: { type: string }) => {
  if (m.type === "flush") {
    // The ring was emptied by the main thread; cut what the device still holds.
    sink.drop();
    deviceEndsAt = now();
    playing = false;
    starved = false;
  } else if (m.type === "close") {
    closing = true;
    void sink.close().then(() => process.exit(0));
  }
});

function write(bytes: Buffer): Promise<void> {
  return new Promise((resolve) => sink.write(bytes, () => resolve()));
}

async function loop(): Promise<void> {
  post({ type: "ready", description: sink.description });
  while (!closing) {
    const t = now();
    const ahead = deviceEndsAt - t;
    if (ahead > lowWaterMs + EARLY_MS) {
      await sleep(Math.ceil(ahead - lowWaterMs));
      continue;
    }
    const avail = ring.used;
    const toEnd = ring.toEnd;
    // Whole periods only, except the reply's last bytes or to avoid running dry.
    const want = avail >= periodBytes || (toEnd !== null && toEnd <= avail) || (playing && ahead < 5) ? Math.min(periodBytes, avail) : 0;
    if (want > 0) {
      const flushes = ring.flushes;
      const n = ring.read(chunk.subarray(0, want), frameBytes);
      if (n === 0) {
        // Less than a frame before the reply's end can never play: drop it, or the reply
        // never drains (the engine writes whole frames; this is the last line of defence).
        const left = ring.toEnd;
        if (left !== null && left > 0 && left < frameBytes) ring.read(chunk.subarray(0, left), 1);
        // Otherwise a flush raced the read: go round again, but never without yielding.
        else await ring.waitForWrite(1);
        continue;
      }
      if (!playing) {
        playing = true;
        post({ type: "started", at: now() });
      }
      starved = false;
      deviceEndsAt = Math.max(deviceEndsAt, now()) + msFor(data.format, n);
      // The chunk itself, not a copy: the sink has it until `done`, and the next read waits for
      // that. A copy per period was a malloc per 20 ms in this thread's arena, for nothing.
      await write(Buffer.from(chunk.buffer, chunk.byteOffset, n));
      // A flush while that write was in flight: the chunk may have landed after the drop.
      if (ring.flushes !== flushes) sink.drop();
      continue;
    }
    if (playing && ring.endReached && avail === 0) {
      if (t >= deviceEndsAt) {
        playing = false;
        const heap = getHeapStatistics();
        post({ type: "drained", heapUsed: heap.used_heap_size, heapTotal: heap.total_heap_size });
        continue;
      }
      await ring.waitForWrite(deviceEndsAt - t);
      continue;
    }
    if (playing && t >= deviceEndsAt && !starved) {
      // The device ran dry in the middle of a reply: audio arrived too late.
      starved = true;
      ring.countUnderrun();
      post({ type: "underrun" });
    }
    await ring.waitForWrite(playing && !starved ? Math.max(1, ahead - 5) : 1000);
  }
}

loop().catch((err: Error) => {
  post({ type: "error", message: `playback thread failed: ${err.message}` });
  process.exit(1);
});
