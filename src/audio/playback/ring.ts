/**
 * A lock-free single-producer/single-consumer byte ring in a SharedArrayBuffer.
 * The main thread writes decoded PCM; the playback worker reads it. Indices are
 * free-running 32-bit counters (position = index mod capacity).
 *
 * Flush is an index move by the producer (read := write). A consumer that copied
 * a chunk while that happened notices at its compare-and-swap commit and drops
 * the chunk, so nothing from before a flush is played after it.
 */
const WRITE = 0;
const READ = 1;
const FLUSHES = 2;
/** Index at which the current reply ends; valid while END_SET is 1. */
const END = 3;
const UNDERRUNS = 4;
const END_SET = 5;
/** Bumped by every producer action (write, end mark, flush, close): what the consumer sleeps on. */
const SIGNALS = 6;
/** 1 once the producer closed the ring: the consumer stops. */
const CLOSED = 7;
/** 1 while the consumer sleeps waiting for audio (not merely for the device to drain). */
const WANTS_DATA = 8;
const HEADER_INTS = 10;
const HEADER_BYTES = HEADER_INTS * 4;
/**
 * This header's version. The speaker addon's C playback thread (scripts/patches/, player.c)
 * reads the same slots and refuses a ring whose layout number it was not built for.
 */
export const RING_LAYOUT = 1;

export class SpscRing {
  readonly capacity: number;
  private readonly h: Int32Array;
  private readonly data: Uint8Array;
  /** How a sleeping consumer is woken: Atomics.notify for a JS thread, the addon's call for the C one. */
  private wake: ((flushed: boolean) => void) | null = null;

  static allocate(capacity: number): SharedArrayBuffer {
    return new SharedArrayBuffer(HEADER_BYTES + capacity);
  }

  constructor(readonly sab: SharedArrayBuffer) {
    this.h = new Int32Array(sab, 0, HEADER_INTS);
    this.data = new Uint8Array(sab, HEADER_BYTES);
    this.capacity = this.data.length;
  }

  /** Bytes waiting to be read. */
  get used(): number {
    return (Atomics.load(this.h, WRITE) - Atomics.load(this.h, READ)) >>> 0;
  }

  get free(): number {
    return this.capacity - this.used;
  }

  get flushes(): number {
    return Atomics.load(this.h, FLUSHES);
  }

  get underruns(): number {
    return Atomics.load(this.h, UNDERRUNS);
  }

  /**
   * A consumer that does not sleep in Atomics.wait (the C playback thread: V8's notify
   * reaches only V8's own waiters) is woken by `wake` instead, under the same rule;
   * `flushed` says the wake is a flush's (the C thread's device can be cut at once).
   */
  wakeWith(wake: (flushed: boolean) => void): void {
    this.wake = wake;
  }

  // ---- producer side ----

  /** Copies as much of `src` as fits; returns the bytes written. */
  write(src: Uint8Array): number {
    const w = Atomics.load(this.h, WRITE);
    const n = Math.min(src.length, this.free);
    if (n === 0) return 0;
    const pos = (w >>> 0) % this.capacity;
    const first = Math.min(n, this.capacity - pos);
    this.data.set(src.subarray(0, first), pos);
    if (n > first) this.data.set(src.subarray(first, n), 0);
    Atomics.store(this.h, WRITE, (w + n) | 0);
    this.signal(false);
    return n;
  }

  /** Marks the end of the current reply at `extra` bytes past what is written so far. */
  markEnd(extra = 0): void {
    Atomics.store(this.h, END, (Atomics.load(this.h, WRITE) + extra) | 0);
    Atomics.store(this.h, END_SET, 1);
    this.signal(false);
  }

  /** New audio after an end mark belongs to a new reply. */
  clearEnd(): void {
    Atomics.store(this.h, END_SET, 0);
  }

  /** Empties the ring at once. */
  flush(): void {
    Atomics.store(this.h, READ, Atomics.load(this.h, WRITE));
    Atomics.store(this.h, END_SET, 0);
    Atomics.add(this.h, FLUSHES, 1);
    this.signal(true, true);
  }

  /** Tells the consumer to stop. */
  close(): void {
    Atomics.store(this.h, CLOSED, 1);
    this.signal(true);
  }

  /**
   * Tells the consumer: the counter always moves, and a consumer sleeping in waitForSignal is
   * woken by a flush or a close, and by audio or an end mark only when it waits for audio.
   * One that sleeps until the device has room again finds the new audio when it wakes: waking
   * it for every delta was a futex wake and a thread wake-up per delta, for nothing.
   *
   * A counter rather than the write index: a flush or an end mark moves no write index, and a
   * signal that came between the consumer's look at the ring and its sleep is never lost —
   * its wait finds the counter moved and returns at once.
   */
  private signal(always: boolean, flushed = false): void {
    Atomics.add(this.h, SIGNALS, 1);
    if (!always && Atomics.load(this.h, WANTS_DATA) !== 1) return;
    if (this.wake) this.wake(flushed);
    else Atomics.notify(this.h, SIGNALS);
  }

  // ---- consumer side ----

  /**
   * Copies up to `dst.length` bytes (only whole `align`-byte frames) into dst;
   * returns the count, or 0 when empty or when a flush raced the read.
   */
  read(dst: Uint8Array, align = 1): number {
    const r = Atomics.load(this.h, READ);
    const avail = (Atomics.load(this.h, WRITE) - r) >>> 0;
    let n = Math.min(dst.length, avail);
    n -= n % align;
    if (n === 0) return 0;
    const pos = (r >>> 0) % this.capacity;
    const first = Math.min(n, this.capacity - pos);
    dst.set(this.data.subarray(pos, pos + first), 0);
    if (n > first) dst.set(this.data.subarray(0, n - first), first);
    return Atomics.compareExchange(this.h, READ, r, (r + n) | 0) === r ? n : 0;
  }

  /** Bytes left before the end mark, or null while the reply goes on. */
  get toEnd(): number | null {
    if (Atomics.load(this.h, END_SET) !== 1) return null;
    return Math.max(0, (Atomics.load(this.h, END) - Atomics.load(this.h, READ)) | 0);
  }

  /** True when everything up to the end mark has been read. */
  get endReached(): boolean {
    if (Atomics.load(this.h, END_SET) !== 1) return false;
    return ((Atomics.load(this.h, END) - Atomics.load(this.h, READ)) | 0) <= 0;
  }

  get closed(): boolean {
    return Atomics.load(this.h, CLOSED) === 1;
  }

  /** The producer's signal count: read it before looking at the ring, then sleep on it. */
  get signals(): number {
    return Atomics.load(this.h, SIGNALS);
  }

  /**
   * Blocks this thread until the producer signals after `seen` or `timeoutMs` passes: any
   * signal when `forData` (the consumer has nothing to play until more comes), else only a
   * flush or a close (it sleeps until the device has room; new audio can wait for that). A
   * futex wait: the wake-up goes straight to this thread, where an async wait goes through the
   * thread's event loop; for the playback thread, which owns nothing else, that is the
   * shortest way from a reply's first audio to the device. Returns how the wait ended.
   */
  waitForSignal(seen: number, timeoutMs: number, forData = true): "ok" | "not-equal" | "timed-out" {
    // Set before the wait compares the counter: a producer that signals after the compare sees it.
    if (forData) Atomics.store(this.h, WANTS_DATA, 1);
    const how = Atomics.wait(this.h, SIGNALS, seen, Math.max(0, timeoutMs));
    if (forData) Atomics.store(this.h, WANTS_DATA, 0);
    return how;
  }

  countUnderrun(): void {
    Atomics.add(this.h, UNDERRUNS, 1);
  }
}
