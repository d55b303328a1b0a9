/**
 * Test parts for the serial code: a socat pty pair standing in for a cable
 * (end `a` for the code under test, end `b` for the test's "device"), the
 * device end as a real serialport line reader, and a log capture.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";
import { SerialPort } from "serialport";
import { ReadlineParser } from "@serialport/parser-readline";
import { createLogger, type Logger } from "../../src/log/logger";
import { within } from "../support/within";

/** The next `event` from `emitter`, with its arguments. */
export function next<T extends unknown[]>(emitter: EventEmitter, event: string, ms = 5000): Promise<T> {
  return within(new Promise<T>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T))), ms, `event "${event}"`);
}

/** A virtual null-modem cable: two ptys joined by socat, reachable at `<dir>/a` and `<dir>/b`. */
export class PtyPair {
  private exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    readonly a: string,
    readonly b: string,
  ) {
    this.exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    // A test process that dies mid-test must not leave socat running.
    const kill = (): void => {
      proc.kill("SIGTERM");
    };
    process.once("exit", kill);
    proc.once("exit", () => process.off("exit", kill));
  }

  /** Starts socat and resolves once both ptys exist and it relays between them. */
  static start(dir: string): Promise<PtyPair> {
    const a = `${dir}/a`;
    const b = `${dir}/b`;
    const proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ["ignore", "ignore", "pipe"] });
    const ready = new Promise<PtyPair>((resolve, reject) => {
      let ptys = 0;
      const lines = createInterface({ input: proc.stderr! });
      const stderr: string[] = [];
      lines.on("line", (line) => {
        stderr.push(line);
        if (/ N PTY is \/dev\/pts\/\d+/.test(line)) ptys++;
        // The transfer loop starts after both ptys (and their links) are made.
        if (ptys === 2 && / N starting data transfer loop/.test(line)) {
          if (!existsSync(a) || !existsSync(b)) reject(new Error(`socat did not create ${a} and ${b}`));
          else resolve(new PtyPair(proc, a, b));
        }
      });
      proc.once("error", (err) => reject(new Error(`cannot run socat (apt-get install socat): ${err.message}`)));
      proc.once("exit", (code) => reject(new Error(`socat exited (${code}) before relaying: ${stderr.join(" | ")}`)));
    });
    return within(ready, 5000, "socat to create the pty pair").catch((err: unknown) => {
      proc.kill("SIGTERM");
      throw err;
    });
  }

  /** Pulls the cable: socat exits and removes both links. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    await this.exited;
  }
}

/** The test's side of the cable: sends lines, and waits for lines in arrival order. */
export class DeviceEnd {
  readonly lines: string[] = [];
  private cursor = 0;
  private readonly arrived = new EventEmitter();

  private constructor(private readonly port: SerialPort) {
    const parser = port.pipe(new ReadlineParser({ delimiter: "\n" }));
    parser.on("data", (line: string) => {
      this.lines.push(line);
      this.arrived.emit("line");
    });
    // The code under test may vanish with the cable; that is what some tests do.
    port.on("error", () => {});
  }

  static open(path: string, baudRate = 115200): Promise<DeviceEnd> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    return within(
      new Promise<DeviceEnd>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve(new DeviceEnd(port))))),
      5000,
      `opening ${path}`,
    );
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(data, (err) => (err ? reject(err) : this.port.drain(() => resolve())));
    });
  }

  /** The first line after the last one waited for that satisfies `match`; lines skipped over are passed. */
  waitFor(match: string | RegExp | ((line: string) => boolean), ms = 5000): Promise<string> {
    const test = typeof match === "string" ? (l: string) => l === match : match instanceof RegExp ? (l: string) => match.test(l) : match;
    const found = new Promise<string>((resolve) => {
      const scan = (): void => {
        while (this.cursor < this.lines.length) {
          const line = this.lines[this.cursor++] as string;
          if (test(line)) {
            this.arrived.off("line", scan);
            resolve(line);
            return;
          }
        }
      };
      this.arrived.on("line", scan);
      scan();
    });
    return within(found, ms, `a line matching ${String(match)} (got so far: ${JSON.stringify(this.lines.slice(-8))})`);
  }

  close(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}

export interface LogEntry {
  level: number;
  msg: string;
}

/** A real pino logger whose lines the test can read and wait for. */
export class LogCapture extends EventEmitter {
  readonly entries: LogEntry[] = [];
  readonly logger: Logger;

  constructor() {
    super();
    this.logger = createLogger({
      level: "debug",
      format: "json",
      destination: {
        write: (line: string) => {
          const entry = JSON.parse(line) as LogEntry;
          this.entries.push(entry);
          this.emit("entry", entry);
        },
      },
    });
  }

  /** Warnings and worse whose message matches. */
  warnings(match: RegExp): LogEntry[] {
    return this.entries.filter((e) => e.level >= 40 && match.test(e.msg));
  }

  /** Resolves once `done(entries)` holds, checked now and at every new entry. */
  until(done: (entries: readonly LogEntry[]) => boolean, what: string, ms = 5000): Promise<void> {
    if (done(this.entries)) return Promise.resolve();
    const found = new Promise<void>((resolve) => {
      const onEntry = (): void => {
        if (done(this.entries)) {
          this.off("entry", onEntry);
          resolve();
        }
      };
      this.on("entry", onEntry);
    });
    return within(found, ms, `${what} (log so far: ${JSON.stringify(this.entries.slice(-6).map((e) => e.msg))})`);
  }

  /** Resolves at the first warning (or worse) matching among entries from index `from` on. */
  async waitForWarning(match: RegExp, from = 0, ms = 5000): Promise<LogEntry> {
    const find = (entries: readonly LogEntry[]): LogEntry | undefined => entries.slice(from).find((e) => e.level >= 40 && match.test(e.msg));
    await this.until((entries) => find(entries) !== undefined, `a warning matching ${match}`, ms);
    return find(this.entries) as LogEntry;
  }
}
