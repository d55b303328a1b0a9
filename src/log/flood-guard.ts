/**
 * Warnings and errors that repeat: the first is logged, the repeats within the
 * next few seconds are counted and summed up in one line. A server sending 10 000
 * invalid events a second, or a speaker failing every 40 ms write, must not push
 * journald into its rate limit, which would drop the lines that matter.
 *
 * Keyed by level and message text (the fields may differ): a message that carries
 * changing details in its text is already distinct and passes.
 */

export interface FloodGuardOptions {
  /** How long repeats are counted before the summary (and the next one logged again). */
  windowMs: number;
  now: () => number;
  /** How many distinct messages are tracked at once; beyond it, the oldest is summed up and forgotten. */
  maxKeys?: number;
}

export interface Repeats {
  level: number;
  msg: string;
  count: number;
  windowMs: number;
}

interface Entry {
  level: number;
  msg: string;
  since: number;
  suppressed: number;
}

export class FloodGuard {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: FloodGuardOptions,
    /** Writes a summary line (at the message's level). */
    private readonly summarize: (r: Repeats) => void,
  ) {}

  /** True when this message should be written now; false when it is a counted repeat. */
  admit(level: number, msg: string): boolean {
    const key = `${level}\u0000${msg}`;
    const now = this.opts.now();
    const e = this.entries.get(key);
    if (e && now - e.since < this.opts.windowMs) {
      e.suppressed++;
      this.arm();
      return false;
    }
    if (e) this.flush(key, e);
    this.entries.set(key, { level, msg, since: now, suppressed: 0 });
    const max = this.opts.maxKeys ?? 256;
    if (this.entries.size > max) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Entry];
      this.flush(oldest, entry);
    }
    return true;
  }

  /** Sums up every window that has ended. */
  sweep(): void {
    const now = this.opts.now();
    for (const [key, e] of this.entries) if (now - e.since >= this.opts.windowMs) this.flush(key, e);
    if (![...this.entries.values()].some((e) => e.suppressed > 0)) this.disarm();
  }

  private flush(key: string, e: Entry): void {
    this.entries.delete(key);
    if (e.suppressed > 0) this.summarize({ level: e.level, msg: e.msg, count: e.suppressed, windowMs: this.opts.windowMs });
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), this.opts.windowMs);
    this.timer.unref();
  }

  private disarm(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
