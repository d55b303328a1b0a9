import { realClock, type Clock, type ClockTimer } from "../../core/clock";
import type { Level } from "../gpio/types";

/**
 * A talk button's meaning, from raw levels (1 = pressed):
 * - debounce: the first change counts at once (push-to-talk must not wait);
 *   further changes within debounceMs are settled when the window ends;
 * - down/up: push-to-talk;
 * - long: held longPressMs, fired while still held (e.g. "new conversation");
 * - double: a second down within doublePressMs of the first down, as an extra
 *   event after that down (the first down is never delayed to wait for it);
 * - triple (when asked for): a third down within doublePressMs of the second, as an
 *   extra event after it (the double was reported at the second down);
 * - stuck: held maxHoldMs is taken as released (`up` with stuck: true); the
 *   physical release that follows is ignored. A button already held when the
 *   daemon starts is treated the same way.
 */
export interface ButtonOptions {
  name: string;
  /** Who talks with this button (several buttons: driver, passenger). */
  userId?: string;
  clock?: Clock;
  debounceMs?: number;
  /** Infinity disables. */
  longPressMs?: number;
  /** 0 disables. */
  doublePressMs?: number;
  /** Report a third quick press as `triple` (otherwise it starts a new pair). */
  triplePress?: boolean;
  /** Infinity disables. */
  maxHoldMs?: number;
  /** The level when the button is attached. */
  initialLevel?: Level;
}

interface Who {
  button: string;
  userId?: string;
}

export type ButtonEvent =
  | (Who & { type: "down"; atMs: number })
  | (Who & { type: "up"; atMs: number; heldMs: number; stuck: boolean })
  | (Who & { type: "long"; atMs: number; heldMs: number })
  | (Who & { type: "double"; atMs: number; intervalMs: number })
  | (Who & { type: "triple"; atMs: number });

/** A button's raw levels in (1 pressed), with the time they happened: what a source feeds. */
export interface ButtonEdges {
  edge(level: Level, atMs?: number): void;
  close(): void;
}

export const BUTTON_DEFAULTS = { debounceMs: 30, longPressMs: 2000, doublePressMs: 400, maxHoldMs: 60_000 } as const;

export class Button implements ButtonEdges {
  private readonly clock: Clock;
  private readonly who: Who;
  private readonly debounceMs: number;
  private readonly longPressMs: number;
  private readonly doublePressMs: number;
  private readonly triplePress: boolean;
  /** Quick presses in a row so far (each within doublePressMs of the one before). */
  private downsInRow = 0;
  private readonly maxHoldMs: number;
  /** Last level seen on the wire. */
  private raw: Level;
  /** Debounced level. */
  private stable: Level;
  private lockTimer: ClockTimer | undefined;
  private locked = false;
  private lockUntil = 0;
  /** Held past the stuck limit (or at start): no events until the release. */
  private suppressed: boolean;
  private pressedAt: number | undefined;
  private lastDownAt: number | undefined;
  private longTimer: ClockTimer | undefined;
  private stuckTimer: ClockTimer | undefined;
  private closed = false;

  constructor(
    opts: ButtonOptions,
    private readonly emit: (e: ButtonEvent) => void,
  ) {
    if (!opts.name) throw new RangeError("a button needs a name");
    this.clock = opts.clock ?? realClock;
    this.who = opts.userId === undefined ? { button: opts.name } : { button: opts.name, userId: opts.userId };
    this.debounceMs = check("debounceMs", opts.debounceMs ?? BUTTON_DEFAULTS.debounceMs, 0);
    if (!Number.isFinite(this.debounceMs)) throw new RangeError("button debounceMs must be finite");
    this.longPressMs = check("longPressMs", opts.longPressMs ?? BUTTON_DEFAULTS.longPressMs, 1);
    this.doublePressMs = check("doublePressMs", opts.doublePressMs ?? BUTTON_DEFAULTS.doublePressMs, 0);
    this.triplePress = opts.triplePress ?? false;
    this.maxHoldMs = check("maxHoldMs", opts.maxHoldMs ?? BUTTON_DEFAULTS.maxHoldMs, 1);
    this.raw = this.stable = opts.initialLevel ?? 0;
    this.suppressed = this.stable === 1;
  }

  /** True between an accepted down and its up (a stuck press counts as released). */
  get pressed(): boolean {
    return this.pressedAt !== undefined;
  }

  /** A raw level from the wire; atMs on this button's clock (defaults to now). */
  edge(level: Level, atMs: number = this.clock.now()): void {
    if (this.closed) return;
    // Edges delivered late (in a burst) may lie past a window whose timer hasn't run yet.
    while (this.locked && atMs >= this.lockUntil) this.unlock();
    this.raw = level;
    if (this.locked || level === this.stable) return;
    this.accept(level, atMs);
  }

  close(): void {
    this.closed = true;
    for (const t of [this.lockTimer, this.longTimer, this.stuckTimer]) this.clock.clearTimeout(t);
  }

  private accept(level: Level, at: number): void {
    this.stable = level;
    // A source that does not bounce (debounce 0: the control socket, the keyboard) needs no
    // window, and its press no timer on the barge-in's way.
    if (this.debounceMs > 0) {
      this.locked = true;
      this.lockUntil = at + this.debounceMs;
      this.lockTimer = this.schedule(this.lockUntil, () => this.unlock());
    }
    if (this.suppressed) {
      if (level === 0) this.suppressed = false;
      return;
    }
    if (level === 1) this.press(at);
    else this.release(at);
  }

  /** The bounce window is over: whatever the wire settled on counts now. */
  private unlock(): void {
    this.clock.clearTimeout(this.lockTimer);
    this.locked = false;
    this.lockTimer = undefined;
    if (this.raw !== this.stable) this.accept(this.raw, this.lockUntil);
  }

  private press(at: number): void {
    this.pressedAt = at;
    this.emit({ ...this.who, type: "down", atMs: at });
    const previous = this.lastDownAt;
    if (previous !== undefined && at - previous <= this.doublePressMs) {
      this.downsInRow += 1;
      if (this.downsInRow === 2) this.emit({ ...this.who, type: "double", atMs: at, intervalMs: at - previous });
      else this.emit({ ...this.who, type: "triple", atMs: at });
      // The next press starts anew: a pair (or a triple, when asked for) never runs into a longer row.
      const more = this.triplePress && this.downsInRow === 2;
      this.lastDownAt = more ? at : undefined;
      if (!more) this.downsInRow = 0;
    } else {
      this.lastDownAt = at;
      this.downsInRow = 1;
    }
    this.longTimer = this.schedule(at + this.longPressMs, () => {
      this.longTimer = undefined;
      // A long press is not the first half of a double.
      this.lastDownAt = undefined;
      this.emit({ ...this.who, type: "long", atMs: at + this.longPressMs, heldMs: this.longPressMs });
    });
    this.stuckTimer = this.schedule(at + this.maxHoldMs, () => {
      this.stuckTimer = undefined;
      this.clock.clearTimeout(this.longTimer);
      this.longTimer = undefined;
      this.pressedAt = undefined;
      this.lastDownAt = undefined;
      this.suppressed = true;
      this.emit({ ...this.who, type: "up", atMs: at + this.maxHoldMs, heldMs: this.maxHoldMs, stuck: true });
    });
  }

  private release(at: number): void {
    const since = this.pressedAt;
    if (since === undefined) return;
    this.clock.clearTimeout(this.longTimer);
    this.clock.clearTimeout(this.stuckTimer);
    this.longTimer = this.stuckTimer = undefined;
    this.pressedAt = undefined;
    this.emit({ ...this.who, type: "up", atMs: at, heldMs: at - since, stuck: false });
  }

  /** A timer for an absolute time on the clock; none when the time is infinite. */
  private schedule(atMs: number, fn: () => void): ClockTimer | undefined {
    if (!Number.isFinite(atMs)) return undefined;
    return this.clock.setTimeout(fn, Math.max(0, atMs - this.clock.now()));
  }
}

function check(name: string, value: number, min: number): number {
  if (Number.isNaN(value) || value < min) throw new RangeError(`button ${name} must be a number ≥ ${min}, got ${value}`);
  return value;
}
