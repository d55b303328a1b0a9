import { EventEmitter } from "node:events";
import fs from "node:fs";
import { bytesFor, type PcmFormat } from "../../core/pcm";
import type { CaptureSource } from "./source";
import { readPcmFile } from "../wav";

/**
 * A stand-in mic for machines without a sound card: loops a speech file (raw
 * S16_LE or WAV) followed by a second of silence, in real time.
 */
export class FileCapture extends EventEmitter implements CaptureSource {
  readonly description: string;
  private timer: NodeJS.Timeout | undefined;
  private loop: Buffer = Buffer.alloc(0);
  private offset = 0;
  private startedAt = 0;
  private sent = 0;
  private wanted = true;
  /** need()'s holdMs: the timer runs this far apart (at least a period). */
  private holdMs = 0;

  constructor(
    private readonly file: string,
    readonly format: PcmFormat,
    private tickMs = 20,
  ) {
    super();
    this.description = `file mic ${file} (looped)`;
  }

  start(): void {
    try {
      const speech = readPcmFile(fs.readFileSync(this.file));
      this.loop = Buffer.concat([speech, Buffer.alloc(bytesFor(this.format, 1000))]);
    } catch (err) {
      this.emit("error", new Error(`cannot read the file mic ${this.file}: ${(err as Error).message}`));
      return;
    }
    if (this.wanted) this.run();
  }

  private run(): void {
    this.startedAt = performance.now();
    this.sent = 0;
    // Deliver by elapsed time, not by tick count, so timer jitter does not drift the rate.
    this.timer = setInterval(() => this.tick(), Math.max(this.tickMs, this.holdMs));
  }

  private halt(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const due = bytesFor(this.format, performance.now() - this.startedAt) - this.sent;
    if (due <= 0) return;
    const out = Buffer.allocUnsafe(due);
    for (let w = 0; w < due; ) {
      const n = Math.min(due - w, this.loop.length - this.offset);
      this.loop.copy(out, w, this.offset, this.offset + n);
      w += n;
      this.offset = (this.offset + n) % this.loop.length;
    }
    this.sent += due;
    this.emit("data", out);
  }

  get periodMs(): number {
    return this.tickMs;
  }

  /** Not needed: the file stops where it is; needed again: it goes on from there, in real time from now. */
  need(on: boolean, o: { holdMs?: number } = {}): void {
    const holdMs = on ? Math.max(0, o.holdMs ?? 0) : 0;
    if (on === this.wanted && holdMs === this.holdMs) return;
    const was = this.wanted;
    this.wanted = on;
    this.holdMs = holdMs;
    if (this.loop.length === 0) return;
    if (!on) this.halt();
    else if (!was) this.run();
    else this.retime();
  }

  /** What is due by now is delivered now. */
  catchUp(): void {
    if (this.timer !== undefined) this.tick();
  }

  setPeriod(ms: number): void {
    this.tickMs = ms;
    this.retime();
  }

  private retime(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), Math.max(this.tickMs, this.holdMs));
  }

  async stop(): Promise<void> {
    this.halt();
  }
}
