import { EventEmitter } from "node:events";
import type { Clock, ClockTimer } from "../../device/clock";
import { bytesFor, msFor, type PcmFormat } from "../pcm";
import type { PcmSink } from "./sink";

/**
 * Feeds a sink one period-sized chunk at a time, so what is queued stays ours and
 * can be dropped at once on barge-in. Events:
 * - 'started' (atMs) when the first chunk after silence is handed to the device;
 * - 'drained' when everything written has (by the clock) finished playing.
 */
export class Player extends EventEmitter {
  private queue: Buffer[] = [];
  private queued = 0;
  private inFlight = false;
  private epoch = 0;
  /** Clock time at which the device will have played everything handed to it. */
  private deviceEndsAt = 0;
  private drainTimer: ClockTimer | undefined;
  private active = false;
  private readonly chunkBytes: number;

  constructor(
    private readonly sink: PcmSink,
    private readonly clock: Clock,
    chunkMs = 20,
  ) {
    super();
    this.chunkBytes = bytesFor(sink.format, chunkMs);
  }

  get format(): PcmFormat {
    return this.sink.format;
  }

  /** True from the first write until 'drained'. */
  get playing(): boolean {
    return this.active;
  }

  write(pcm: Buffer): void {
    if (pcm.length === 0) return;
    this.queue.push(pcm);
    this.queued += pcm.length;
    this.clock.clearTimeout(this.drainTimer);
    this.kick();
  }

  /** Drops everything not yet played. */
  flush(): void {
    this.epoch++;
    this.queue = [];
    this.queued = 0;
    this.inFlight = false;
    this.clock.clearTimeout(this.drainTimer);
    this.sink.drop();
    this.deviceEndsAt = this.clock.now();
    if (this.active) {
      this.active = false;
      this.emit("drained");
    }
  }

  private kick(): void {
    if (this.inFlight || this.queued === 0) return;
    const chunk = this.take(this.chunkBytes);
    const epoch = this.epoch;
    this.inFlight = true;
    if (!this.active) {
      this.active = true;
      this.emit("started", this.clock.now());
    }
    this.sink.write(chunk, (err) => {
      if (epoch !== this.epoch) return;
      this.inFlight = false;
      const now = this.clock.now();
      this.deviceEndsAt = Math.max(this.deviceEndsAt, now) + (err ? 0 : msFor(this.sink.format, chunk.length));
      if (this.queued > 0) this.kick();
      else this.drainTimer = this.clock.setTimeout(() => this.onDrained(epoch), Math.max(0, this.deviceEndsAt - now));
    });
  }

  private onDrained(epoch: number): void {
    if (epoch !== this.epoch || this.queued > 0 || this.inFlight) return;
    this.active = false;
    this.emit("drained");
  }

  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = Math.min(n, this.queued);
    while (need > 0) {
      const head = this.queue[0]!;
      if (head.length <= need) {
        parts.push(head);
        this.queue.shift();
        need -= head.length;
        this.queued -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        this.queue[0] = head.subarray(need);
        this.queued -= need;
        need = 0;
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async close(): Promise<void> {
    this.clock.clearTimeout(this.drainTimer);
    await this.sink.close();
  }
}
