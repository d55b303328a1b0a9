/**
 * Stops and restarts reading a child process's output (arecord's audio) without closing
 * it, and empties it or takes what waits without a wake-up per chunk. While nobody needs
 * the mic, its audio waits in the kernel's socket buffer and is thrown away a few times a
 * second, instead of waking the main thread for every capture period (25 times a second,
 * most of an idle daemon's CPU). When the mic is needed again, what waited is dropped
 * first: only audio from then on is delivered. While a push-to-talk turn holds it, what
 * waits is taken a few periods at a time.
 *
 * Node has no public API for either half. This uses the stream's libuv handle, as
 * net.Socket itself does for back-pressure: `readStop()` / `readStart()` with its `reading`
 * flag, and `fd` for reads that return at once (the handle is non-blocking). Where a Node
 * lacks them, `supported` is false and the caller reads and drops audio as before.
 */
import fs from "node:fs";
import type { Readable } from "node:stream";

interface StreamHandle {
  fd?: number;
  reading?: boolean;
  readStop?(): number;
  readStart?(): number;
}

const SCRATCH = Buffer.allocUnsafe(64 * 1024);

export class PipeGate {
  private readonly handle: StreamHandle | null;
  private shut = false;

  constructor(stream: Readable) {
    const handle = (stream as unknown as { _handle?: StreamHandle })._handle ?? null;
    const usable = handle && typeof handle.fd === "number" && handle.fd >= 0 && typeof handle.readStop === "function" && typeof handle.readStart === "function";
    this.handle = usable ? handle : null;
  }

  get supported(): boolean {
    return this.handle !== null;
  }

  /** Reading stops: what the child writes stays in the kernel until open() or empty(). */
  close(): void {
    if (!this.handle) return;
    this.shut = true;
    this.stop();
  }

  /** Drops what waited, then reading goes on. */
  open(): void {
    if (!this.handle || !this.shut) return;
    this.shut = false;
    this.empty();
    this.handle.reading = true;
    this.handle.readStart!();
  }

  /**
   * Reads and drops what the child has written so far; the bytes dropped (0 once it has
   * closed its end). Also closes reading again if the stream restarted it.
   */
  empty(): number {
    return this.readAll(null);
  }

  /**
   * What the child has written so far, read without a wake-up of its own (reading stays
   * stopped); null when nothing waits. The caller's timer decides how often: several
   * periods per read instead of one wake-up per period.
   */
  take(): Buffer | null {
    const parts: Buffer[] = [];
    const n = this.readAll(parts);
    if (n === 0) return null;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Reads all that waits, into `parts` (copies) or dropped; the bytes read. */
  private readAll(parts: Buffer[] | null): number {
    const h = this.handle;
    if (!h) return 0;
    // The stream restarts a stopped handle when it asks for more after a chunk that was
    // already on its way: stop it again.
    if (this.shut && h.reading) this.stop();
    let total = 0;
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(h.fd!, SCRATCH, 0, SCRATCH.length, null);
      } catch {
        // EAGAIN: nothing more for now. Anything else (the child's end went away): nothing more.
        return total;
      }
      if (n === 0) return total;
      total += n;
      parts?.push(Buffer.from(SCRATCH.subarray(0, n)));
      // A read that did not fill the buffer took all there was: no second read to find
      // it empty (that one fails with EAGAIN, an exception and its stack trace each tick).
      if (n < SCRATCH.length) return total;
    }
  }

  private stop(): void {
    this.handle!.reading = false;
    this.handle!.readStop!();
  }
}
