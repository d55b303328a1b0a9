import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EdgeTimeMapper } from "../../src/hardware/gpio/edge-time";
import { GpioError } from "../../src/hardware/gpio/errors";
import { parseGetOutput, parseGpiodetect, parseGpiodVersion, parseMonLine, type GpiodVersion } from "../../src/hardware/gpio/gpiod-tools";
import { openGpio, planGpio } from "../../src/hardware/gpio/open";
import type { GpioInput, Level } from "../../src/hardware/gpio/types";

/*
 * The real gpiod driver against fake libgpiod tools (test/fixtures/fake-gpiod.sh)
 * placed first on PATH; the fakes follow the syntax and output of libgpiod 1.6
 * and 2.x and reject what the real tools reject.
 */
const FAKE = path.resolve(__dirname, "../../../test/fixtures/fake-gpiod.sh");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-gpiod-"));
const bin = path.join(tmp, "bin");
const emptyBin = path.join(tmp, "empty");
let state = "";
const origPath = process.env.PATH;

before(() => {
  fs.mkdirSync(bin);
  fs.mkdirSync(emptyBin);
  fs.copyFileSync(FAKE, path.join(bin, "fake-gpiod"));
  fs.chmodSync(path.join(bin, "fake-gpiod"), 0o755);
  for (const t of ["gpiodetect", "gpioget", "gpiomon", "gpioset"]) fs.symlinkSync("fake-gpiod", path.join(bin, t));
  process.env.PATH = `${bin}${path.delimiter}${origPath}`;
});
after(() => {
  process.env.PATH = origPath;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const PI5_DETECT = "gpiochip0 [pinctrl-rp1] (54 lines)\ngpiochip10 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip11 [gpio-brcmstb@107d517c00] (15 lines)\n";

let n = 0;
/** A fresh state directory for the fake tools, speaking libgpiod `version`. */
function fakeTools(version: GpiodVersion, files: Record<string, string> = {}): void {
  state = path.join(tmp, `state-${++n}`);
  fs.mkdirSync(state);
  fs.writeFileSync(path.join(state, "detect"), PI5_DETECT);
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(state, f), text);
  process.env.FAKE_GPIOD_DIR = state;
  process.env.FAKE_GPIOD_VERSION = String(version);
}

function calls(tool: string): string[] {
  const log = path.join(state, "calls.log");
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(`${tool} `) && !l.endsWith("--version"));
}

/** Resolves once `check` holds, re-checking whenever the state directory changes. */
function until<T>(check: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(state);
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      watcher.close();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
    const poke = (): void => {
      const v = check();
      if (v !== undefined) done(() => resolve(v));
    };
    watcher.on("change", poke);
    poke();
  });
}

/** Collects `count` level changes from an input (failure guard: timeout). */
function levels(input: GpioInput, count: number, timeoutMs = 5000): Promise<Array<[Level, number]>> {
  const got: Array<[Level, number]> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(got)}`)), timeoutMs);
    input.watch((level, atMs) => {
      got.push([level, atMs]);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

async function rejection(p: Promise<unknown>): Promise<GpioError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GpioError, `expected a GpioError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a rejection");
}

const restart = { minMs: 10, maxMs: 40 };

for (const version of [1, 2] as const) {
  describe(`gpiod driver, libgpiod v${version} tools`, () => {
    beforeEach(() => fakeTools(version));

    test("finds the header chip by label in gpiodetect's output", async () => {
      const plan = await planGpio({ driver: "gpiod", pin: 17 });
      assert.equal(plan.driver, "gpiod");
      assert.ok(plan.driver === "gpiod");
      assert.equal(plan.tools.version, version);
      assert.equal(plan.chip, "gpiochip0");
      assert.equal(plan.line, 17);
      // Pi 5 before kernel 6.6.45: the same chip was gpiochip4.
      fs.writeFileSync(path.join(state, "detect"), "gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n");
      const old = await planGpio({ driver: "gpiod", pin: 17 });
      assert.ok(old.driver === "gpiod");
      assert.equal(old.chip, "gpiochip4");
    });

    test("input: edges arrive as active-low levels with their kernel spacing", async () => {
      fs.writeFileSync(path.join(state, "level"), "1");
      fs.writeFileSync(path.join(state, "mon.1.events"), "falling 1000.000500000\nrising 1000.250500000\n");
      const input = await openGpio({ driver: "gpiod", direction: "in", pin: 17, activeLow: true, pull: "up", restart });
      try {
        assert.equal(input.read(), 0, "physical high is released for an active-low button");
        assert.equal(input.description, `gpiod v${version} gpiochip0 line 17 active-low`);
        const got = await levels(input, 2);
        assert.deepEqual(
          got.map(([l]) => l),
          [1, 0],
        );
        assert.ok(Math.abs(got[1]![1] - got[0]![1] - 250) < 0.001, `spacing ${got[1]![1] - got[0]![1]} ms`);
        assert.ok(got[1]![1] <= performance.now());
        assert.equal(input.read(), 0);
        if (version === 1) {
          assert.deepEqual(calls("gpioget"), ["gpioget --bias=pull-up gpiochip0 17"]);
          assert.deepEqual(calls("gpiomon"), ["gpiomon --num-events=0 --line-buffered --format=%e %s %n --bias=pull-up gpiochip0 17"]);
        } else {
          assert.deepEqual(calls("gpioget"), ["gpioget --numeric --chip gpiochip0 --bias pull-up 17"]);
          assert.deepEqual(calls("gpiomon"), ["gpiomon --chip gpiochip0 --format %E %S --bias pull-up 17"]);
        }
      } finally {
        input.close();
      }
    });

    test("input: a gpiomon that dies is reported, restarted, and the level caught up", async () => {
      fs.writeFileSync(path.join(state, "level"), "1");
      fs.writeFileSync(path.join(state, "mon.1.events"), "falling 500.000000000\n");
      fs.writeFileSync(path.join(state, "mon.1.fail"), "gpiomon: unable to request GPIO lines for events: Device or resource busy\n");
      fs.writeFileSync(path.join(state, "mon.2.events"), "falling 502.000000000\n");
      const errors: GpioError[] = [];
      const input = await openGpio({ driver: "gpiod", direction: "in", pin: 17, activeLow: true, restart, onError: (e) => errors.push(e) });
      try {
        // Pressed (run 1), released while gpiomon was down (gpioget after the restart), pressed (run 2).
        const got = await levels(input, 3);
        assert.deepEqual(
          got.map(([l]) => l),
          [1, 0, 1],
        );
        assert.equal(errors.length, 1);
        assert.equal(errors[0]!.code, "busy");
        assert.match(errors[0]!.message, /gpiomon on gpiochip0 line 17 failed: .*Device or resource busy.*gpioinfo gpiochip0/);
        assert.equal(calls("gpiomon").length, 2);
      } finally {
        input.close();
      }
    });

    test("output: gpioset holds the line; a new value restarts it; close releases", async () => {
      const line = path.join(state, "line.25");
      const held = (v: string) => () => (fs.existsSync(line) && fs.readFileSync(line, "utf8").trim() === v ? true : undefined);
      const out = await openGpio({ driver: "gpiod", direction: "out", pin: 25, restart });
      try {
        await until(held("0"), "gpioset holding 0");
        out.write(1);
        await until(held("1"), "gpioset holding 1");
        out.write(1);
        const expected =
          version === 1
            ? ["gpioset --mode=signal gpiochip0 25=0", "gpioset --mode=signal gpiochip0 25=1"]
            : ["gpioset --chip gpiochip0 25=0", "gpioset --chip gpiochip0 25=1"];
        assert.deepEqual(calls("gpioset"), expected, "the same value again starts nothing");
      } finally {
        out.close();
      }
      await until(held("released"), "the line released");
    });

    test("output: active-low inverts what is driven", async () => {
      const line = path.join(state, "line.12");
      const out = await openGpio({ driver: "gpiod", direction: "out", pin: 12, activeLow: true, initial: 1, restart });
      try {
        await until(() => (fs.existsSync(line) && fs.readFileSync(line, "utf8").trim() === "0" ? true : undefined), "LED power on (driven low)");
      } finally {
        out.close();
      }
    });

    test("open: no permission on the chip says to join the gpio group", async () => {
      const msg = version === 1 ? "gpioget: error reading GPIO values: Permission denied\n" : "gpioget: unable to open chip '/dev/gpiochip0': Permission denied\n";
      fs.writeFileSync(path.join(state, "get.fail"), msg);
      const e = await rejection(openGpio({ driver: "gpiod", direction: "in", pin: 17 }));
      assert.equal(e.code, "permission");
      assert.match(e.message, /sudo usermod -aG gpio talkbox/);
    });

    test("open: a pin beyond the chip's lines is refused before any tool runs on it", async () => {
      const e = await rejection(openGpio({ driver: "gpiod", direction: "in", pin: 54 }));
      assert.equal(e.code, "bad-pin");
      assert.match(e.message, /gpiochip0 \(pinctrl-rp1\) has 54 lines/);
      assert.deepEqual(calls("gpioget"), []);
    });

    test("a configured chip skips gpiodetect", async () => {
      const plan = await planGpio({ driver: "gpiod", pin: 17, gpiodChip: "/dev/gpiochip4" });
      assert.ok(plan.driver === "gpiod");
      assert.equal(plan.chip, "/dev/gpiochip4");
      assert.deepEqual(calls("gpiodetect"), []);
    });
  });
}

describe("driver choice (auto)", () => {
  beforeEach(() => fakeTools(2));

  test("no sysfs GPIO: the gpiod tools are used", async () => {
    const plan = await planGpio({ pin: 17, sysfsRoot: path.join(tmp, "no-sysfs") });
    assert.equal(plan.driver, "gpiod");
  });

  test("sysfs present with the header chip: sysfs at the kernel's offset", async () => {
    const root = path.join(tmp, "sysfs-pi4");
    fs.mkdirSync(path.join(root, "gpiochip512"), { recursive: true });
    for (const [f, v] of [["label", "pinctrl-bcm2711"], ["base", "512"], ["ngpio", "58"]]) fs.writeFileSync(path.join(root, "gpiochip512", f!), `${v}\n`);
    const plan = await planGpio({ pin: 17, sysfsRoot: root });
    assert.ok(plan.driver === "sysfs");
    assert.equal(plan.gpio, 529);
  });

  test("neither: one error saying what each driver lacked and how to fix it", async () => {
    const e = await rejection(planGpio({ pin: 17, sysfsRoot: path.join(tmp, "no-sysfs"), searchPath: emptyBin }));
    assert.equal(e.code, "no-driver");
    assert.match(e.message, /no usable GPIO driver for BCM pin 17/);
    assert.match(e.message, /sysfs: .*no-sysfs does not exist/);
    assert.match(e.message, /gpiod: gpiomon, gpioset, gpioget, gpiodetect not found on PATH/);
    assert.match(e.message, /sudo apt install gpiod/);
    assert.match(e.message, /sudo usermod -aG gpio talkbox/);
  });

  test("gpiod without the header chip lists the chips it saw", async () => {
    fs.writeFileSync(path.join(state, "detect"), "gpiochip0 [gpio-mockup-A] (8 lines)\n");
    const e = await rejection(planGpio({ pin: 17, driver: "gpiod" }));
    assert.equal(e.code, "no-chip");
    assert.match(e.message, /found: gpiochip0 "gpio-mockup-A"/);
  });

  test("a pin that is not a BCM number is refused", async () => {
    assert.equal((await rejection(planGpio({ pin: 1.5 }))).code, "bad-pin");
  });
});

describe("gpiod tool output parsing", () => {
  test("versions", () => {
    assert.equal(parseGpiodVersion("gpiomon (libgpiod) v1.6.3\nCopyright (C) 2017-2018"), 1);
    assert.equal(parseGpiodVersion("gpiomon (libgpiod) v2.2.1\n"), 2);
    assert.equal(parseGpiodVersion("something else"), undefined);
  });

  test("gpiodetect", () => {
    assert.deepEqual(parseGpiodetect("gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n"), [
      { name: "gpiochip0", label: "pinctrl-bcm2711", ngpio: 58 },
      { name: "gpiochip1", label: "raspberrypi-exp-gpio", ngpio: 8 },
    ]);
  });

  test("event lines: v1 '%e %s %n' (unpadded ns), v2 '%E %S'", () => {
    assert.deepEqual(parseMonLine(1, "1 12 5000000"), { level: 1, kernelMs: 12005 });
    assert.deepEqual(parseMonLine(1, "0 12 500"), { level: 0, kernelMs: 12000.0005 });
    assert.deepEqual(parseMonLine(2, "falling 12.005000000"), { level: 0, kernelMs: 12005 });
    assert.equal(parseMonLine(2, "1 12 5000000"), undefined);
    assert.equal(parseMonLine(1, "event:  RISING EDGE offset: 17 timestamp: [12.5]"), undefined);
  });

  test("gpioget output", () => {
    assert.equal(parseGetOutput("1\n"), 1);
    assert.equal(parseGetOutput('"17"=inactive\n'), 0);
    assert.equal(parseGetOutput("?"), undefined);
  });

  test("kernel times onto the daemon clock: spacing kept, never in the future, resync on a clock jump", () => {
    const m = new EdgeTimeMapper(1000);
    assert.deepEqual(m.map([5000, 5020], 100), [80, 100]);
    assert.deepEqual(m.map([5500], 600), [580], "a later, slower delivery keeps the best offset");
    assert.deepEqual(m.map([9000], 700), [700], "never later than now");
    assert.deepEqual(m.map([100], 5000), [5000], "the kernel clock went back: resync");
  });
});
