import type { Gpio as OnoffGpio } from "onoff";
import type { Clock } from "../../core/clock";
import type { Logger } from "../../log/logger";
import { GpioError, sysfsError } from "./errors";
import type { GpioInput, GpioOutput, Level } from "./types";

/**
 * GPIO through sysfs with onoff. Kept thin: onoff can't run without a real
 * /sys/class/gpio (its path is hard-coded and watch() needs epoll on a gpio
 * value file), so the logic lives above this layer. Active-low is applied
 * here rather than through sysfs so that every driver inverts the same way.
 */
type GpioCtor = typeof OnoffGpio;

export function loadOnoff(): GpioCtor {
  try {
    return (require("onoff") as typeof import("onoff")).Gpio;
  } catch (err) {
    throw new GpioError(
      `onoff could not be loaded (${err instanceof Error ? err.message.split("\n")[0] : String(err)}): ` +
        "its native epoll module may not have built (talkbox doctor says; re-run the installer to rebuild it), or use the gpiod driver",
      "no-driver",
      { cause: err },
    );
  }
}

interface SysfsLine {
  gpio: number;
  pin: number;
}

interface SysfsOptions {
  activeLow: boolean;
  clock: Clock;
  logger: Logger;
  onError?: (err: GpioError) => void;
}

function report(opts: SysfsOptions, err: GpioError): void {
  opts.logger.warn({ code: err.code }, err.message);
  opts.onError?.(err);
}

/** Unexports on close; a failure there must not take the daemon down while it stops. */
function release(gpio: OnoffGpio, line: SysfsLine, opts: SysfsOptions): void {
  try {
    gpio.unexport();
  } catch (err) {
    report(opts, sysfsError(err, { ...line, op: "unexport" }));
  }
}

function describe(line: SysfsLine, activeLow: boolean): string {
  return `sysfs gpio${line.gpio} (BCM ${line.pin})${activeLow ? " active-low" : ""}`;
}

export function openSysfsInput(line: SysfsLine, opts: SysfsOptions): GpioInput {
  const Gpio = loadOnoff();
  const invert = (v: number): Level => ((opts.activeLow ? 1 - v : v) === 1 ? 1 : 0);
  let gpio: OnoffGpio;
  let level: Level;
  try {
    gpio = new Gpio(line.gpio, "in", "both");
    level = invert(gpio.readSync());
  } catch (err) {
    throw sysfsError(err, { ...line, op: "export" });
  }
  return {
    driver: "sysfs",
    description: describe(line, opts.activeLow),
    watch(cb) {
      gpio.watch((err, value) => {
        if (err) return report(opts, sysfsError(err, { ...line, op: "watch" }));
        level = invert(value);
        cb(level, opts.clock.now());
      });
    },
    read() {
      try {
        level = invert(gpio.readSync());
      } catch (err) {
        report(opts, sysfsError(err, { ...line, op: "read" }));
      }
      return level;
    },
    close() {
      gpio.unwatchAll();
      release(gpio, line, opts);
    },
  };
}

export function openSysfsOutput(line: SysfsLine, opts: SysfsOptions, initial: Level): GpioOutput {
  const Gpio = loadOnoff();
  const physical = (v: Level): Level => (opts.activeLow ? ((1 - v) as Level) : v);
  let gpio: OnoffGpio;
  try {
    // "high"/"low" sets direction and value in one write: no glitch at open.
    gpio = new Gpio(line.gpio, physical(initial) === 1 ? "high" : "low");
  } catch (err) {
    throw sysfsError(err, { ...line, op: "export" });
  }
  return {
    driver: "sysfs",
    description: describe(line, opts.activeLow),
    write(level) {
      try {
        gpio.writeSync(physical(level));
      } catch (err) {
        report(opts, sysfsError(err, { ...line, op: "write" }));
      }
    },
    close() {
      release(gpio, line, opts);
    },
  };
}
