/**
 * A line-oriented serial port that survives its device being unplugged: it
 * opens the path, hands on complete lines, and when the device goes away (or the
 * owner gives up on it) retries with a growing delay until the path opens again.
 * Used by the button panel and the GPS reader.
 */
import { EventEmitter } from "node:events";
import { Backoff, type BackoffOptions } from "../../core/backoff";
import type { SerialPort } from "serialport";
import type { Logger } from "../../log/logger";
import { realClock, type Clock, type ClockTimer } from "../../core/clock";
import { guardHangup } from "./hangup-guard";
import { BoundedLineParser } from "./line-parser";
import { classifyOpenError, openProblemMessage, type OpenProblem } from "./open-error";

/**
 * serialport's native binding, loaded when a port is first opened: a board without serial
 * devices never loads it, so it starts even where that binding cannot be loaded.
 */
function serialPort(): typeof SerialPort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("serialport") as typeof import("serialport")).SerialPort;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 5000 };

export interface ReconnectingPortOptions {
  path: string;
  baudRate: number;
  /** Names the device in log lines: "serial panel", "GPS". */
  label: string;
  logger: Logger;
  /** Longest accepted line in bytes; longer lines are dropped and reported. */
  maxLineLength: number;
  backoff?: BackoffOptions;
  clock?: Clock;
}

export type ReconnectingPortEvents = {
  open: [];
  line: [line: string];
  overlong: [bytes: number];
  /** The connection is gone; a reconnect is already scheduled. */
  down: [reason: string];
};

export class ReconnectingPort extends EventEmitter<ReconnectingPortEvents> {
  private port: SerialPort | null = null;
  private timer: ClockTimer | undefined;
  private running = false;
  private closed = false;
  /** The last problem logged at warn level, so a retry loop logs it once. */
  private reported: OpenProblem | "unplugged" | null = null;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly opts: ReconnectingPortOptions) {
    super();
    // No jitter: one panel per device, nothing to de-synchronise.
    this.backoff = new Backoff({ jitter: 0, ...(opts.backoff ?? DEFAULT_BACKOFF) });
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
  }

  get path(): string {
    return this.opts.path;
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.connect();
  }

  /** Sends one line (a `\n` is appended). False when no device is connected. */
  write(line: string): boolean {
    const port = this.port;
    if (!port || !port.isOpen) return false;
    port.write(`${line}\n`);
    return true;
  }

  /** Drops the current connection (the device stopped answering) and reconnects. */
  reopen(reason: string): void {
    const port = this.port;
    if (!port) return;
    this.lost(port, reason);
    if (port.isOpen) port.close(() => {});
  }

  /** Stops for good: no more events, the port is closed and not reopened. */
  async close(): Promise<void> {
    this.running = false;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private connect(): void {
    this.timer = undefined;
    if (!this.running) return;
    const { path, baudRate, label } = this.opts;
    let SerialPortCtor: typeof SerialPort;
    try {
      SerialPortCtor = serialPort();
    } catch (err) {
      // Said once (the same problem each retry); the port may work after a reinstall and restart.
      this.openFailed(new Error(`serialport's native binding does not load (${(err as Error).message.split("\n")[0]}); re-run the installer to rebuild it (talkbox doctor says why)`));
      return;
    }
    const port = new SerialPortCtor({ path, baudRate, autoOpen: false });
    // After a successful open, errors come with (or before) a close, which is what drives reconnecting.
    port.on("error", (err) => this.log.debug({ err: err.message }, `${label} ${path}: port error`));
    // Before anything reads: see hangup-guard.ts.
    port.once("open", () => guardHangup(port.port));
    port.open((err) => {
      if (!this.running) {
        if (!err) port.close(() => {});
        return;
      }
      if (err) {
        this.openFailed(err);
        return;
      }
      this.port = port;
      this.backoff.reset();
      this.reported = null;
      this.log.info(`${label} ${path} connected`);
      const parser = new BoundedLineParser({
        maxLength: this.opts.maxLineLength,
        onOverlong: (bytes) => {
          if (this.port === port) this.emit("overlong", bytes);
        },
      });
      parser.on("data", (line: string) => {
        if (this.port === port) this.emit("line", line);
      });
      port.pipe(parser);
      port.once("close", (closeErr: (Error & { disconnected?: boolean }) | null) => {
        if (this.port !== port) return;
        const unplugged = closeErr?.disconnected === true;
        if (unplugged) {
          this.log.warn(`${label} ${path} unplugged; waiting for it`);
          this.reported = "unplugged";
        }
        this.lost(port, unplugged ? "unplugged" : "closed");
      });
      this.emit("open");
    });
  }

  private lost(port: SerialPort, reason: string): void {
    if (this.port !== port) return;
    this.port = null;
    this.backoff.reset();
    this.schedule();
    this.emit("down", reason);
  }

  private openFailed(err: Error): void {
    const { label, path } = this.opts;
    const problem = classifyOpenError(err);
    const message = openProblemMessage(label, path, problem, err);
    // Once unplugged, "not found" while it is away is expected: say nothing new.
    const known = this.reported === problem || (this.reported === "unplugged" && problem === "missing");
    if (known) this.log.debug(message);
    else if (problem === "permission") this.log.error(message);
    else this.log.warn(message);
    if (!known) this.reported = problem;
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.connect(), this.backoff.next());
  }
}
