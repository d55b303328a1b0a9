/**
 * A single LED on a GPIO output: on, off, blink, and dim / pulse by software PWM
 * (100 Hz by default, as Google AIY drives the Voice HAT's LED). Timers come from
 * the injected Clock; a solid or dark LED holds no timer.
 */
import type { Clock, ClockTimer } from "../../core/clock";
import type { OutputPin } from "./output";
import { pulseLevel, type MonoPattern } from "./patterns";

export interface GpioLedOptions {
  pin: OutputPin;
  clock: Clock;
  /** Lit when the pin is low (LED wired between 3V3 and the pin). */
  activeLow?: boolean;
  /** Software PWM frequency for dim and pulse. */
  pwmHz?: number;
  /** A failed pin write from a timer: the LED stops (dark) and reports here instead of throwing. */
  onError?: (err: Error) => void;
}

export class GpioLed {
  private readonly pin: OutputPin;
  private readonly clock: Clock;
  private readonly activeLow: boolean;
  private readonly periodMs: number;
  private readonly onError: (err: Error) => void;
  private lit: boolean | undefined;
  private failed = false;
  private phaseTimer: ClockTimer | undefined;
  private pwmTimer: ClockTimer | undefined;

  constructor(opts: GpioLedOptions) {
    this.pin = opts.pin;
    this.clock = opts.clock;
    this.activeLow = opts.activeLow ?? false;
    // Whole milliseconds: that is all a timer resolves.
    this.periodMs = Math.max(2, Math.round(1000 / (opts.pwmHz ?? 100)));
    this.onError = opts.onError ?? (() => {});
  }

  on(): void {
    this.show({ type: "on", duty: 100 });
  }

  off(): void {
    this.show({ type: "off" });
  }

  /** Lit for `onMs`, dark for `offMs`, starting lit; `duty` < 100 dims the lit phase. */
  blink(onMs: number, offMs: number, duty = 100): void {
    this.show({ type: "blink", onMs, offMs, duty });
  }

  /** Steady at `duty` percent (0 = off, 100 = fully on; no timer at either end). */
  dim(duty: number): void {
    this.show({ type: "on", duty });
  }

  /** Breathes between `duty` and dark once per period. */
  pulse(periodMs: number, duty = 100): void {
    this.show({ type: "pulse", periodMs, duty });
  }

  show(p: MonoPattern): void {
    this.stop();
    this.failed = false;
    switch (p.type) {
      case "off":
        this.set(false);
        return;
      case "on":
        this.steady(p.duty);
        return;
      case "blink": {
        const onMs = Math.max(1, p.onMs);
        const offMs = Math.max(1, p.offMs);
        const phase = (lit: boolean): void => {
          this.stopPwm();
          if (lit) this.steady(p.duty);
          else this.set(false);
          this.phaseTimer = this.after(lit ? onMs : offMs, () => phase(!lit));
        };
        phase(true);
        return;
      }
      case "pulse": {
        const start = this.clock.now();
        const periodMs = Math.max(1, p.periodMs);
        this.pwm(() => p.duty * pulseLevel(periodMs, this.clock.now() - start));
        return;
      }
    }
  }

  /** Dark, no timers left. The pin itself belongs to whoever opened it. */
  close(): void {
    this.stop();
    this.failed = false;
    this.set(false);
  }

  private steady(duty: number): void {
    if (duty >= 100) this.set(true);
    else if (duty <= 0) this.set(false);
    // The dimmest steady duty still lights: at least 1 ms per period.
    else this.pwm(() => Math.max(duty, 100 / this.periodMs));
  }

  /** One PWM period per call; the duty is asked for again each period, so a pulse follows its curve. */
  private pwm(duty: () => number): void {
    const cycle = (): void => {
      const raw = duty();
      const d = Number.isFinite(raw) ? Math.min(100, Math.max(0, raw)) : 0;
      const litMs = Math.round((this.periodMs * d) / 100);
      if (litMs === 0 || litMs === this.periodMs) {
        this.set(litMs > 0);
        this.pwmTimer = this.after(this.periodMs, cycle);
        return;
      }
      this.set(true);
      this.pwmTimer = this.after(litMs, () => {
        this.set(false);
        this.pwmTimer = this.after(this.periodMs - litMs, cycle);
      });
    };
    cycle();
  }

  private stopPwm(): void {
    this.clock.clearTimeout(this.pwmTimer);
    this.pwmTimer = undefined;
  }

  private stop(): void {
    this.stopPwm();
    this.clock.clearTimeout(this.phaseTimer);
    this.phaseTimer = undefined;
  }

  /** No new timers once a write failed: the LED stays stopped until the next show(). */
  private after(ms: number, fn: () => void): ClockTimer | undefined {
    return this.failed ? undefined : this.clock.setTimeout(fn, ms);
  }

  private set(lit: boolean): void {
    if (lit === this.lit || this.failed) return;
    try {
      this.pin.write(lit !== this.activeLow ? 1 : 0);
      this.lit = lit;
    } catch (err) {
      this.failed = true;
      this.lit = undefined;
      this.stop();
      this.onError(err as Error);
    }
  }
}
