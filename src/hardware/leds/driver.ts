/**
 * LED drivers by name, and the controller that shows the device state on them.
 *
 * A board profile names its LEDs' driver (`ledHardwareSchema`); `openLedDriver` opens it with
 * the caller's GPIO outputs; `LedController.setState` then renders the state's pattern.
 * Pixel LEDs (APA102) are animated by one timer that runs only while the pattern moves; a
 * mono LED animates itself (blink and PWM in GpioLed). Nothing is written unless it changed.
 */
import type { Clock, ClockTimer } from "../../core/clock";
import type { DeviceState } from "../../core/device-state";
import type { Logger } from "../../log/logger";
import type { LedHardware } from "./schema";
import { Apa102Strip, bitBangTransport, openSpiTransport, type Apa102Pixel, type Apa102Transport, type PowerPin } from "./apa102";
import { GpioLed } from "./gpio-led";
import type { OpenOutput, OutputPin } from "./output";
import { DEFAULT_LED_PATTERNS, isAnimated, ledLook, monoPattern, renderPixels, type LedLook, type LedPattern, type LedPatternTable, type MonoPattern, type Rgb } from "./patterns";

export type LedDriver =
  | {
      readonly kind: "pixels";
      readonly name: "apa102-spi" | "apa102-bitbang";
      readonly count: number;
      /** Throws when the write fails. */
      show(pixels: readonly Apa102Pixel[]): void;
      close(): void;
    }
  | {
      readonly kind: "mono";
      readonly name: "gpio" | "pwm-gpio";
      /** pwm-gpio: brightness becomes a software-PWM duty and pulses breathe. */
      readonly dimmable: boolean;
      show(pattern: MonoPattern): void;
      close(): void;
    };

export { ledHardwareSchema, type LedHardware } from "./schema";

export interface LedIo {
  openOutput: OpenOutput;
  clock: Clock;
  logger: Logger;
}

/** Opens the LEDs; on failure nothing stays open and the error says what to do. */
export async function openLedDriver(hw: LedHardware, io: LedIo): Promise<LedDriver> {
  const opened: OutputPin[] = [];
  const output = async (pin: number, initial: 0 | 1): Promise<OutputPin> => {
    const p = await io.openOutput(pin, initial);
    opened.push(p);
    return p;
  };
  const release = (): void => {
    for (const p of opened) {
      try {
        p.close?.();
      } catch (err) {
        io.logger.warn({ err }, "releasing an LED pin failed");
      }
    }
  };
  try {
    if (hw.driver === "gpio" || hw.driver === "pwm-gpio") {
      const pin = await output(hw.pin, hw.active_low ? 1 : 0);
      const led = new GpioLed({
        pin,
        clock: io.clock,
        activeLow: hw.active_low,
        ...(hw.driver === "pwm-gpio" ? { pwmHz: hw.pwm_hz } : {}),
        onError: (err) => io.logger.warn({ err }, `LED on GPIO${hw.pin} stopped: writing the pin failed`),
      });
      return {
        kind: "mono",
        name: hw.driver,
        dimmable: hw.driver === "pwm-gpio",
        show: (p) => led.show(p),
        close: () => {
          led.close();
          release();
        },
      };
    }
    const powerPin: PowerPin | undefined = hw.power && { pin: await output(hw.power.pin, hw.power.active_low ? 1 : 0), activeLow: hw.power.active_low };
    // The schema lets through either an SPI device or both bit-bang pins.
    const transport: Apa102Transport = hw.spi ? openSpiTransport(hw.spi) : bitBangTransport(await output(hw.data_pin!, 0), await output(hw.clock_pin!, 0));
    let strip: Apa102Strip;
    try {
      strip = new Apa102Strip(hw.count, transport, powerPin);
    } catch (err) {
      transport.close();
      throw err;
    }
    return {
      kind: "pixels",
      name: hw.spi ? "apa102-spi" : "apa102-bitbang",
      count: hw.count,
      show: (pixels) => strip.show(pixels),
      close: () => {
        try {
          strip.close();
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

// ---- controller ----

export interface LedControllerOptions {
  driver: LedDriver;
  clock: Clock;
  logger: Logger;
  patterns?: LedPatternTable;
  /** Frame interval while a pattern moves. */
  tickMs?: number;
}

function samePattern(a: LedPattern, b: LedPattern): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function pixelsKey(pixels: readonly Apa102Pixel[]): string {
  return pixels.map((p) => `${p.r},${p.g},${p.b},${p.brightness}`).join(" ");
}

/** Shows device states on the LEDs. A write failure turns the LEDs off for good, logged once; it never throws. */
/** The looks in which the agent is heard: a profile's colour says which agent it is. */
const TINTED: ReadonlySet<LedLook> = new Set(["speaking", "announcing"]);

export class LedController {
  private readonly driver: LedDriver;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly patterns: LedPatternTable;
  private readonly tickMs: number;
  private pattern: LedPattern | undefined;
  private startedAt = 0;
  private timer: ClockTimer | undefined;
  private written: string | undefined;
  private stopped = false;
  /** The agent profile's colour for the looks where the agent speaks (none: the table's). */
  private tint: Rgb | undefined;
  private last: { state: DeviceState; problem: string | undefined } | undefined;

  constructor(opts: LedControllerOptions) {
    this.driver = opts.driver;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.patterns = opts.patterns ?? DEFAULT_LED_PATTERNS;
    this.tickMs = Math.max(10, opts.tickMs ?? 40);
  }

  /** The same pattern again (same state, or a state that looks the same) keeps running undisturbed. */
  /** Shows `state`; offline shows `problem` too when it is one the user must act on (patterns.ts). */
  setState(state: DeviceState, problem?: string): void {
    this.last = { state, problem };
    const look = ledLook(state, problem);
    const table = this.patterns[look];
    const pattern = this.tint && TINTED.has(look) ? { ...table, color: this.tint } : table;
    if (this.stopped || (this.pattern && samePattern(pattern, this.pattern))) return;
    this.pattern = pattern;
    this.startedAt = this.clock.now();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const driver = this.driver;
    if (driver.kind === "mono") {
      const mono = monoPattern(pattern, driver.dimmable);
      this.writeIfChanged(JSON.stringify(mono), () => driver.show(mono));
    } else if (driver.kind === "pixels") {
      this.frame();
      if (isAnimated(pattern) && !this.stopped) this.timer = this.clock.setTimeout(this.tick, this.tickMs);
    }
  }

  /** The agent profile in use speaks and announces in `color` (undefined: the table's colours). */
  setTint(color: Rgb | undefined): void {
    this.tint = color;
    if (this.last) this.setState(this.last.state, this.last.problem);
  }

  /** Dark, no timer, driver closed. */
  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.stopped = true;
    try {
      this.driver.close();
    } catch (err) {
      this.logger.warn({ err }, "turning the LEDs off failed");
    }
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.frame();
    if (!this.stopped) this.timer = this.clock.setTimeout(this.tick, this.tickMs);
  };

  private frame(): void {
    const driver = this.driver;
    if (driver.kind !== "pixels" || !this.pattern) return;
    const pixels = renderPixels(this.pattern, driver.count, this.clock.now() - this.startedAt);
    this.writeIfChanged(pixelsKey(pixels), () => driver.show(pixels));
  }

  private writeIfChanged(key: string, show: () => void): void {
    if (key === this.written) return;
    try {
      show();
      this.written = key;
    } catch (err) {
      this.stopped = true;
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.logger.warn({ err }, "LEDs stopped: writing a frame failed; talkbox carries on without them");
    }
  }
}
