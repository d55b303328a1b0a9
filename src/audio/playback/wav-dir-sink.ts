import fs from "node:fs";
import path from "node:path";
import type { PcmFormat } from "../../core/pcm";
import { wavHeader } from "../wav";
import type { PcmSink } from "./sink";

/**
 * A stand-in speaker for machines without a sound card: every reply becomes a WAV
 * file in a folder. A pause of `gapMs` (or a drop) starts a new file.
 */
export class WavDirSink implements PcmSink {
  readonly description: string;
  private fd: number | null = null;
  private bytes = 0;
  private lastWrite = 0;
  private seq = 0;
  private readonly listeners: Array<(err: Error) => void> = [];

  constructor(
    private readonly dir: string,
    readonly format: PcmFormat,
    private readonly gapMs = 1000,
  ) {
    this.description = `WAV files in ${dir}`;
  }

  write(chunk: Buffer, done: (err?: Error) => void): void {
    try {
      const now = performance.now();
      if (this.fd !== null && now - this.lastWrite > this.gapMs) this.finish();
      if (this.fd === null) this.open();
      fs.writeSync(this.fd!, chunk);
      this.bytes += chunk.length;
      this.lastWrite = now;
      done();
    } catch (err) {
      const e = new Error(`cannot write reply audio into ${this.dir}: ${(err as Error).message}`);
      for (const l of this.listeners) l(e);
      done(e);
    }
  }

  private open(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const name = `reply-${new Date().toISOString().replace(/[:.]/g, "-")}-${++this.seq}.wav`;
    this.fd = fs.openSync(path.join(this.dir, name), "w");
    fs.writeSync(this.fd, wavHeader(this.format, 0));
    this.bytes = 0;
  }

  private finish(): void {
    if (this.fd === null) return;
    fs.writeSync(this.fd, wavHeader(this.format, this.bytes), 0, 44, 0);
    fs.closeSync(this.fd);
    this.fd = null;
  }

  drop(): void {
    this.finish();
  }

  async close(): Promise<void> {
    this.finish();
  }

  onError(listener: (err: Error) => void): void {
    this.listeners.push(listener);
  }
}
