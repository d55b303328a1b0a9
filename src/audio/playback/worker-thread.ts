/**
 * The playback thread as a worker thread (worker.ts): for aplay, a WAV folder, or a speaker
 * module without talkbox's C player. A worker that exits is replaced on the same ring.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { SpscRing } from "./ring";
import { atMost, type PlaybackThread, type PlaybackThreadEvents, type PlaybackThreadOptions } from "./thread";
import type { PlaybackWorkerData, WorkerMessage } from "./worker";

/**
 * The worker's own V8 heap, capped: it holds a few MiB live (code and the sink; its log
 * lines are written by the main thread), and its reserve went from 6.5 to 8.5 MiB over
 * 10 000 replies (measured when it still had a logger of its own). The cap turns anything
 * that keeps growing into a restart of the thread (logged; attach() below), never a daemon
 * that swells until the kernel's OOM killer picks something.
 */
const THREAD_HEAP_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };
const CLOSE_WAIT_MS = 2000;

export class WorkerPlaybackThread implements PlaybackThread {
  readonly kind = "worker";
  description = "";
  private closed = false;
  private worker: Worker;

  static async start(opts: PlaybackThreadOptions, ring: SpscRing, events: PlaybackThreadEvents): Promise<WorkerPlaybackThread> {
    const t = new WorkerPlaybackThread(opts, ring, events);
    await t.attach();
    return t;
  }

  private constructor(
    private readonly opts: PlaybackThreadOptions,
    private readonly ring: SpscRing,
    private readonly events: PlaybackThreadEvents,
  ) {
    this.worker = this.spawn();
  }

  /** Started only once the worker said ready, which it says after opening the device (worker.ts). */
  async ready(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await atMost(new Promise<void>((resolve) => this.worker.once("exit", () => resolve())), CLOSE_WAIT_MS);
    await this.worker.terminate();
  }

  private spawn(): Worker {
    const data: PlaybackWorkerData = {
      sab: this.ring.sab,
      device: this.opts.device,
      format: this.opts.format,
      periodMs: this.opts.periodMs,
      queueMs: this.opts.queueMs,
      logLevel: this.opts.log.level,
    };
    return new Worker(path.join(__dirname, "worker.js"), { workerData: data, resourceLimits: THREAD_HEAP_LIMITS });
  }

  private attach(): Promise<void> {
    const { events, opts } = this;
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
            events.started(m.at - performance.timeOrigin);
            return;
          case "drained":
            events.drained({ used: m.heapUsed, total: m.heapTotal });
            return;
          case "underrun":
            events.underrun();
            return;
          case "error":
            events.error(new Error(m.message));
            return;
          case "log":
            opts.log[m.line.level](m.line.fields ?? {}, m.line.msg);
            return;
        }
      });
      this.worker.on("error", (err) => {
        if (!ready) reject(err);
        else events.error(new Error(`playback thread crashed: ${err.message}`));
      });
      this.worker.on("exit", (code) => {
        if (this.closed) return;
        if (!ready) return reject(new Error(`playback thread exited (${code}) before the speaker opened`));
        // Keep the device usable: a fresh worker on the same ring.
        opts.log.error(`playback thread exited (${code}); restarting it`);
        events.restarted();
        this.worker = this.spawn();
        void this.attach().catch((err: Error) => events.error(err));
      });
    });
  }
}
