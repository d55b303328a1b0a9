import fs from "node:fs";
import path from "node:path";
import { GpioError } from "./errors";

/** Labels of the 40-pin header's GPIO chip: Pi 0–3, Pi 4/400, Pi 5. */
export const DEFAULT_CHIP_LABELS: readonly string[] = ["pinctrl-bcm2835", "pinctrl-bcm2711", "pinctrl-rp1"];

export const DEFAULT_SYSFS_ROOT = "/sys/class/gpio";

export interface ChipInfo {
  /** gpiochipN: a sysfs directory name or a character device name. */
  name: string;
  label: string;
  ngpio: number;
}

export interface SysfsChip extends ChipInfo {
  base: number;
}

/** The chips under a sysfs GPIO root; unreadable entries are skipped. */
export function readSysfsChips(root: string = DEFAULT_SYSFS_ROOT): SysfsChip[] {
  if (!fs.existsSync(root)) {
    throw new GpioError(
      `sysfs GPIO is not available: ${root} does not exist (kernel without CONFIG_GPIO_SYSFS); use the gpiod driver (sudo apt install gpiod)`,
      "no-chip",
    );
  }
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch (err) {
    throw new GpioError(`cannot list ${root}: ${err instanceof Error ? err.message : String(err)}`, "failed", { cause: err });
  }
  const chips: SysfsChip[] = [];
  for (const name of names) {
    if (!/^gpiochip\d+$/.test(name)) continue;
    const read = (f: string): string | undefined => {
      try {
        return fs.readFileSync(path.join(root, name, f), "utf8").trim();
      } catch {
        return undefined;
      }
    };
    const base = Number(read("base"));
    const ngpio = Number(read("ngpio"));
    const label = read("label");
    if (label === undefined || !Number.isInteger(base) || !Number.isInteger(ngpio)) continue;
    chips.push({ name, label, base, ngpio });
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * The header chip: the first preferred label that any chip carries. Chip
 * numbers are never trusted (the Pi 5's header chip moved from gpiochip4 to
 * gpiochip0 in kernel 6.6.45; sysfs bases moved to 512+ in 6.6).
 */
export function pickChip<C extends ChipInfo>(chips: readonly C[], labels: readonly string[], where: string): C {
  for (const label of labels) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const found = chips.length ? chips.map((c) => `${c.name} "${c.label}"`).join(", ") : "no chips at all";
  throw new GpioError(
    `no GPIO chip labelled ${labels.join(" or ")} ${where} (found: ${found}); ` +
      "if this board's header chip has another label, list it in the GPIO chip labels of the board profile",
    "no-chip",
  );
}

export function checkPin(pin: number, chip: ChipInfo): void {
  if (!Number.isInteger(pin) || pin < 0 || pin >= chip.ngpio) {
    throw new GpioError(
      `GPIO pin ${pin} is out of range: chip ${chip.name} (${chip.label}) has ${chip.ngpio} lines (0–${chip.ngpio - 1}); ` +
        "check the pin number in the board profile (it is the BCM number, not the header position)",
      "bad-pin",
    );
  }
}

/** The sysfs GPIO number of a BCM pin: BCM 17 is 529 on a Pi 4 and 588 on a Pi 5 with kernel 6.6+. */
export function resolveSysfsPin(
  pin: number,
  opts: { root?: string; labels?: readonly string[] } = {},
): { gpio: number; chip: SysfsChip } {
  const root = opts.root ?? DEFAULT_SYSFS_ROOT;
  const chip = pickChip(readSysfsChips(root), opts.labels ?? DEFAULT_CHIP_LABELS, `under ${root}`);
  checkPin(pin, chip);
  return { gpio: chip.base + pin, chip };
}
