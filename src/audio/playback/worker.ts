/**
 * The playback thread: owns the speaker, reads the ring, writes period-sized
 * chunks while keeping 40–80 ms queued in the device (engine.ts says why).
 * Main-thread stalls (GC, JSON parsing, a slow log) do not reach it. It takes its
 * orders from the ring alone (audio, end marks, flushes, close), sleeping on it between
 * periods. Messages to the main thread: ready, started {at}, drained {heap}, underrun,
 * error {message}, log {line} (thread-log.ts: the main thread writes this thread's lines).
 */
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import { openPlayback } from "./open";
import { bytesFor, bytesPerFrame, msFor, type PcmFormat } from "../../core/pcm";
import { SpscRing } from "./ring";
import { threadLog, type LogLine } from "./thread-log";

export interface PlaybackWorkerData {
  sab: SharedArrayBuffer;
  device: string;
  format: PcmFormat;
  periodMs: number;
  queueMs: number;
  /** The daemon's log level: lines below it are not even posted. */
  logLevel: string;
}

export type WorkerMessage =
  | { type: "ready"; description: string }
  | { type: "started"; at: number }
  /** heapUsed/heapTotal: this thread's own V8 heap (process.memoryUsage() in the main thread shows only its own). */
  | { type: "drained"; heapUsed: number; heapTotal: number }
  | { type: "underrun" }
  | { type: "error"; message: string }
  | { type: "log"; line: LogLine };

const data = workerData as PlaybackWorkerData;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
/** Wall-clock milliseconds comparable across threads (each thread's performance.now() has its own origin). */
const now = (): number => performance.timeOrigin + performance.now();
/**
 * A wake-up that finds the device this close to the low-water mark writes instead of
 * sleeping once more for the remainder (a wake-up costs more than the margin).
 */
const EARLY_MS = 1;
/** The longest sleep with nothing to play: the thread then lets its event loop run (the logger, an aplay child's events). */
const IDLE_MS = 1000;

const ring = new SpscRing(data.sab);
const log = threadLog(data.logLevel, (line) => post({ type: "log", line }));
const sink = openPlayback(data.device, data.format, log);
sink.onError((err) => post({ type: "error", message: err.message }));
sink.prepare?.();

const frameBytes = bytesPerFrame(data.format);
const periodBytes = bytesFor(data.format, data.periodMs);
/** Write when the device holds less than this; a period more is then queued. */
const lowWaterMs = data.queueMs - data.periodMs;
const chunk = new Uint8Array(periodBytes);
let deviceEndsAt = 0;
let playing = false;
let starved = false;
let flushes = ring.flushes;

/**
 * Plays a chunk: on this thread where the sink can (the speaker module: one thread between a
 * reply's first audio and the card, as a direct write has), else through the sink's callback.
 */
const writeSync = sink.writeSync;
function write(bytes: Buffer): Promise<void> | void {
  if (writeSync) {
    writeSync(bytes);
    return;
  }
  return new Promise((resolve) => sink.write(bytes, () => resolve()));
}

/**
 * Sleeps until the main thread writes, marks an end, flushes or closes (any of them after
 * `seen`; only a flush or a close unless `forData`), or `ms` pass: a futex wait, woken
 * directly, not through this thread's event loop.
 * With a synchronous sink this thread needs its event loop for nothing while it plays (its
 * log lines are written synchronously, its messages go out as they are posted, orders
 * come on the ring): the loop runs on without giving it a turn, which was most of a
 * wake-up's cost. It still gets one after an idle wait, and always with a sink that
 * writes through callbacks (the thread pool, an aplay child's events).
 */
function sleep(seen: number, ms: number, forData = true): Promise<void> | void {
  ring.waitForSignal(seen, ms, forData);
  if (writeSync && ms < IDLE_MS) return;
  return new Promise<void>((resolve) => setImmediate(resolve));
}

async function loop(): Promise<void> {
  post({ type: "ready", description: sink.description });
  while (!ring.closed) {
    const seen = ring.signals;
    if (ring.flushes !== flushes) {
      // The ring was emptied by the main thread; cut what the device still holds (also a
      // chunk that was being written while the flush happened: it may have landed after it).
      flushes = ring.flushes;
      sink.drop();
      deviceEndsAt = now();
      playing = false;
      starved = false;
      continue;
    }
    const t = now();
    const ahead = deviceEndsAt - t;
    if (ahead > lowWaterMs + EARLY_MS) {
      // The device is full enough: audio that comes meanwhile waits for this wake-up.
      await sleep(seen, ahead - lowWaterMs, false);
      continue;
    }
    const avail = ring.used;
    const toEnd = ring.toEnd;
    // Whole periods only, except the reply's last bytes or to avoid running dry.
    const want = avail >= periodBytes || (toEnd !== null && toEnd <= avail) || (playing && ahead < 5) ? Math.min(periodBytes, avail) : 0;
    if (want > 0) {
      const n = ring.read(chunk.subarray(0, want), frameBytes);
      if (n === 0) {
        // Less than a frame before the reply's end can never play: drop it, or the reply
        // never drains (the engine writes whole frames; this is the last line of defence).
        const left = ring.toEnd;
        if (left !== null && left > 0 && left < frameBytes) ring.read(chunk.subarray(0, left), 1);
        // Otherwise a flush raced the read (seen at the top, at once: it signalled), or less
        // than a frame is there: go round again, but never without sleeping.
        else await sleep(seen, 1, false);
        continue;
      }
      if (!playing) {
        playing = true;
        post({ type: "started", at: now() });
      }
      starved = false;
      deviceEndsAt = Math.max(deviceEndsAt, now()) + msFor(data.format, n);
      // The chunk itself, not a copy: the sink has it until the write returns, and the next
      // read waits for that. A copy per period was a malloc per 20 ms in this thread's arena,
      // for nothing.
      await write(Buffer.from(chunk.buffer, chunk.byteOffset, n));
      continue;
    }
    if (playing && ring.endReached && avail === 0) {
      if (t >= deviceEndsAt) {
        playing = false;
        const heap = getHeapStatistics();
        post({ type: "drained", heapUsed: heap.used_heap_size, heapTotal: heap.total_heap_size });
        continue;
      }
      await sleep(seen, deviceEndsAt - t);
      continue;
    }
    if (playing && t >= deviceEndsAt && !starved) {
      // The device ran dry in the middle of a reply: audio arrived too late.
      starved = true;
      ring.countUnderrun();
      post({ type: "underrun" });
    }
    await sleep(seen, playing && !starved ? Math.max(1, ahead - 5) : IDLE_MS);
  }
  await sink.close();
  process.exit(0);
}

loop().catch((err: Error) => {
  post({ type: "error", message: `playback thread failed: ${err.message}` });
  process.exit(1);
});
