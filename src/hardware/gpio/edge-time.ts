/**
 * Puts kernel event timestamps (seconds on the kernel's clock, as gpiomon
 * prints them) on the daemon's clock. An event cannot arrive before it
 * happened, so the smallest (arrival − kernel time) seen is the best offset;
 * events that arrive together (a bounce burst, or edges queued while the
 * daemon was busy) keep their real spacing instead of sharing an arrival time.
 */
export class EdgeTimeMapper {
  private offset: number | undefined;

  constructor(private readonly resyncMs = 1000) {}

  /** Maps a batch of kernel times (ms, in order) that arrived at `nowMs`. */
  map(kernelMs: readonly number[], nowMs: number): number[] {
    const last = kernelMs[kernelMs.length - 1];
    if (last === undefined) return [];
    const offset = nowMs - last;
    // A mapping that makes the newest event older than resyncMs means the
    // kernel clock jumped back (realtime clock set): start over.
    if (this.offset === undefined || offset < this.offset || nowMs - (last + this.offset) > this.resyncMs) {
      this.offset = offset;
    }
    const o = this.offset;
    return kernelMs.map((k) => Math.min(nowMs, k + o));
  }
}
