import { realClock } from "../../core/clock";
import { silentLogger } from "../../log/logger";
import { checkPin, DEFAULT_CHIP_LABELS, DEFAULT_SYSFS_ROOT, pickChip, resolveSysfsPin, type SysfsChip } from "./chips";
import { GpioError, GROUP_HINT } from "./errors";
import { GpiodInput, GpiodOutput, type GpiodDriverOptions } from "./gpiod";
import { findGpiodTools, listGpiodChips, type GpiodTools } from "./gpiod-tools";
import { loadOnoff, openSysfsInput, openSysfsOutput } from "./sysfs";
import type { GpioCommonOptions, GpioInput, GpioInputOptions, GpioOptions, GpioOutput, GpioOutputOptions } from "./types";

export type GpioPlan =
  | { driver: "sysfs"; gpio: number; chip: SysfsChip }
  | { driver: "gpiod"; tools: GpiodTools; chip: string; line: number };

const DEFAULT_RESTART = { minMs: 500, maxMs: 30_000 };

/**
 * Decides how a pin will be driven. `auto` takes sysfs when the sysfs root
 * exists, the header chip resolves and onoff loads; otherwise the libgpiod
 * tools; otherwise an error that says what each driver lacked.
 */
export async function planGpio(opts: GpioCommonOptions): Promise<GpioPlan> {
  if (!Number.isInteger(opts.pin) || opts.pin < 0) {
    throw new GpioError(`GPIO pin ${opts.pin} is not a BCM GPIO number (a whole number such as 17)`, "bad-pin");
  }
  const driver = opts.driver ?? "auto";
  if (driver === "sysfs") return planSysfs(opts);
  if (driver === "gpiod") return planGpiod(opts);
  let sysfsWhy: GpioError;
  try {
    return planSysfs(opts);
  } catch (err) {
    if (!(err instanceof GpioError)) throw err;
    // A pin that doesn't exist on the header chip is wrong for gpiod too.
    if (err.code === "bad-pin") throw err;
    sysfsWhy = err;
  }
  try {
    return await planGpiod(opts);
  } catch (err) {
    if (!(err instanceof GpioError)) throw err;
    if (err.code === "bad-pin") throw err;
    throw new GpioError(
      `no usable GPIO driver for BCM pin ${opts.pin}:\n  sysfs: ${sysfsWhy.message}\n  gpiod: ${err.message}\n` +
        `To fix: install the libgpiod tools (sudo apt install gpiod), ${GROUP_HINT}, and check the pin and chip in the board profile`,
      "no-driver",
    );
  }
}

function planSysfs(opts: GpioCommonOptions): GpioPlan {
  const { gpio, chip } = resolveSysfsPin(opts.pin, { root: opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT, labels: opts.chipLabels ?? DEFAULT_CHIP_LABELS });
  loadOnoff();
  return { driver: "sysfs", gpio, chip };
}

async function planGpiod(opts: GpioCommonOptions): Promise<GpioPlan> {
  const tools = await findGpiodTools(opts.searchPath);
  if (opts.gpiodChip) return { driver: "gpiod", tools, chip: opts.gpiodChip, line: opts.pin };
  const chip = pickChip(await listGpiodChips(tools), opts.chipLabels ?? DEFAULT_CHIP_LABELS, "in `gpiodetect`");
  checkPin(opts.pin, chip);
  return { driver: "gpiod", tools, chip: chip.name, line: opts.pin };
}

export function openGpio(opts: GpioInputOptions): Promise<GpioInput>;
export function openGpio(opts: GpioOutputOptions): Promise<GpioOutput>;
/** Opens a pin with the driver the options ask for (see planGpio); throws a GpioError that says what to fix. */
export async function openGpio(opts: GpioOptions): Promise<GpioInput | GpioOutput> {
  const plan = await planGpio(opts);
  const common = {
    activeLow: opts.activeLow ?? false,
    clock: opts.clock ?? realClock,
    logger: opts.logger ?? silentLogger(),
    ...(opts.onError ? { onError: opts.onError } : {}),
  };
  if (plan.driver === "sysfs") {
    const line = { gpio: plan.gpio, pin: opts.pin };
    if (opts.direction === "out") return openSysfsOutput(line, common, opts.initial ?? 0);
    if (opts.pull !== undefined && opts.pull !== "none") {
      common.logger.warn(
        `sysfs GPIO cannot set a pull-${opts.pull} on BCM ${opts.pin}; the board's resistor or config.txt decides ` +
          `(add gpio=${opts.pin}=ip,p${opts.pull === "up" ? "u" : "d"} to /boot/firmware/config.txt if the button floats)`,
      );
    }
    return openSysfsInput(line, common);
  }
  const gpiod: GpiodDriverOptions = { ...common, restart: opts.restart ?? DEFAULT_RESTART };
  const line = { tools: plan.tools, chip: plan.chip, line: plan.line };
  if (opts.direction === "out") return GpiodOutput.open(line, gpiod, opts.initial ?? 0);
  return GpiodInput.open(line, { ...gpiod, ...(opts.pull ? { pull: opts.pull } : {}) });
}
