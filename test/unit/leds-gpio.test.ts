import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { GpioLed } from "../../src/hardware/leds/gpio-led";
import type { OutputPin } from "../../src/hardware/leds/output";
import { FakeClock } from "../support/fake-clock";

/** An output pin that records each write with the fake clock's time. */
class RecordingPin implements OutputPin {
  readonly writes: { t: number; level: 0 | 1 }[] = [];
  constructor(private readonly clock: FakeClock) {}
  write(level: 0 | 1): void {
    this.writes.push({ t: this.clock.now(), level });
  }
  get level(): 0 | 1 | undefined {
    return this.writes.at(-1)?.level;
  }
  /** Rising edges (writes of 1) in [from, to). */
  rises(from: number, to: number): number {
    return this.writes.filter((w) => w.level === 1 && w.t >= from && w.t < to).length;
  }
  /** Milliseconds spent at level 1 in [from, to). */
  highMs(from: number, to: number): number {
    let total = 0;
    let level: 0 | 1 = 0;
    let since = from;
    for (const w of this.writes) {
      if (w.t >= to) break;
      if (w.t > from && level === 1) total += w.t - since;
      if (w.t >= from) since = w.t;
      level = w.level;
    }
    if (level === 1) total += to - Math.max(since, from);
    return total;
  }
}

function setup(opts: { activeLow?: boolean; pwmHz?: number } = {}) {
  const clock = new FakeClock();
  const pin = new RecordingPin(clock);
  const errors: Error[] = [];
  const led = new GpioLed({ pin, clock, ...opts, onError: (e) => void errors.push(e) });
  return { clock, pin, led, errors };
}

describe("GPIO LED", () => {
  test("on and off, each level written once, no timers", () => {
    const { clock, pin, led } = setup();
    led.on();
    led.on();
    assert.deepEqual(pin.writes, [{ t: 0, level: 1 }]);
    led.off();
    led.off();
    assert.deepEqual(pin.writes.map((w) => w.level), [1, 0]);
    assert.equal(clock.pending, 0);
  });

  test("active low: lit is level 0", () => {
    const { pin, led } = setup({ activeLow: true });
    led.on();
    led.off();
    assert.deepEqual(pin.writes.map((w) => w.level), [0, 1]);
  });

  test("blink 200 on / 800 off: starts lit, one flash a second", () => {
    const { clock, pin, led } = setup();
    led.blink(200, 800);
    assert.equal(pin.level, 1);
    clock.advance(199);
    assert.equal(pin.level, 1);
    clock.advance(1);
    assert.equal(pin.level, 0);
    clock.advance(800);
    assert.equal(pin.level, 1, "lit again at 1000 ms");
    clock.advance(8999);
    assert.equal(pin.rises(0, 10_000), 10);
    assert.equal(pin.writes.length, 20, "every write is a change");
    assert.equal(pin.highMs(0, 10_000), 2000);
    led.off();
    assert.equal(pin.writes.length, 20, "already dark: nothing to write");
    assert.equal(clock.pending, 0);
    clock.advance(5000);
    assert.equal(pin.writes.length, 20);
  });

  test("dim 30% at 100 Hz: 100 pulses a second, lit 30% of the time", () => {
    const { clock, pin, led } = setup();
    led.dim(30);
    clock.advance(1000);
    assert.equal(pin.rises(0, 1000), 100);
    assert.equal(pin.highMs(0, 1000), 300);
    led.dim(30);
    clock.advance(1000);
    assert.equal(pin.rises(1000, 2000), 100, "dim again at the same duty restarts cleanly");
  });

  test("dim at 50 Hz: 50 pulses a second", () => {
    const { clock, pin, led } = setup({ pwmHz: 50 });
    led.dim(50);
    clock.advance(1000);
    assert.equal(pin.rises(0, 1000), 50);
    assert.equal(pin.highMs(0, 1000), 500);
  });

  test("dim 0 and 100 need no PWM timer; the dimmest duty still lights", () => {
    const { clock, pin, led } = setup();
    led.dim(100);
    assert.equal(clock.pending, 0);
    assert.equal(pin.level, 1);
    led.dim(0);
    assert.equal(clock.pending, 0);
    assert.equal(pin.level, 0);
    led.dim(1);
    clock.advance(1000);
    assert.equal(pin.highMs(0, 1000), 100, "1 ms per 10 ms period");
  });

  test("blink with a duty dims only the lit phase", () => {
    const { clock, pin, led } = setup();
    led.blink(500, 500, 20);
    clock.advance(2000);
    assert.equal(pin.highMs(0, 500), 100);
    assert.equal(pin.highMs(500, 1000), 0);
    assert.equal(pin.highMs(1000, 1500), 100);
    assert.equal(pin.rises(0, 2000), 100);
  });

  test("pulse breathes: bright at the start of each period, dark in the middle", () => {
    const { clock, pin, led } = setup();
    led.pulse(1000);
    clock.advance(3000);
    for (let p = 0; p < 3; p++) {
      const start = p * 1000;
      assert.ok(pin.highMs(start, start + 50) >= 45, `period ${p} starts bright`);
      assert.ok(pin.highMs(start + 450, start + 550) <= 5, `period ${p} dark mid-way`);
      assert.ok(pin.highMs(start + 200, start + 300) > 20 && pin.highMs(start + 200, start + 300) < 80, `period ${p} in between`);
    }
    led.close();
    assert.equal(clock.pending, 0);
    assert.equal(pin.level, 0);
  });

  test("a new pattern replaces the running one's timers", () => {
    const { clock, led } = setup();
    led.blink(100, 100);
    led.dim(50);
    led.pulse(500);
    assert.equal(clock.pending, 1);
    led.on();
    assert.equal(clock.pending, 0);
  });

  test("a failing pin stops the LED and reports once instead of throwing from a timer", () => {
    const clock = new FakeClock();
    let writes = 0;
    const errors: Error[] = [];
    const pin: OutputPin = {
      write: () => {
        if (++writes > 3) throw new Error("EIO");
      },
    };
    const led = new GpioLed({ pin, clock, onError: (e) => void errors.push(e) });
    led.blink(100, 100);
    clock.advance(1000);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /EIO/);
    assert.equal(clock.pending, 0);
    assert.equal(writes, 4);
  });
});
