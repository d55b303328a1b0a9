/**
 * Exponential back-off with jitter, capped. Jitter keeps a fleet of devices that
 * lost the same Wi-Fi from reconnecting in lock-step.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: how much of each delay is randomised (0.5 → between 50 % and 100 %). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}

  /** Delay before the next attempt; each call counts one failed attempt. */
  next(): number {
    const { initialMs, maxMs, jitter = 0.5, random = Math.random } = this.opts;
    const exp = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(exp * (1 - jitter * random()));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
