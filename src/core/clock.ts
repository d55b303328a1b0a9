/** Time source for anything that waits, so state logic can be tested with a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

export type ClockTimer = { readonly __timer: unique symbol } | NodeJS.Timeout;

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (t) => {
    if (t) clearTimeout(t as NodeJS.Timeout);
  },
};
