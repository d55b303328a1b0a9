import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readSysfsChips, resolveSysfsPin } from "../../src/hardware/gpio/chips";
import { GpioError, sysfsError } from "../../src/hardware/gpio/errors";
import { openGpio } from "../../src/hardware/gpio/open";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-gpio-chips-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A sysfs GPIO root with the given chips, as the kernel lays it out. */
function sysfs(name: string, chips: Array<{ dir: string; label: string; base: number; ngpio: number }>): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, "export"), "");
  fs.writeFileSync(path.join(root, "unexport"), "");
  for (const c of chips) {
    const d = path.join(root, c.dir);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, "label"), `${c.label}\n`);
    fs.writeFileSync(path.join(d, "base"), `${c.base}\n`);
    fs.writeFileSync(path.join(d, "ngpio"), `${c.ngpio}\n`);
  }
  return root;
}

// Pi 4 on kernel 6.6+: the header chip at base 512, the firmware expander after it.
const pi4 = sysfs("pi4", [
  { dir: "gpiochip512", label: "pinctrl-bcm2711", base: 512, ngpio: 58 },
  { dir: "gpiochip570", label: "raspberrypi-exp-gpio", base: 570, ngpio: 8 },
]);
// Pi 5 on kernel 6.6.45+: RP1's header chip at base 571, SoC chips below it.
const pi5 = sysfs("pi5", [
  { dir: "gpiochip512", label: "gpio-brcmstb@107d508500", base: 512, ngpio: 32 },
  { dir: "gpiochip571", label: "pinctrl-rp1", base: 571, ngpio: 54 },
]);

function gpioError(fn: () => unknown): GpioError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GpioError, `expected a GpioError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected an error");
}

describe("GPIO chips: BCM pin → sysfs number by chip label", () => {
  test("Pi 4 (kernel 6.6+): BCM17 is 529 on pinctrl-bcm2711", () => {
    const r = resolveSysfsPin(17, { root: pi4 });
    assert.equal(r.gpio, 529);
    assert.equal(r.chip.label, "pinctrl-bcm2711");
    assert.equal(r.chip.name, "gpiochip512");
  });

  test("Pi 5 (kernel 6.6.45+): BCM17 is 588 on pinctrl-rp1, not on the chip at gpiochip512", () => {
    const r = resolveSysfsPin(17, { root: pi5 });
    assert.equal(r.gpio, 588);
    assert.equal(r.chip.name, "gpiochip571");
  });

  test("a profile's own label list overrides the defaults", () => {
    assert.equal(resolveSysfsPin(3, { root: pi4, labels: ["raspberrypi-exp-gpio"] }).gpio, 573);
  });

  test("no chip with a known label: the error lists the labels found", () => {
    const e = gpioError(() => resolveSysfsPin(17, { root: pi5, labels: ["pinctrl-bcm2711"] }));
    assert.equal(e.code, "no-chip");
    assert.match(e.message, /no GPIO chip labelled pinctrl-bcm2711/);
    assert.match(e.message, /gpiochip512 "gpio-brcmstb@107d508500"/);
    assert.match(e.message, /gpiochip571 "pinctrl-rp1"/);
  });

  test("a pin beyond the chip's lines is refused with the valid range", () => {
    const e = gpioError(() => resolveSysfsPin(58, { root: pi4 }));
    assert.equal(e.code, "bad-pin");
    assert.match(e.message, /GPIO pin 58 is out of range: chip gpiochip512 \(pinctrl-bcm2711\) has 58 lines \(0–57\)/);
    assert.equal(resolveSysfsPin(57, { root: pi4 }).gpio, 569);
    assert.equal(gpioError(() => resolveSysfsPin(-1, { root: pi4 })).code, "bad-pin");
    assert.equal(gpioError(() => resolveSysfsPin(54, { root: pi5 })).code, "bad-pin");
  });

  test("a missing sysfs root says to use gpiod", () => {
    const e = gpioError(() => readSysfsChips(path.join(tmp, "absent")));
    assert.equal(e.code, "no-chip");
    assert.match(e.message, /does not exist.*gpiod driver \(sudo apt install gpiod\)/);
  });

  test("entries that are not chips, or chips with unreadable files, are skipped", () => {
    const root = sysfs("odd", [{ dir: "gpiochip0", label: "pinctrl-bcm2835", base: 0, ngpio: 54 }]);
    fs.mkdirSync(path.join(root, "gpio17"));
    fs.mkdirSync(path.join(root, "gpiochip99"));
    assert.deepEqual(
      readSysfsChips(root).map((c) => c.name),
      ["gpiochip0"],
    );
    // A kernel before 6.6 (base 0): the BCM number is the sysfs number.
    assert.equal(resolveSysfsPin(17, { root }).gpio, 17);
  });
});

describe("sysfs driver errors say what to do", () => {
  const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: failed, write`), { code });
  const at = { gpio: 529, pin: 17, op: "export" };

  test("EACCES / EPERM: join the gpio group", () => {
    for (const code of ["EACCES", "EPERM"]) {
      const e = sysfsError(errno(code), at);
      assert.equal(e.code, "permission");
      assert.match(e.message, /no permission to export sysfs GPIO 529 \(BCM 17\): add the talkbox user to the gpio group \(sudo usermod -aG gpio talkbox\)/);
    }
  });

  test("EINVAL on export: wrong pin or kernel offset", () => {
    const e = sysfsError(errno("EINVAL"), at);
    assert.equal(e.code, "bad-pin");
    assert.match(e.message, /wrong pin or kernel offset/);
    assert.match(e.message, /512 on a Pi 4, 571 on a Pi 5/);
  });

  test("EBUSY: claimed by a driver or another program", () => {
    assert.equal(sysfsError(errno("EBUSY"), at).code, "busy");
  });

  test("through onoff on a machine without /sys/class/gpio: a clear error, not a raw ENOENT", { skip: fs.existsSync("/sys/class/gpio") && "this machine has sysfs GPIO" }, async () => {
    const e = await openGpio({ driver: "sysfs", direction: "in", pin: 17, sysfsRoot: pi4 }).then(
      () => assert.fail("opened a GPIO that cannot exist here"),
      (err: unknown) => err,
    );
    assert.ok(e instanceof GpioError);
    assert.equal(e.code, "no-chip");
    assert.match(e.message, /sysfs GPIO 529 \(BCM 17\) is missing.*use the gpiod driver/);
  });
});
