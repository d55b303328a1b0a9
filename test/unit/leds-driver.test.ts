import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { issueLines, plainEnglish } from "../../src/config/errors";
import { createLogger, type Logger } from "../../src/log/logger";
import { encodeApa102, type Apa102Pixel } from "../../src/hardware/leds/apa102";
import { LedController, ledHardwareSchema, openLedDriver, type LedDriver, type LedHardware } from "../../src/hardware/leds/driver";
import type { OpenOutput } from "../../src/hardware/leds/output";
import { ledPatternsSchema, resolveLedPatterns, type LedPatternTable } from "../../src/hardware/leds/patterns";
import { FakeClock } from "../support/fake-clock";

type PinEvent = { pin: number; t: number } & ({ op: "open"; initial: 0 | 1 } | { op: "write"; level: 0 | 1 } | { op: "close" });

function rig(opts: { failWritesAfter?: number; unavailablePin?: number } = {}) {
  const clock = new FakeClock();
  const events: PinEvent[] = [];
  const logged: { level: number; msg: string }[] = [];
  let writes = 0;
  // Async like openGpio in src/hardware/gpio.
  const openOutput: OpenOutput = async (pin, initial) => {
    if (pin === opts.unavailablePin) throw new Error(`GPIO${pin} is busy`);
    events.push({ pin, t: clock.now(), op: "open", initial });
    return {
      write: (level) => {
        if (opts.failWritesAfter !== undefined && ++writes > opts.failWritesAfter) throw new Error("EIO");
        events.push({ pin, t: clock.now(), op: "write", level });
      },
      close: () => void events.push({ pin, t: clock.now(), op: "close" }),
    };
  };
  const logger: Logger = createLogger({ format: "json", level: "warn", destination: { write: (s: string) => void logged.push(JSON.parse(s)) } });
  const open = (hw: LedHardware): Promise<LedDriver> => openLedDriver(hw, { openOutput, clock, logger });
  const control = (driver: LedDriver, patterns?: LedPatternTable) =>
    new LedController({ driver, clock, logger, ...(patterns ? { patterns } : {}) });
  return { clock, events, logged, open, control };
}

const off3 = encodeApa102(Array.from({ length: 3 }, () => ({ r: 0, g: 0, b: 0, brightness: 0 })));

function frame3(r: number, g: number, b: number, brightness: number): Buffer {
  const p: Apa102Pixel = { r, g, b, brightness };
  return encodeApa102([p, p, p]);
}

describe("LED controller on APA102 over SPI (a regular file as the spidev node)", () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-leddrv-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function spiFile(): { device: string; frames: () => Buffer[] } {
    const device = path.join(dir, `spidev0.${n++}`);
    fs.writeFileSync(device, "");
    const frames = (): Buffer[] => {
      const all = fs.readFileSync(device);
      assert.equal(all.length % off3.length, 0);
      return Array.from({ length: all.length / off3.length }, (_, i) => all.subarray(i * off3.length, (i + 1) * off3.length));
    };
    return { device, frames };
  }

  test("ReSpeaker 2-Mics: LED power (GPIO12, active low) on at open, one frame per state change, no timer for solid states", async () => {
    const { clock, events, open, control } = rig();
    const { device, frames } = spiFile();
    const leds = control(await open({ driver: "apa102", count: 3, spi: device, power: { pin: 12, active_low: true } }));
    assert.deepEqual(
      events.map((e) => [e.op, "initial" in e ? e.initial : "level" in e ? e.level : undefined]),
      [["open", 1], ["write", 0]],
      "opened switched off, then switched on",
    );
    assert.deepEqual(frames(), [off3], "cleared at open");

    leds.setState("listening");
    leds.setState("listening");
    assert.equal(clock.pending, 0);
    leds.setState("speaking");
    leds.setState("idle");
    clock.advance(10_000);
    assert.deepEqual(frames(), [off3, frame3(0, 255, 0, 16), frame3(0, 255, 255, 16), off3]);
    assert.equal(clock.pending, 0);

    leds.close();
    assert.deepEqual(frames().at(-1), off3);
    assert.deepEqual(events.slice(2).map((e) => e.op + ("level" in e ? e.level : "")), ["write1", "close"], "power off, pin released");
    leds.setState("listening");
    assert.equal(frames().length, 5, "nothing after close");
  });

  test("blink writes only its edges although it ticks; the timer stops with a solid state", async () => {
    const { clock, open, control } = rig();
    const { device, frames } = spiFile();
    const leds = control(await open({ driver: "apa102", count: 3, spi: device }));
    leds.setState("connecting");
    assert.equal(clock.pending, 1);
    clock.advance(2000);
    const lit = frame3(0, 0, 255, 8);
    // lit at 0, dark at 200, lit at 1000, dark at 1200, lit at 2000
    assert.deepEqual(frames(), [off3, lit, off3, lit, off3, lit]);
    leds.setState("listening");
    assert.equal(clock.pending, 0);
    clock.advance(5000);
    assert.equal(frames().length, 7);
    leds.close();
  });

  test("an agent profile's colour: speaking and announcing take it (at once when it changes), the other states keep theirs", async () => {
    const { open, control } = rig();
    const { device, frames } = spiFile();
    const leds = control(await open({ driver: "apa102", count: 3, spi: device }));
    leds.setTint([255, 128, 0]);
    leds.setState("speaking");
    leds.setState("listening");
    leds.setState("announcing");
    leds.setTint([255, 0, 255]);
    leds.setTint(undefined);
    const orange = frame3(255, 128, 0, 16);
    assert.deepEqual(frames(), [off3, orange, frame3(0, 255, 0, 16), orange, frame3(255, 0, 255, 16), frame3(128, 0, 255, 16)]);
    leds.close();
  });

  test("offline shows the refusal the user must act on, and changes with it while offline", async () => {
    const { clock, open, control } = rig();
    const { device, frames } = spiFile();
    const leds = control(await open({ driver: "apa102", count: 3, spi: device }));
    leds.setState("offline", "network");
    leds.setState("offline", "auth");
    leds.setState("offline", "quota");
    leds.setState("offline", "not_found");
    leds.setState("offline", "bad_request");
    leds.setState("idle", "auth");
    assert.deepEqual(frames(), [off3, frame3(255, 191, 0, 8), frame3(255, 0, 0, 8), frame3(255, 96, 0, 8), frame3(160, 0, 255, 8), frame3(255, 0, 160, 8), off3]);
    // The auth look's own rhythm: 500 ms on, 1500 off.
    leds.setState("offline", "auth");
    clock.advance(2000);
    const red = frame3(255, 0, 0, 8);
    assert.deepEqual(frames().slice(7), [red, off3, red], "lit at 0, dark at 500, lit at 2000");
    leds.close();
  });

  test("pulse animates every tick while thinking", async () => {
    const { clock, open, control } = rig();
    const { device, frames } = spiFile();
    const leds = control(await open({ driver: "apa102", count: 3, spi: device }));
    leds.setState("thinking");
    clock.advance(1200);
    const f = frames().slice(1);
    // one frame at the start and one per 40 ms tick
    assert.equal(f.length, 1 + 1200 / 40);
    for (let i = 1; i < f.length; i++) assert.notDeepEqual(f[i], f[i - 1], `frame ${i} repeats the one before`);
    assert.deepEqual(f[0], frame3(0, 0, 255, 16));
    leds.setState("error");
    leds.close();
    assert.equal(clock.pending, 0);
  });

  test("an override table is used, and a state that looks the same as the last one doesn't restart it", async () => {
    const { clock, open, control } = rig();
    const { device, frames } = spiFile();
    const patterns = resolveLedPatterns(
      ledPatternsSchema.parse({
        listening: { color: "#ff0000", brightness: 31 },
        offline: { color: [0, 0, 255], brightness: 8, effect: { type: "blink", on_ms: 200, off_ms: 800 } },
      }),
    );
    const leds = control(await open({ driver: "apa102", count: 3, spi: device }), patterns);
    leds.setState("listening");
    assert.deepEqual(frames().at(-1), frame3(255, 0, 0, 31));
    leds.setState("connecting");
    clock.advance(100);
    leds.setState("offline");
    clock.advance(100);
    assert.deepEqual(frames().slice(2), [frame3(0, 0, 255, 8), off3], "went dark at 200 ms: the blink ran on");
    leds.close();
  });

  test("opening fails with the SPI hint and releases the power pin", async () => {
    const { events, open } = rig();
    await assert.rejects(open({ driver: "apa102", count: 3, spi: path.join(dir, "spidev7.7"), power: { pin: 12, active_low: true } }), /SPI not enabled/);
    assert.deepEqual(events.map((e) => e.op), ["open", "close"]);
  });

  test("a device that refuses writes fails at open, not later", async () => {
    const { open } = rig();
    const fds = () => fs.readdirSync("/proc/self/fd").length;
    const before = fds();
    await assert.rejects(open({ driver: "apa102", count: 3, spi: "/dev/full" }), /writing LED frame to \/dev\/full failed: ENOSPC/);
    assert.equal(fds(), before, "the spidev fd is closed again");
  });
});

describe("LED controller on bit-banged APA102 (Adafruit Voice Bonnet)", () => {
  test("pins opened low, clock idles low, one frame per change", async () => {
    const { clock, events, open, control } = rig();
    const leds = control(await open({ driver: "apa102", count: 3, data_pin: 5, clock_pin: 6 }));
    assert.deepEqual(events.filter((e) => e.op === "open").map((e) => [e.pin, e.op === "open" && e.initial]), [[5, 0], [6, 0]]);
    const rises = () => events.filter((e) => e.pin === 6 && e.op === "write" && e.level === 1).length;
    assert.equal(rises(), off3.length * 8);
    leds.setState("speaking");
    leds.setState("speaking");
    assert.equal(rises(), 2 * off3.length * 8);
    assert.equal(clock.pending, 0);
    leds.close();
    assert.equal(rises(), 3 * off3.length * 8);
    assert.deepEqual(events.filter((e) => e.op === "close").map((e) => e.pin), [5, 6]);
  });

  test("a pin that can't be opened releases the ones already open", async () => {
    const { events, open } = rig({ unavailablePin: 6 });
    await assert.rejects(open({ driver: "apa102", count: 3, data_pin: 5, clock_pin: 6 }), /GPIO6 is busy/);
    assert.deepEqual(events.map((e) => `${e.op} ${e.pin}`), ["open 5", "close 5"]);
  });

  test("a failing write is logged once and stops the LEDs; nothing throws", async () => {
    const bits = off3.length * 8;
    // Enough writes for the frame at open, then fail inside the first animated frame.
    const { clock, logged, open, control } = rig({ failWritesAfter: 3 * bits });
    const leds = control(await open({ driver: "apa102", count: 3, data_pin: 5, clock_pin: 6 }));
    leds.setState("thinking");
    clock.advance(1000);
    leds.setState("listening");
    assert.equal(clock.pending, 0);
    assert.equal(logged.length, 1, JSON.stringify(logged));
    assert.match(logged[0]!.msg, /LEDs stopped/);
    leds.close();
  });
});

describe("LED controller on a mono GPIO LED", () => {
  test("gpio (Google AIY, GPIO25): blink for connecting, on for listening, dark when idle", async () => {
    const { clock, events, open, control } = rig();
    const leds = control(await open({ driver: "gpio", pin: 25, active_low: false }));
    assert.deepEqual(events, [{ pin: 25, t: 0, op: "open", initial: 0 }]);
    const levels = () => events.filter((e) => e.op === "write").map((e) => [e.t, e.op === "write" && e.level]);
    leds.setState("connecting");
    clock.advance(1999);
    assert.deepEqual(levels(), [[0, 1], [200, 0], [1000, 1], [1200, 0]]);
    leds.setState("listening");
    leds.setState("muted");
    clock.advance(1000);
    assert.equal(clock.pending, 0);
    assert.deepEqual(levels().slice(4), [[1999, 1]], "listening and muted both look 'on' on a plain LED");
    leds.setState("idle");
    assert.deepEqual(levels().at(-1), [2999, 0]);
    leds.close();
    assert.equal(events.at(-1)!.op, "close");
  });

  test("pwm-gpio: brightness becomes the duty; an active-low LED opens dark (high)", async () => {
    const { clock, events, open, control } = rig();
    const leds = control(await open({ driver: "pwm-gpio", pin: 25, active_low: true, pwm_hz: 100 }));
    assert.deepEqual(events[0], { pin: 25, t: 0, op: "open", initial: 1 });
    leds.setState("muted"); // brightness 2 → 6% → 1 ms of each 10 ms
    clock.advance(999);
    const litEdges = events.filter((e) => e.op === "write" && e.level === 0);
    assert.equal(litEdges.length, 100);
    leds.setState("idle");
    assert.equal(clock.pending, 0);
    leds.close();
  });
});

describe("LED hardware in a board profile", () => {
  test("defaults, and the profile's entry is what the driver opens", async () => {
    const hw = ledHardwareSchema.parse({ driver: "apa102", count: 3, spi: "/dev/spidev0.0", power: { pin: 12 } });
    assert.deepEqual(hw, { driver: "apa102", count: 3, spi: "/dev/spidev0.0", power: { pin: 12, active_low: false } });
    assert.deepEqual(ledHardwareSchema.parse({ driver: "pwm-gpio", pin: 25 }), { driver: "pwm-gpio", pin: 25, active_low: false, pwm_hz: 100 });
    const { open } = rig();
    const driver = await open(ledHardwareSchema.parse({ driver: "apa102", count: 3, data_pin: 5, clock_pin: 6 }));
    assert.deepEqual([driver.kind, driver.name], ["pixels", "apa102-bitbang"]);
    driver.close();
  });

  test("errors name the key", () => {
    const lines = (v: unknown) => {
      const r = ledHardwareSchema.safeParse(v, { error: plainEnglish });
      assert.equal(r.success, false);
      return issueLines(r.error!);
    };
    assert.deepEqual(lines({ driver: "neopixel" }), ["driver: expected driver: one of gpio, pwm-gpio, apa102"]);
    assert.deepEqual(lines({ driver: "none" }), ["driver: expected driver: one of gpio, pwm-gpio, apa102"]);
    assert.match(lines({ driver: "apa102", count: 3, data_pin: 5 })[0]!, /^clock_pin: required for bit-banging/);
    assert.match(lines({ driver: "apa102", count: 3, spi: "/dev/spidev0.0", clock_pin: 6 })[0]!, /^spi: set either spi or data_pin and clock_pin, not both/);
    assert.match(lines({ driver: "gpio", pin: 64 })[0]!, /^pin: expected at most 63/);
    assert.match(lines({ driver: "apa102", count: 0, spi: "/dev/spidev0.0" })[0]!, /^count: /);
  });
});
