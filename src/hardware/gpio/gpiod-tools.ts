import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { GpioError, toolError } from "./errors";
import type { ChipInfo } from "./chips";
import type { Level, Pull } from "./types";

/**
 * Command lines and output formats of the libgpiod tools. v1 (1.6, Debian
 * Bookworm) takes `<chip> <offset>` positionally; v2 (Debian Trixie) takes
 * `--chip <chip> <offset>` and changed the bias names, format specifiers and
 * output of every tool.
 */
export type GpiodVersion = 1 | 2;

export interface GpiodTools {
  version: GpiodVersion;
  gpiomon: string;
  gpioset: string;
  gpioget: string;
  gpiodetect: string;
}

export function findOnPath(name: string, searchPath: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  error?: Error;
}

/** Runs a short-lived tool; never rejects (the caller decides what a failure means). */
export function runOnce(file: string, args: readonly string[], timeoutMs = 5000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr, code: 0, signal: null });
      const e = err as NodeJS.ErrnoException & { code?: unknown; signal?: NodeJS.Signals | null };
      const spawnFailed = typeof e.code === "string";
      resolve({
        stdout,
        stderr,
        code: typeof e.code === "number" ? e.code : null,
        signal: e.signal ?? null,
        ...(spawnFailed ? { error: e } : {}),
      });
    });
  });
}

/** Finds the tools and asks gpiomon which libgpiod it belongs to. */
export async function findGpiodTools(searchPath?: string): Promise<GpiodTools> {
  const names = ["gpiomon", "gpioset", "gpioget", "gpiodetect"] as const;
  const found = names.map((n) => findOnPath(n, searchPath));
  const missing = names.filter((_, i) => found[i] === undefined);
  if (missing.length) {
    throw new GpioError(`${missing.join(", ")} not found on PATH: install the libgpiod tools (sudo apt install gpiod)`, "missing-tool");
  }
  const [gpiomon, gpioset, gpioget, gpiodetect] = found as [string, string, string, string];
  const r = await runOnce(gpiomon, ["--version"]);
  const version = parseGpiodVersion(r.stdout);
  if (!version) {
    throw new GpioError(
      `could not tell the libgpiod version from \`gpiomon --version\` (${(r.stdout + r.stderr).trim().split("\n")[0] || `exit code ${r.code}`}); ` +
        "expected libgpiod 1.x or 2.x: reinstall the gpiod package",
      "missing-tool",
    );
  }
  return { version, gpiomon, gpioset, gpioget, gpiodetect };
}

/** "gpiomon (libgpiod) v1.6.3" → 1; "… v2.1.3" → 2. */
export function parseGpiodVersion(text: string): GpiodVersion | undefined {
  const m = /\(libgpiod\)\s+v?(\d+)\./.exec(text) ?? /\bv(\d+)\.\d+/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  if (major === 1) return 1;
  if (major >= 2) return 2;
  return undefined;
}

/** gpiodetect prints "gpiochip0 [pinctrl-bcm2711] (58 lines)" in both versions. */
export function parseGpiodetect(text: string): ChipInfo[] {
  const chips: ChipInfo[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+\[([^\]]*)\]\s+\((\d+) lines?\)/.exec(line.trim());
    if (m) chips.push({ name: m[1]!, label: m[2]!, ngpio: Number(m[3]) });
  }
  return chips;
}

export async function listGpiodChips(tools: GpiodTools): Promise<ChipInfo[]> {
  const r = await runOnce(tools.gpiodetect, []);
  if (r.code !== 0) throw toolError("gpiodetect", r);
  return parseGpiodetect(r.stdout);
}

function bias(version: GpiodVersion, pull: Pull | undefined): string[] {
  if (pull === undefined) return [];
  const name = pull === "up" ? "pull-up" : pull === "down" ? "pull-down" : version === 1 ? "disable" : "disabled";
  return version === 1 ? [`--bias=${name}`] : ["--bias", name];
}

/** Format of gpiomon's event lines: edge and kernel timestamp. v1's %n is not zero-padded, hence separate fields. */
const MON_FORMAT: Record<GpiodVersion, string> = { 1: "%e %s %n", 2: "%E %S" };

export function gpiomonArgs(version: GpiodVersion, chip: string, line: number, pull?: Pull): string[] {
  if (version === 1) {
    // v1 block-buffers stdout into a pipe: without --line-buffered events arrive kilobytes late.
    return ["--num-events=0", "--line-buffered", `--format=${MON_FORMAT[1]}`, ...bias(1, pull), chip, String(line)];
  }
  return ["--chip", chip, "--format", MON_FORMAT[2], ...bias(2, pull), String(line)];
}

/** One gpiomon event line → the physical edge and its kernel time in ms; undefined for anything else. */
export function parseMonLine(version: GpiodVersion, text: string): { level: Level; kernelMs: number } | undefined {
  const line = text.trim();
  if (version === 1) {
    const m = /^([01]) (\d+) (\d+)$/.exec(line);
    if (!m) return undefined;
    return { level: m[1] === "1" ? 1 : 0, kernelMs: Number(m[2]) * 1000 + Number(m[3]) / 1e6 };
  }
  const m = /^(rising|falling) (\d+)\.(\d+)$/.exec(line);
  if (!m) return undefined;
  return { level: m[1] === "rising" ? 1 : 0, kernelMs: Number(m[2]) * 1000 + Number(m[3]!.padEnd(9, "0").slice(0, 9)) / 1e6 };
}

/**
 * gpioset holds the line only while it runs. v1 needs --mode=signal to keep
 * running (its default sets and exits); v2 keeps running by default.
 */
export function gpiosetArgs(version: GpiodVersion, chip: string, line: number, value: Level): string[] {
  if (version === 1) return ["--mode=signal", chip, `${line}=${value}`];
  return ["--chip", chip, `${line}=${value}`];
}

export function gpiogetArgs(version: GpiodVersion, chip: string, line: number, pull?: Pull): string[] {
  if (version === 1) return [...bias(1, pull), chip, String(line)];
  return ["--numeric", "--chip", chip, ...bias(2, pull), String(line)];
}

/** "1" / "0" (v1, v2 --numeric) or `"17"=active` (v2 without --numeric). */
export function parseGetOutput(text: string): Level | undefined {
  const v = text.trim().split(/[\s=]+/).pop();
  if (v === "1" || v === "active") return 1;
  if (v === "0" || v === "inactive") return 0;
  return undefined;
}

/** Reads a line's physical level once; throws a GpioError that says what to fix. */
export async function gpiodRead(tools: GpiodTools, chip: string, line: number, pull?: Pull): Promise<Level> {
  const r = await runOnce(tools.gpioget, gpiogetArgs(tools.version, chip, line, pull));
  if (r.code !== 0) throw toolError("gpioget", r, { chip, line });
  const level = parseGetOutput(r.stdout);
  if (level === undefined) {
    throw new GpioError(`gpioget on ${chip} line ${line} printed ${JSON.stringify(r.stdout.trim())}, not a level`, "failed");
  }
  return level;
}
