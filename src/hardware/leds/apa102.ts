/**
 * APA102 / DotStar LEDs: frame encoding and the two ways to clock a frame out
 * (the SPI controller, or two GPIO outputs driven bit by bit).
 *
 * Frame: 32 zero bits (start), then per LED 0b111 + 5-bit global brightness and
 * the BLUE, GREEN, RED bytes, then the end frame.
 *
 * End frame: max(4, ceil(n / 16)) bytes of 0xFF. Each LED delays the data by half
 * a clock, so the last LED needs n/2 more clock edges after its own bits
 * (ceil(n / 16) bytes). The datasheet's fixed 32-bit end frame covers up to 64 LEDs
 * and is what most drivers send, so it is the floor: every board here has ≤ 12 LEDs.
 * The trailing ones would light an LED beyond the n we were told about as white,
 * which is why `count` must match the board.
 */
import fs from "node:fs";
import type { OutputPin } from "./output";

export interface Apa102Pixel {
  r: number;
  g: number;
  b: number;
  /** APA102 global brightness, 0..31. */
  brightness: number;
}

export const APA102_OFF: Apa102Pixel = { r: 0, g: 0, b: 0, brightness: 0 };

function byte(v: number): number {
  return Number.isFinite(v) ? Math.min(255, Math.max(0, Math.round(v))) : 0;
}

function brightness5(v: number): number {
  return Number.isFinite(v) ? Math.min(31, Math.max(0, Math.round(v))) : 0;
}

export function apa102EndFrameBytes(count: number): number {
  return Math.max(4, Math.ceil(count / 16));
}

/** Out-of-range or non-numeric values are clamped, never thrown: a bad pattern must not stop the daemon. */
export function encodeApa102(pixels: readonly Apa102Pixel[]): Buffer {
  const n = pixels.length;
  const out = Buffer.alloc(4 + 4 * n + apa102EndFrameBytes(n));
  let o = 4;
  for (const p of pixels) {
    out[o++] = 0xe0 | brightness5(p.brightness);
    out[o++] = byte(p.b);
    out[o++] = byte(p.g);
    out[o++] = byte(p.r);
  }
  out.fill(0xff, o);
  return out;
}

/** Something that clocks a whole frame out to the LEDs. */
export interface Apa102Transport {
  write(frame: Buffer): void;
  close(): void;
}

/** `/dev/spidevB.C` for SPI bus B, chip select C. */
export function spiDevicePath(bus: number, chipSelect: number): string {
  return `/dev/spidev${bus}.${chipSelect}`;
}

/** Turns an open() failure on a spidev node into what the user has to do about it. */
export function spiOpenError(path: string, err: NodeJS.ErrnoException): Error {
  switch (err.code) {
    case "EACCES":
    case "EPERM":
      return new Error(
        `cannot open ${path}: permission denied. Add the talkbox user to the spi group (sudo usermod -aG spi talkbox, then restart talkbox); ` +
          "enable SPI with dtparam=spi=on in /boot/firmware/config.txt",
      );
    case "ENOENT":
      return new Error(`${path} does not exist: SPI not enabled. Add dtparam=spi=on to /boot/firmware/config.txt and reboot`);
    default:
      return new Error(`cannot open ${path}: ${err.code ?? err.message}`);
  }
}

// spidev refuses a single transfer larger than its bufsiz module parameter (4096 by default)
// with EMSGSIZE; APA102 has no chip-select framing, so splitting a frame is harmless.
const SPIDEV_BUFSIZ = 4096;

/**
 * Writes frames to a spidev node with plain write(): a write-only SPI transfer at the
 * device's default speed (SPI mode 0, which is what APA102 wants). The node is opened once
 * and the fd kept. Node can't issue the ioctl that sets the speed, and Raspberry Pi's
 * device tree gives spidev 125 MHz, well above what APA102 is rated for (unverified on a
 * HAT): if the LEDs show garbage, bit-bang the same pins instead (data_pin: 10, clock_pin: 11 in place of spi) with SPI disabled.
 */
export function openSpiTransport(path: string): Apa102Transport {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, fs.constants.O_WRONLY);
  } catch (err) {
    throw spiOpenError(path, err as NodeJS.ErrnoException);
  }
  return {
    write(frame) {
      if (fd === undefined) throw new Error(`${path} is closed`);
      try {
        for (let off = 0; off < frame.length; ) off += fs.writeSync(fd, frame, off, Math.min(SPIDEV_BUFSIZ, frame.length - off));
      } catch (err) {
        throw new Error(`writing LED frame to ${path} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    },
    close() {
      if (fd === undefined) return;
      const f = fd;
      fd = undefined;
      fs.closeSync(f);
    },
  };
}

/**
 * Clocks frames out on two GPIO outputs, MSB first, data set while the clock is low and
 * sampled by the LEDs on the rising edge; the clock idles low. The data line is only
 * written when its level changes: each write is a syscall in the GPIO driver.
 */
export function bitBangTransport(data: OutputPin, clock: OutputPin): Apa102Transport {
  let dataLevel: 0 | 1 | undefined;
  clock.write(0);
  return {
    write(frame) {
      for (const b of frame) {
        for (let bit = 7; bit >= 0; bit--) {
          const level = ((b >> bit) & 1) as 0 | 1;
          if (level !== dataLevel) {
            data.write(level);
            dataLevel = level;
          }
          clock.write(1);
          clock.write(0);
        }
      }
    },
    close() {},
  };
}

export interface PowerPin {
  pin: OutputPin;
  /** The ReSpeaker 2-Mics HAT's LED power (GPIO12) is active low. */
  activeLow: boolean;
}

/** A chain of `count` APA102 LEDs; switches the LED power on at open and off at close. */
export class Apa102Strip {
  private closed = false;

  constructor(
    readonly count: number,
    private readonly transport: Apa102Transport,
    private readonly power?: PowerPin,
  ) {
    power?.pin.write(power.activeLow ? 0 : 1);
    // LEDs keep (or power up with random) colors until told otherwise.
    this.show([]);
  }

  /** Missing pixels are off, extra ones are dropped. */
  show(pixels: readonly Apa102Pixel[]): void {
    if (this.closed) return;
    const frame: Apa102Pixel[] = [];
    for (let i = 0; i < this.count; i++) frame.push(pixels[i] ?? APA102_OFF);
    this.transport.write(encodeApa102(frame));
  }

  /** Dark first, then power off, so LEDs without a power switch don't stay lit. Every step is tried. */
  close(): void {
    if (this.closed) return;
    let failure: unknown;
    const attempt = (step: () => void): void => {
      try {
        step();
      } catch (err) {
        failure ??= err;
      }
    };
    attempt(() => this.show([]));
    this.closed = true;
    attempt(() => this.power?.pin.write(this.power.activeLow ? 1 : 0));
    attempt(() => this.transport.close());
    if (failure !== undefined) throw failure;
  }
}
