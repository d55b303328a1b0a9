/**
 * The one thing the LED code needs from a GPIO output line. The GPIO drivers
 * (src/hardware/gpio) are adapted to this by the caller, so the LED code works
 * with whichever backend the board uses, and with a recording fake in tests.
 */
export interface OutputPin {
  /** Physical level; active-low wiring is handled by the LED code that knows it. */
  write(level: 0 | 1): void;
  close?(): void;
}

/**
 * Opens a BCM-numbered pin as an output, driven to `initial` from the start so nothing flashes.
 * With src/hardware/gpio: `(pin, initial) => openGpio({ direction: "out", pin, initial })` (no activeLow there).
 */
export type OpenOutput = (pin: number, initial: 0 | 1) => OutputPin | Promise<OutputPin>;
