/** The real daemon (compiled CLI) as a child process, with its JSON log lines as events. */
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import YAML from "yaml";

export const CLI = path.resolve(__dirname, "../../src/cli.js");

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/**
 * Daemons still running. A test that times out, or a soak stopped with Ctrl-C or kill, must
 * not leave its daemon (and its arecord) running on the machine after it: they go with it.
 */
const live = new Set<ChildProcess>();

function outliveNoTest(child: ChildProcess): void {
  if (!hooked) hookExit();
  live.add(child);
  child.once("exit", () => live.delete(child));
}

let hooked = false;
function hookExit(): void {
  hooked = true;
  const killAll = (): void => {
    for (const c of live) c.kill("SIGKILL");
  };
  process.once("exit", killAll);
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(code);
    });
  }
}

export class DaemonProcess extends EventEmitter {
  readonly logs: LogLine[] = [];
  readonly rawOutput: string[] = [];
  exitCode: number | null = null;
  /** The signal that ended it, when one did (SIGABRT from native code, SIGSEGV, SIGKILL from the OOM killer). */
  exitSignal: NodeJS.Signals | null = null;
  private readonly exited: Promise<number>;

  private constructor(readonly child: ChildProcess) {
    super();
    outliveNoTest(child);
    const onLine = (line: string): void => {
      this.rawOutput.push(line);
      try {
        const l = JSON.parse(line) as LogLine;
        this.logs.push(l);
        this.emit("log", l);
      } catch {
        // stderr text (config errors) stays in rawOutput
      }
    };
    readline.createInterface({ input: child.stdout! }).on("line", onLine);
    readline.createInterface({ input: child.stderr! }).on("line", onLine);
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : -1);
        this.exitSignal = signal;
        resolve(this.exitCode);
        this.emit("exit", this.exitCode);
      }),
    );
  }

  /** `cli`: another build of the CLI (the device build of scripts/build.js); default the tsc one. */
  static start(args: string[], env: NodeJS.ProcessEnv, cli = CLI): DaemonProcess {
    return new DaemonProcess(spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** Writes `config` as YAML into dir and runs `talkbox run --config` on it. */
  static run(dir: string, config: Record<string, unknown>, env: NodeJS.ProcessEnv, cli = CLI): DaemonProcess {
    const file = path.join(dir, "talkbox.yaml");
    fs.writeFileSync(file, YAML.stringify(config));
    return DaemonProcess.start(["run", "--config", file], env, cli);
  }

  get alive(): boolean {
    return this.exitCode === null;
  }

  /** Resolves with the first log line (already seen or future) matching `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 15_000, after = 0): Promise<LogLine> {
    const seen = this.logs.slice(after).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line; last lines:\n${this.rawOutput.slice(-15).join("\n")}`));
      }, timeoutMs);
      const onLog = (l: LogLine): void => {
        if (!pred(l)) return;
        cleanup();
        resolve(l);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`daemon exited (${code}) while waiting; last lines:\n${this.rawOutput.slice(-15).join("\n")}`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off("log", onLog);
        this.off("exit", onExit);
      };
      this.on("log", onLog);
      this.on("exit", onExit);
    });
  }

  waitForState(state: string, timeoutMs?: number, after?: number): Promise<LogLine> {
    return this.waitForLog((l) => l.msg === `state ${state}`, timeoutMs, after);
  }

  async stop(): Promise<number> {
    if (this.alive) this.child.kill("SIGTERM");
    return this.exited;
  }

  waitExit(): Promise<number> {
    return this.exited;
  }
}

/** Re-checks `cond` until it holds (for file contents, which have no event here). */
export async function until<T>(cond: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
