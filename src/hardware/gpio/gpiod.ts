import { spawn, type ChildProcess } from "node:child_process";
import { Backoff } from "../../core/backoff";
import type { Clock, ClockTimer } from "../../core/clock";
import type { Logger } from "../../log/logger";
import { EdgeTimeMapper } from "./edge-time";
import { GpioError, toolError } from "./errors";
import { gpiodRead, gpiomonArgs, gpiosetArgs, parseMonLine, type GpiodTools } from "./gpiod-tools";
import type { GpioInput, GpioOutput, Level, Pull } from "./types";

/**
 * GPIO through the libgpiod command-line tools, for kernels without sysfs
 * GPIO: a long-lived gpiomon per input, a long-lived gpioset per output (a line
 * is held only while gpioset runs). Children that die are restarted with
 * back-off and the failure is reported with advice.
 */
export interface GpiodLine {
  tools: GpiodTools;
  chip: string;
  line: number;
}

export interface GpiodDriverOptions {
  activeLow: boolean;
  clock: Clock;
  logger: Logger;
  onError?: (err: GpioError) => void;
  restart: { minMs: number; maxMs: number };
}

interface Failure {
  stderr: string;
  code: number | null;
  signal: string | null;
  error?: Error;
}

/** A child whose death is reported once, with the tail of what it printed on stderr. */
class ToolChild {
  readonly startedAt: number;
  private readonly child: ChildProcess;
  private stderr = "";
  private done = false;

  constructor(file: string, args: string[], now: number, onStdout: ((text: string) => void) | undefined, onExit: (f: Failure) => void) {
    this.startedAt = now;
    this.child = spawn(file, args, { stdio: ["ignore", onStdout ? "pipe" : "ignore", "pipe"] });
    const finish = (f: Omit<Failure, "stderr">): void => {
      if (this.done) return;
      this.done = true;
      onExit({ ...f, stderr: this.stderr });
    };
    if (onStdout) {
      this.child.stdout?.setEncoding("utf8");
      this.child.stdout?.on("data", onStdout);
    }
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString("utf8")).slice(-2000);
    });
    this.child.on("error", (error) => finish({ code: null, signal: null, error }));
    // 'close', not 'exit': every event line has been read by then.
    this.child.on("close", (code, signal) => finish({ code, signal }));
  }

  kill(): void {
    if (!this.done) this.child.kill("SIGTERM");
  }
}

/** A child that ran this long was healthy: its restart delays start over. */
const STABLE_MS = 10_000;

/** Restart delays doubling from minMs to maxMs (no jitter: one line per process). */
function restartDelays(restart: { minMs: number; maxMs: number }): (livedMs: number) => number {
  const backoff = new Backoff({ initialMs: restart.minMs, maxMs: restart.maxMs, jitter: 0 });
  return (livedMs) => {
    if (livedMs >= STABLE_MS) backoff.reset();
    return backoff.next();
  };
}

function describe(line: GpiodLine, activeLow: boolean): string {
  return `gpiod v${line.tools.version} ${line.chip} line ${line.line}${activeLow ? " active-low" : ""}`;
}

function report(opts: GpiodDriverOptions, err: GpioError): void {
  opts.logger.warn({ code: err.code }, err.message);
  opts.onError?.(err);
}

export class GpiodInput implements GpioInput {
  readonly driver = "gpiod" as const;
  readonly description: string;
  private level: Level;
  private readonly listeners: Array<(level: Level, atMs: number) => void> = [];
  private child: ToolChild | undefined;
  private timer: ClockTimer | undefined;
  private closed = false;
  private partial = "";
  private readonly mapper = new EdgeTimeMapper();
  private readonly restartDelay: (livedMs: number) => number;

  /** Reads the line once (which also proves it can be requested), then starts gpiomon. */
  static async open(line: GpiodLine, opts: GpiodDriverOptions & { pull?: Pull }): Promise<GpiodInput> {
    const physical = await gpiodRead(line.tools, line.chip, line.line, opts.pull);
    const input = new GpiodInput(line, opts, physical);
    input.start();
    return input;
  }

  private constructor(
    private readonly line: GpiodLine,
    private readonly opts: GpiodDriverOptions & { pull?: Pull },
    physical: Level,
  ) {
    this.description = describe(line, opts.activeLow);
    this.level = this.logical(physical);
    this.restartDelay = restartDelays(opts.restart);
  }

  watch(cb: (level: Level, atMs: number) => void): void {
    this.listeners.push(cb);
  }

  read(): Level {
    return this.level;
  }

  close(): void {
    this.closed = true;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.child?.kill();
    this.child = undefined;
    this.listeners.length = 0;
  }

  private logical(physical: Level): Level {
    return this.opts.activeLow ? ((1 - physical) as Level) : physical;
  }

  private start(): void {
    const { tools, chip, line } = this.line;
    this.partial = "";
    const child: ToolChild = new ToolChild(
      tools.gpiomon,
      gpiomonArgs(tools.version, chip, line, this.opts.pull),
      this.opts.clock.now(),
      (text) => this.onOutput(text),
      (f) => this.onExit(child, f),
    );
    this.child = child;
  }

  private onOutput(text: string): void {
    const lines = (this.partial + text).split("\n");
    this.partial = lines.pop() ?? "";
    const events = [];
    for (const l of lines) {
      const e = parseMonLine(this.line.tools.version, l);
      if (e) events.push(e);
      else if (l.trim()) this.opts.logger.debug({ line: l }, "gpiomon printed a line that is not an event");
    }
    const times = this.mapper.map(
      events.map((e) => e.kernelMs),
      this.opts.clock.now(),
    );
    events.forEach((e, i) => this.set(this.logical(e.level), times[i]!));
  }

  private set(level: Level, atMs: number): void {
    this.level = level;
    for (const cb of this.listeners) {
      try {
        cb(level, atMs);
      } catch (err) {
        this.opts.logger.error({ err }, "a GPIO input listener threw");
      }
    }
  }

  private onExit(child: ToolChild, f: Failure): void {
    if (this.child !== child || this.closed) return;
    this.child = undefined;
    const { chip, line } = this.line;
    report(this.opts, toolError("gpiomon", f, { chip, line }));
    const delay = this.restartDelay(this.opts.clock.now() - child.startedAt);
    this.opts.logger.info({ delayMs: delay }, `restarting gpiomon for ${this.description}`);
    this.timer = this.opts.clock.setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    this.timer = undefined;
    const { tools, chip, line } = this.line;
    try {
      // Edges while gpiomon was down are lost: catch up with the line's level.
      const level = this.logical(await gpiodRead(tools, chip, line, this.opts.pull));
      if (!this.closed && level !== this.level) this.set(level, this.opts.clock.now());
    } catch {
      // gpiomon will fail the same way and report it
    }
    if (!this.closed) this.start();
  }
}

export class GpiodOutput implements GpioOutput {
  readonly driver = "gpiod" as const;
  readonly description: string;
  /** Physical level wanted on the line. */
  private want: Level;
  private child: ToolChild | undefined;
  /** The running gpioset was told to stop so that one with the new value can start. */
  private replacing = false;
  private timer: ClockTimer | undefined;
  private closed = false;
  private readonly restartDelay: (livedMs: number) => number;

  /** Starts gpioset holding the initial level; failures are reported through onError and retried. */
  static open(line: GpiodLine, opts: GpiodDriverOptions, initial: Level): GpiodOutput {
    const out = new GpiodOutput(line, opts, initial);
    out.start();
    return out;
  }

  private constructor(
    private readonly line: GpiodLine,
    private readonly opts: GpiodDriverOptions,
    initial: Level,
  ) {
    this.description = describe(line, opts.activeLow);
    this.want = this.physical(initial);
    this.restartDelay = restartDelays(opts.restart);
  }

  write(level: Level): void {
    const p = this.physical(level);
    if (p === this.want) return;
    this.want = p;
    // gpioset can't change its value: stop it, and its exit starts one with the new value.
    if (this.child && !this.replacing) {
      this.replacing = true;
      this.child.kill();
    }
  }

  close(): void {
    this.closed = true;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.child?.kill();
    this.child = undefined;
  }

  private physical(level: Level): Level {
    return this.opts.activeLow ? ((1 - level) as Level) : level;
  }

  private start(): void {
    this.timer = undefined;
    this.replacing = false;
    const { tools, chip, line } = this.line;
    const child: ToolChild = new ToolChild(
      tools.gpioset,
      gpiosetArgs(tools.version, chip, line, this.want),
      this.opts.clock.now(),
      undefined,
      (f) => this.onExit(child, f),
    );
    this.child = child;
  }

  private onExit(child: ToolChild, f: Failure): void {
    if (this.child !== child || this.closed) return;
    this.child = undefined;
    if (this.replacing) return this.start();
    const { chip, line } = this.line;
    const err =
      f.code === 0 && !f.stderr.trim()
        ? new GpioError(`gpioset on ${chip} line ${line} exited: the line is no longer held; restarting it`, "failed")
        : toolError("gpioset", f, { chip, line });
    report(this.opts, err);
    this.timer = this.opts.clock.setTimeout(() => this.start(), this.restartDelay(this.opts.clock.now() - child.startedAt));
  }
}
