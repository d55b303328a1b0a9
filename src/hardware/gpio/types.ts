import type { Clock } from "../../core/clock";
import type { Logger } from "../../log/logger";
import type { GpioError } from "./errors";

/** A logical level: 1 is active (after active-low inversion), 0 inactive. */
export type Level = 0 | 1;
export type Pull = "up" | "down" | "none";
export type GpioDriverName = "sysfs" | "gpiod";

export interface GpioInput {
  readonly driver: GpioDriverName;
  /** What was opened, for logs and status: e.g. "gpiod v2 gpiochip0 line 17". */
  readonly description: string;
  /**
   * Level changes with the time they happened on the driver's clock (ms).
   * A level may repeat when the line bounces faster than it is read.
   */
  watch(cb: (level: Level, atMs: number) => void): void;
  /** The last known level. */
  read(): Level;
  close(): void;
}

export interface GpioOutput {
  readonly driver: GpioDriverName;
  readonly description: string;
  write(level: Level): void;
  close(): void;
}

export interface GpioCommonOptions {
  driver?: "auto" | GpioDriverName;
  /** BCM GPIO number (the number printed on pinout diagrams, e.g. 17 for the ReSpeaker button). */
  pin: number;
  activeLow?: boolean;
  /** Where the sysfs chips are looked up; onoff itself always uses /sys/class/gpio. */
  sysfsRoot?: string;
  /** Labels of the header GPIO chip, most preferred first. */
  chipLabels?: readonly string[];
  /** The chip for the libgpiod tools (name, number or /dev path); found by label through gpiodetect when unset. */
  gpiodChip?: string;
  /** Where to look for the libgpiod tools; defaults to $PATH. */
  searchPath?: string;
  clock?: Clock;
  logger?: Logger;
  /** Failures after open (a gpiomon that died, a failed read); the driver keeps retrying. */
  onError?: (err: GpioError) => void;
}

export interface GpioInputOptions extends GpioCommonOptions {
  direction: "in";
  /** Bias to request; sysfs cannot set it (it stays as the board or config.txt left it). */
  pull?: Pull;
  /** Back-off for restarting a gpiomon that died. */
  restart?: { minMs: number; maxMs: number };
}

export interface GpioOutputOptions extends GpioCommonOptions {
  direction: "out";
  /** Logical level driven from open on; default 0. */
  initial?: Level;
  restart?: { minMs: number; maxMs: number };
}

export type GpioOptions = GpioInputOptions | GpioOutputOptions;
