/**
 * Cuts a byte stream into frames of exactly `frameBytes`; the audio drivers deliver
 * whatever chunk sizes the device's periods give.
 */
export class Framer {
  private pendingBuf: Buffer = Buffer.alloc(0);

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new Error(`frame size must be a positive whole number of bytes, got ${frameBytes}`);
  }

  push(chunk: Buffer, emit: (frame: Buffer) => void): void {
    const buf = this.pendingBuf.length ? Buffer.concat([this.pendingBuf, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= this.frameBytes) {
      emit(buf.subarray(off, off + this.frameBytes));
      off += this.frameBytes;
    }
    // Copy the remainder: the caller may reuse its chunk buffer.
    this.pendingBuf = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  }

  get pending(): number {
    return this.pendingBuf.length;
  }

  /** The incomplete frame held so far, removed from the framer. */
  takePartial(): Buffer {
    const p = this.pendingBuf;
    this.pendingBuf = Buffer.alloc(0);
    return p;
  }
}
