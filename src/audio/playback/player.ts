import { EventEmitter } from "node:events";
import type { Clock, ClockTimer } from "../../device/clock";
import { bytesFor, msFor, type PcmFormat } from "../pcm";
import type { PcmSink } from "./sink";

/**
 * Feeds a sink period-sized chunks, keeping only `queueMs` of audio ahead of the
 * clock inside the device: the rest stays in our queue, where a flush drops it at
 * once. (snd_pcm_drop cuts a sound card's buffer, but not every ALSA path honours
 * it, and speaker opens the device with a 500 ms buffer.) Events:
 * - 'started' (atMs) when the device has taken the first chunk after silence;
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
  private kickTimer: ClockTimer | undefined;
  private active = false;
  private readonly chunkBytes: number;

  constructor(
    private readonly sink: PcmSink,
    private readonly clock: Clock,
    chunkMs = 20,
    private readonly queueMs = 60,
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
    this.clock.clearTimeout(this.kickTimer);
    this.kickTimer = undefined;
    this.sink.drop();
    this.deviceEndsAt = this.clock.now();
    if (this.active) {
      this.active = false;
      this.emit("drained");
    }
  }

  private kick(): void {
    if (this.inFlight || this.kickTimer || this.queued === 0) return;
    const now = this.clock.now();
    const ahead = this.deviceEndsAt - now;
    if (ahead > this.queueMs) {
      this.kickTimer = this.clock.setTimeout(() => {
        this.kickTimer = undefined;
        this.kick();
      }, ahead - this.queueMs);
      return;
    }
    const chunk = this.take(this.chunkBytes);
    const epoch = this.epoch;
    this.inFlight = true;
    const first = !this.active;
    this.active = true;
    this.deviceEndsAt = Math.max(this.deviceEndsAt, now) + msFor(this.sink.format, chunk.length);
    this.sink.write(chunk, () => {
      if (epoch !== this.epoch) return;
      this.inFlight = false;
      if (first) this.emit("started", this.clock.now());
      if (this.queued > 0) this.kick();
      else this.drainTimer = this.clock.setTimeout(() => this.onDrained(epoch), Math.max(0, this.deviceEndsAt - this.clock.now()));
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
    this.clock.clearTimeout(this.kickTimer);
    await this.sink.close();
  }
}
