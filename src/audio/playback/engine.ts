/**
 * Main-thread side of playback: decoded PCM goes into a shared ring that the playback
 * thread drains into the speaker. `flush()` empties the ring at once (an index move) and
 * the thread, woken by it, drops what the device holds. The thread is the speaker addon's
 * C thread where the device is played through the speaker module, else a worker thread
 * (thread.ts). Events: 'started' (at, main-clock ms), 'drained', 'underrun', 'error' (Error).
 */
import { EventEmitter } from "node:events";
import type { Logger } from "../../log/logger";
import { bytesFor, bytesPerFrame, msFor, type PcmFormat } from "../../core/pcm";
import { applyGain } from "./gain";
import { NativePlaybackThread } from "./native-thread";
import { SpscRing } from "./ring";
import type { PlaybackThread, PlaybackThreadEvents, PlaybackThreadOptions } from "./thread";
import { WorkerPlaybackThread } from "./worker-thread";

/**
 * The thread writes 40 ms periods when the device holds less than 40 ms, so it holds
 * 40–80 ms: the same 40 ms of margin against a late wake-up as 20 ms periods under a
 * 60 ms queue, at half the wake-ups of the playback thread. A flush cuts the device at
 * once whatever it holds.
 */
const PERIOD_MS = 40;
const EMPTY = Buffer.alloc(0);
const QUEUE_MS = 80;

/** `TALKBOX_PLAYBACK_THREAD=worker` plays from the worker thread even where the C thread would do (the bench compares them). */
const THREAD_KIND = process.env["TALKBOX_PLAYBACK_THREAD"] === "worker" ? "worker" : "any";

export interface PlaybackOptions {
  device: string;
  format: PcmFormat;
  /** Also the playback thread's: its lines come over as messages and are written here. */
  log: Logger;
  periodMs?: number;
  queueMs?: number;
  /** Ring size; a longer reply waits in a JS queue until there is room. */
  capacityMs?: number;
  /** "worker": never the C thread (thread.ts); default: the C thread wherever it can play the device. */
  thread?: "any" | "worker";
}

export class PlaybackEngine extends EventEmitter {
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
  /** The playback thread's own V8 heap in bytes, as of the last drained reply (0 before one; always 0 for the C thread, which has none). */
  threadHeap = { used: 0, total: 0 };

  private thread!: PlaybackThread;
  /** A device failure reported before anyone listened for 'error' (reportError). */
  private heldError: Error | undefined;

  private constructor(
    private readonly ring: SpscRing,
    private readonly opts: PlaybackOptions,
  ) {
    super();
    this.frameBytes = bytesPerFrame(opts.format);
  }

  static async start(opts: PlaybackOptions): Promise<PlaybackEngine> {
    const ring = new SpscRing(SpscRing.allocate(bytesFor(opts.format, opts.capacityMs ?? 10_000)));
    const engine = new PlaybackEngine(ring, opts);
    const threadOpts: PlaybackThreadOptions = {
      device: opts.device,
      format: opts.format,
      log: opts.log,
      periodMs: opts.periodMs ?? PERIOD_MS,
      queueMs: opts.queueMs ?? QUEUE_MS,
    };
    const events = engine.threadEvents();
    engine.thread =
      ((opts.thread ?? THREAD_KIND) === "worker" ? null : NativePlaybackThread.tryStart(threadOpts, ring, events)) ??
      (await WorkerPlaybackThread.start(threadOpts, ring, events));
    // The device is open (or said why not) before the first reply can come.
    await engine.thread.ready();
    engine.description = engine.thread.description;
    return engine;
  }

  /** Which playback thread plays (thread.ts). */
  get threadKind(): "native" | "worker" {
    return this.thread.kind;
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
    // The playback thread sees the flush on the ring (it is woken for it) and cuts the device;
    // the C thread's device is cut here, in the wake.
    this.ring.flush();
    this.active = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPump();
    this.ring.close();
    await this.thread.close();
  }

  /**
   * The thread opens the device as it starts, so a missing speaker can be reported before the
   * daemon has wired the engine up: held until the first 'error' listener is added (an
   * 'error' emitted with none would throw on the thread's callback and end the process).
   */
  private reportError(err: Error): void {
    if (this.listenerCount("error") > 0) {
      this.emit("error", err);
      return;
    }
    const first = this.heldError === undefined;
    this.heldError = err;
    if (!first) return;
    const deliver = (event: string | symbol): void => {
      if (event !== "error") return;
      this.off("newListener", deliver);
      // 'newListener' comes before the listener is in place.
      queueMicrotask(() => {
        const held = this.heldError;
        this.heldError = undefined;
        if (held) this.reportError(held);
      });
    };
    this.on("newListener", deliver);
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

  private threadEvents(): PlaybackThreadEvents {
    return {
      started: (at) => this.emit("started", at),
      drained: (heap) => {
        if (heap) this.threadHeap = heap;
        if (!this.active || !this.ring.endReached) return;
        this.active = false;
        this.emit("drained");
      },
      underrun: () => this.emit("underrun"),
      error: (err) => this.reportError(err),
      restarted: () => {
        this.active = false;
      },
    };
  }
}
