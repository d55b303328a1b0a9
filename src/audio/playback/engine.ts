/**
 * Main-thread side of playback: decoded PCM goes into a shared ring that the
 * playback worker drains into the speaker. `flush()` empties the ring at once
 * (an index move) and the worker, woken by it, drops what the device holds.
 * Events: 'started' (at, main-clock ms), 'drained', 'underrun', 'error' (Error).
 */
import { EventEmitter } from "node:events";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { Logger } from "../../log/logger";
import { bytesFor, bytesPerFrame, msFor, type PcmFormat } from "../../core/pcm";
import { applyGain } from "./gain";
import { SpscRing } from "./ring";
import type { PlaybackWorkerData, WorkerMessage } from "./worker";

/**
 * The worker writes 40 ms periods when the device holds less than 40 ms, so it holds
 * 40–80 ms: the same 40 ms of margin against a late wake-up as 20 ms periods under a
 * 60 ms queue, at half the wake-ups of the playback thread. A flush cuts the device at
 * once whatever it holds.
 */
const PERIOD_MS = 40;
const EMPTY = Buffer.alloc(0);
const QUEUE_MS = 80;

export interface PlaybackOptions {
  device: string;
  format: PcmFormat;
  /** Also the playback thread's: its lines come over as messages and are written here. */
  log: Logger;
  periodMs?: number;
  queueMs?: number;
  /** Ring size; a longer reply waits in a JS queue until there is room. */
  capacityMs?: number;
}

export class PlaybackEngine extends EventEmitter {
  private readonly ring: SpscRing;
  private overflow: Buffer[] = [];
  private overflowBytes = 0;
  /** The start of a frame whose rest has not come yet: the ring only ever holds whole frames. */
  private partial: Buffer = Buffer.alloc(0);
  private readonly frameBytes: number;
  private pump: NodeJS.Timeout | undefined;
  private active = false;
  private closed = false;
  private gain = 1;
  description = "";
  /** The playback thread's own V8 heap in bytes, as of the last drained reply (0 before one). */
  threadHeap = { used: 0, total: 0 };

  private constructor(
    private worker: Worker,
    private readonly opts: PlaybackOptions,
    sab: SharedArrayBuffer,
  ) {
    super();
    this.ring = new SpscRing(sab);
    this.frameBytes = bytesPerFrame(opts.format);
  }

  static async start(opts: PlaybackOptions): Promise<PlaybackEngine> {
    const sab = SpscRing.allocate(bytesFor(opts.format, opts.capacityMs ?? 10_000));
    const engine = new PlaybackEngine(spawn(opts, sab), opts, sab);
    await engine.attach();
    return engine;
  }

  get format(): PcmFormat {
    return this.opts.format;
  }

  /** True from the first write of a reply until it drained or was flushed. */
  get playing(): boolean {
    return this.active;
  }

  get underruns(): number {
    return this.ring.underruns;
  }

  /** Software volume: a linear factor (see gain.ts) for every chunk written from now on. */
  setGain(gain: number): void {
    this.gain = gain;
  }

  /** Audio written and not yet played: in the ring, waiting for room, or in the device (up to queueMs). */
  get queuedMs(): number {
    return msFor(this.opts.format, this.ring.used + this.overflowBytes);
  }

  write(pcm: Buffer): void {
    if (pcm.length === 0 || this.closed) return;
    pcm = this.wholeFrames(pcm);
    if (pcm.length === 0) return;
    if (this.gain !== 1) pcm = applyGain(pcm, this.gain, this.opts.format.sampleFormat);
    if (!this.active) {
      this.active = true;
      this.ring.clearEnd();
    }
    if (this.overflow.length === 0) {
      const n = this.ring.write(pcm);
      if (n === pcm.length) return;
      pcm = pcm.subarray(n);
    }
    this.overflow.push(pcm);
    this.overflowBytes += pcm.length;
    this.pump ??= setInterval(() => this.drainOverflow(), this.opts.periodMs ?? PERIOD_MS);
  }

  /**
   * The whole frames of what came so far; a frame's first bytes wait for the rest.
   * A reply that ends mid-frame (an odd byte count of 16-bit PCM) loses that part
   * frame instead of leaving the playback thread waiting for its other half.
   */
  private wholeFrames(pcm: Buffer): Buffer {
    const joined = this.partial.length > 0 ? Buffer.concat([this.partial, pcm]) : pcm;
    const whole = joined.length - (joined.length % this.frameBytes);
    this.partial = whole === joined.length ? EMPTY : Buffer.from(joined.subarray(whole));
    return joined.subarray(0, whole);
  }

  /** The reply is complete: 'drained' follows once it has played. */
  endOfReply(): void {
    this.partial = EMPTY;
    if (!this.active) return;
    this.ring.markEnd(this.overflowBytes);
  }

  flush(): void {
    this.partial = EMPTY;
    this.overflow = [];
    this.overflowBytes = 0;
    this.stopPump();
    // The playback thread sees the flush on the ring (it is woken for it) and cuts the device.
    this.ring.flush();
    this.active = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPump();
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.ring.close();
    await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }

  private drainOverflow(): void {
    while (this.overflow.length > 0) {
      const head = this.overflow[0]!;
      const n = this.ring.write(head);
      this.overflowBytes -= n;
      if (n < head.length) {
        this.overflow[0] = head.subarray(n);
        return;
      }
      this.overflow.shift();
    }
    this.stopPump();
  }

  private stopPump(): void {
    clearInterval(this.pump);
    this.pump = undefined;
  }

  private attach(): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = false;
      this.worker.on("message", (m: WorkerMessage) => {
        switch (m.type) {
          case "ready":
            ready = true;
            this.description = m.description;
            resolve();
            return;
          case "started":
            this.emit("started", m.at - performance.timeOrigin);
            return;
          case "drained":
            this.threadHeap = { used: m.heapUsed, total: m.heapTotal };
            if (!this.active || !this.ring.endReached) return;
            this.active = false;
            this.emit("drained");
            return;
          case "underrun":
            this.emit("underrun");
            return;
          case "error":
            this.emit("error", new Error(m.message));
            return;
          case "log":
            this.opts.log[m.line.level](m.line.fields ?? {}, m.line.msg);
            return;
        }
      });
      this.worker.on("error", (err) => {
        if (!ready) reject(err);
        else this.emit("error", new Error(`playback thread crashed: ${err.message}`));
      });
      this.worker.on("exit", (code) => {
        if (this.closed) return;
        if (!ready) return reject(new Error(`playback thread exited (${code}) before the speaker opened`));
        // Keep the device usable: a fresh worker on the same ring.
        this.opts.log.error(`playback thread exited (${code}); restarting it`);
        this.active = false;
        this.worker = spawn(this.opts, this.ring.sab);
        void this.attach().catch((err: Error) => this.emit("error", err));
      });
    });
  }
}

/**
 * The playback thread's own V8 heap, capped: it holds a few MiB live (code and the sink; its
 * log lines are written by the main thread), and its reserve went from 6.5 to 8.5 MiB over
 * 10 000 replies (measured when it still had a logger of its own). The cap turns anything
 * that keeps growing into a restart of the thread (logged; the exit handler above), never a
 * daemon that swells until the kernel's OOM killer picks something.
 */
const THREAD_HEAP_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };

function spawn(opts: PlaybackOptions, sab: SharedArrayBuffer): Worker {
  const data: PlaybackWorkerData = {
    sab,
    device: opts.device,
    format: opts.format,
    periodMs: opts.periodMs ?? PERIOD_MS,
    queueMs: opts.queueMs ?? QUEUE_MS,
    logLevel: opts.log.level,
  };
  return new Worker(path.join(__dirname, "worker.js"), { workerData: data, resourceLimits: THREAD_HEAP_LIMITS });
}
