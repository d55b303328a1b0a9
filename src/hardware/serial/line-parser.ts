import { ReadlineParser } from "@serialport/parser-readline";
import type { TransformCallback } from "node:stream";

export interface BoundedLineParserOptions {
  /** Longest accepted line in bytes, without its terminator. */
  maxLength: number;
  /** Called once per discarded line, as soon as it is known to be too long. */
  onOverlong: (bytes: number) => void;
}

/**
 * serialport's ReadlineParser with a length bound. The plain parser buffers
 * until it sees a newline, so a device at the wrong baud rate (or one that never
 * sends `\n`) would grow that buffer without end; here a line that passes the
 * bound is dropped, and so is everything up to its newline. A trailing `\r` is
 * removed, and a partial line left when the port goes away is dropped rather
 * than handed on as if it were complete.
 */
export class BoundedLineParser extends ReadlineParser {
  private discarding = false;
  private readonly maxLength: number;
  private readonly onOverlong: (bytes: number) => void;

  constructor(opts: BoundedLineParserOptions) {
    super({ delimiter: "\n", encoding: "utf8" });
    this.maxLength = opts.maxLength;
    this.onOverlong = opts.onOverlong;
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, cb: TransformCallback): void {
    super._transform(chunk, encoding, (err) => {
      if (this.buffer.length > this.maxLength) {
        if (!this.discarding) this.onOverlong(this.buffer.length);
        this.discarding = true;
        this.buffer = Buffer.alloc(0);
      }
      cb(err);
    });
  }

  override _flush(cb: TransformCallback): void {
    this.buffer = Buffer.alloc(0);
    this.discarding = false;
    cb();
  }

  // DelimiterParser hands each complete line to push(); this is the one place to filter them.
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (!Buffer.isBuffer(chunk)) return super.push(chunk, encoding);
    if (this.discarding) {
      // The tail of a line already reported as too long.
      this.discarding = false;
      return true;
    }
    const line = chunk.length > 0 && chunk[chunk.length - 1] === 0x0d ? chunk.subarray(0, -1) : chunk;
    if (line.length > this.maxLength) {
      this.onOverlong(line.length);
      return true;
    }
    return super.push(line, encoding);
  }
}
