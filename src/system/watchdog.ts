/**
 * systemd's watchdog (WatchdogSec=): the service must send WATCHDOG=1 more often than
 * WATCHDOG_USEC or systemd kills and restarts it. The pets come from a timer on the main
 * event loop, so they stop exactly when the loop stops turning (a busy loop, a deadlock
 * in synchronous code) — which is the hang the watchdog is there to catch.
 */
import { realClock, type Clock, type ClockTimer } from "../core/clock";

export type WatchdogSetting = { intervalMs: number } | { intervalMs: null; problem?: string };

/**
 * How often to pet, from systemd's environment: half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
 * advises. Off when WATCHDOG_USEC is unset, or WATCHDOG_PID names another process (a child
 * that inherited the variables).
 */
export function watchdogSetting(env: NodeJS.ProcessEnv, pid: number = process.pid): WatchdogSetting {
  const usec = env.WATCHDOG_USEC;
  if (!usec) return { intervalMs: null };
  if (env.WATCHDOG_PID && env.WATCHDOG_PID !== String(pid)) return { intervalMs: null };
  const n = Number(usec);
  if (!/^\d+$/.test(usec) || !Number.isSafeInteger(n) || n === 0) {
    return { intervalMs: null, problem: `WATCHDOG_USEC is not a positive whole number of microseconds (${JSON.stringify(usec)}); the watchdog is off` };
  }
  return { intervalMs: Math.max(1, Math.floor(n / 2000)) };
}

export class Watchdog {
  private timer: ClockTimer | undefined;
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly pet: () => void,
    private readonly clock: Clock = realClock,
  ) {}

  /** Pets at once, then every interval until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly tick = (): void => {
    if (!this.running) return;
    this.pet();
    // realClock's timers are unref'd: the watchdog alone never keeps the process alive.
    this.timer = this.clock.setTimeout(this.tick, this.intervalMs);
  };
}
