export type GpioErrorCode =
  | "permission"
  | "busy"
  | "bad-pin"
  | "no-chip"
  | "missing-tool"
  | "no-driver"
  | "failed";

/** A GPIO failure whose message says what to do about it. */
export class GpioError extends Error {
  override readonly name = "GpioError";
  constructor(
    message: string,
    readonly code: GpioErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const GROUP_HINT =
  "add the talkbox user to the gpio group (sudo usermod -aG gpio talkbox), then restart talkbox";

/** Maps an errno from the sysfs GPIO files (what onoff throws) to advice. */
export function sysfsError(err: unknown, what: { gpio: number; pin: number; op: string }): GpioError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  const at = `sysfs GPIO ${what.gpio} (BCM ${what.pin})`;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return new GpioError(`no permission to ${what.op} ${at}: ${GROUP_HINT}`, "permission", { cause: err });
    case "EINVAL":
      return new GpioError(
        `the kernel rejected ${at} on ${what.op} (EINVAL): wrong pin or kernel offset; ` +
          "on kernel 6.6+ sysfs numbers are BCM + the chip's base (512 on a Pi 4, 571 on a Pi 5): check the pin and the chip labels",
        "bad-pin",
        { cause: err },
      );
    case "EBUSY":
      return new GpioError(
        `${at} is claimed by a kernel driver or another program (an overlay in config.txt?): pick another pin or free it`,
        "busy",
        { cause: err },
      );
    case "ENOENT":
      return new GpioError(
        `${at} is missing (${detail}): this kernel has no sysfs GPIO; use the gpiod driver (sudo apt install gpiod)`,
        "no-chip",
        { cause: err },
      );
    default:
      return new GpioError(`${what.op} ${at} failed: ${detail}`, "failed", { cause: err });
  }
}

/** Maps what a libgpiod tool printed before it failed to advice. */
export function toolError(
  tool: string,
  failure: { stderr: string; code: number | null; signal: string | null; error?: Error },
  where?: { chip: string; line: number },
): GpioError {
  const said = failure.error?.message ?? (lastLine(failure.stderr) || (failure.signal ? `killed by ${failure.signal}` : `exit code ${failure.code}`));
  const head = `${tool}${where ? ` on ${where.chip} line ${where.line}` : ""} failed: ${said}`;
  if ((failure.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT")
    return new GpioError(`${head} — install the libgpiod tools (sudo apt install gpiod)`, "missing-tool");
  const text = `${failure.stderr}\n${said}`;
  if (/Permission denied|Operation not permitted/i.test(text)) return new GpioError(`${head} — ${GROUP_HINT}`, "permission");
  if (/Device or resource busy/i.test(text))
    return new GpioError(
      `${head} — the line is held by another program or a kernel driver (see \`gpioinfo${where ? ` ${where.chip}` : ""}\`): stop it or pick another pin`,
      "busy",
    );
  if (/out of range|Invalid argument|cannot find line|unable to retrieve GPIO lines|invalid GPIO offset/i.test(text))
    return new GpioError(`${head} — wrong pin: check the pin number in the board profile`, "bad-pin");
  if (/cannot find GPIO chip|unable to open|No such file/i.test(text))
    return new GpioError(`${head} — no such GPIO chip: list the chips with \`gpiodetect\` and check the chip setting`, "no-chip");
  return new GpioError(head, "failed");
}

function lastLine(s: string): string {
  return s.trim().split("\n").pop()?.trim() ?? "";
}
