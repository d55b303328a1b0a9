/**
 * Sends reply frames at the pace the Coze server does: `limit_config` allows at most
 * `max_frame_num` frames per `period`; without it the audio goes out as fast as speech
 * synthesis makes it, which we model as `UNLIMITED_SPEED` times real time. Neither is
 * one burst: a device that only works when all audio arrives at once would fail against
 * the real service. A device must also cope with audio arriving faster than it plays.
 */
import type { LimitConfig } from "../../agent/coze/protocol";

/** How much faster than real time audio goes out without limit_config. */
export const UNLIMITED_SPEED = 4;

export interface PaceOptions {
  frameMs: number;
  limit?: LimitConfig;
}

/** Sends `frames` through `onFrame`, then calls `onDone`; stop() ends it at once, even from inside onFrame. */
export class Pacer<T> {
  private next = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  // A window opens when its first frame goes out, so any `period`-long span holds at most
  // one window's frames even when a timer fires late.
  private windowStart = 0;
  private inWindow = 0;

  constructor(
    private readonly frames: readonly T[],
    private readonly opts: PaceOptions,
    private readonly onFrame: (frame: T, index: number) => void,
    private readonly onDone: () => void,
  ) {}

  /** Sends the first frame(s) synchronously. */
  start(): void {
    this.t0 = nowMs();
    this.windowStart = this.t0;
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private dueAt(): number {
    const limit = this.opts.limit;
    if (!limit) return this.t0 + (this.next * this.opts.frameMs) / UNLIMITED_SPEED;
    return this.inWindow < limit.max_frame_num ? 0 : this.windowStart + limit.period * 1000;
  }

  private tick(): void {
    this.timer = undefined;
    while (!this.stopped && this.next < this.frames.length) {
      const now = nowMs();
      const due = this.dueAt();
      // Timers may fire a fraction of a millisecond early; re-arm rather than send early.
      if (due > now) {
        this.timer = setTimeout(() => this.tick(), Math.max(1, Math.ceil(due - now)));
        return;
      }
      if (this.opts.limit && this.inWindow >= this.opts.limit.max_frame_num) {
        this.windowStart = now;
        this.inWindow = 0;
      }
      const index = this.next++;
      this.inWindow++;
      this.onFrame(this.frames[index] as T, index);
    }
    if (!this.stopped) {
      this.stopped = true;
      this.onDone();
    }
  }
}

/** Cuts PCM into frames of `frameMs`; the last one may be shorter. */
export function splitFrames(pcm: Buffer, sampleRate: number, frameMs: number, bytesPerSample = 2): Buffer[] {
  const frameBytes = Math.max(bytesPerSample, Math.round((sampleRate * frameMs) / 1000) * bytesPerSample);
  const frames: Buffer[] = [];
  for (let off = 0; off < pcm.length; off += frameBytes) frames.push(pcm.subarray(off, off + frameBytes));
  return frames;
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
