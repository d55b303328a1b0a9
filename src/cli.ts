#!/usr/bin/env node
/**
 * `talkbox` command line. Exit codes: 0 ok, 1 runtime failure, 2 usage error,
 * 78 configuration error (systemd must not restart-loop on it).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "./config/load";
import { listBoards } from "./boards/load";
import { doctorCommand } from "./doctor/doctor";
import { ConfigError, EX_CONFIG } from "./config/errors";
import { startDaemon } from "./daemon";
import { createLogger, type LogLevel } from "./log/logger";
import { talkCommand } from "./cli/talk";
import { statusCommand } from "./cli/status";
import { emulatorCommand } from "./cli/emulator";

const EX_USAGE = 2;
const DEFAULT_SOCKET = "/run/talkbox/control.sock";

const HELP = `talkbox — voice-agent daemon for a device with a mic, a speaker and a talk button

Usage:
  talkbox run [--config FILE]             run the daemon (default config: ./talkbox.yaml, then /etc/talkbox/talkbox.yaml)
  talkbox talk --seconds N [--name talk]  hold the talk button for N seconds through the control socket
  talkbox status [--json]                 show the daemon's state, link and last turn's timings
  talkbox emulator [--port N] [--token T] run the built-in Coze /v1/chat emulator (echo agent)
  talkbox boards                          list the board profiles
  talkbox doctor [--config FILE]          check sound devices, GPIO, SPI, serial ports and the agent; says how to fix each
  talkbox version                         print the version
  talkbox help                            this text

talk and status find the control socket from --socket, TALKBOX_CONTROL_SOCKET, or the config file.
Exit codes: 0 ok, 1 failure, 2 usage error, 78 configuration error.`;

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("../../package.json") as { version: string }).version;
}

function socketFrom(flags: { socket?: string | undefined; config?: string | undefined }): string {
  if (flags.socket) return flags.socket;
  if (process.env.TALKBOX_CONTROL_SOCKET) return process.env.TALKBOX_CONTROL_SOCKET;
  try {
    return loadConfig(flags.config ? { path: flags.config } : {}).config.control.socket;
  } catch {
    // A config that does not validate still should not stop `talkbox status` from trying.
    return DEFAULT_SOCKET;
  }
}

async function run(argv: string[]): Promise<number> {
  const [command = "help", ...rest] = argv;
  switch (command) {
    case "run": {
      const { values } = parseArgs({ args: rest, options: { config: { type: "string", short: "c" } } });
      return runDaemon(values.config);
    }
    case "talk": {
      const { values } = parseArgs({
        args: rest,
        options: { seconds: { type: "string", short: "s" }, name: { type: "string" }, socket: { type: "string" }, config: { type: "string", short: "c" } },
      });
      const seconds = Number(values.seconds);
      if (!values.seconds || !Number.isFinite(seconds) || seconds <= 0 || seconds > 300) {
        process.stderr.write("talkbox talk: --seconds N is required (0 < N ≤ 300)\n");
        return EX_USAGE;
      }
      return talkCommand({ socket: socketFrom(values), seconds, ...(values.name ? { name: values.name } : {}) });
    }
    case "status": {
      const { values } = parseArgs({
        args: rest,
        options: { json: { type: "boolean" }, socket: { type: "string" }, config: { type: "string", short: "c" } },
      });
      return statusCommand({ socket: socketFrom(values), json: values.json ?? false });
    }
    case "emulator": {
      const { values } = parseArgs({
        args: rest,
        options: { port: { type: "string", short: "p" }, host: { type: "string" }, token: { type: "string" } },
      });
      const port = values.port === undefined ? 8765 : Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write("talkbox emulator: --port must be a number from 0 to 65535\n");
        return EX_USAGE;
      }
      const log = createLogger({ level: (process.env.TALKBOX_LOG_LEVEL as LogLevel | undefined) ?? "info", secrets: values.token ? [values.token] : [] });
      await emulatorCommand({ port, log, ...(values.host ? { host: values.host } : {}), ...(values.token ? { token: values.token } : {}) });
      return 0;
    }
    case "doctor": {
      const { values } = parseArgs({ args: rest, options: { config: { type: "string", short: "c" } } });
      return doctorCommand(values.config ? { config: values.config } : {});
    }
    case "boards": {
      const boards = listBoards();
      const width = Math.max(...boards.map((b) => b.name.length));
      for (const b of boards) process.stdout.write(`${b.name.padEnd(width)}  ${b.description}\n`);
      return 0;
    }
    case "version":
    case "--version":
      process.stdout.write(`talkbox ${version()}\n`);
      return 0;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${HELP}\n`);
      return 0;
    default:
      process.stderr.write(`talkbox: unknown command '${command}'\n\n${HELP}\n`);
      return EX_USAGE;
  }
}

async function runDaemon(configPath: string | undefined): Promise<number> {
  const loaded = loadConfig(configPath ? { path: configPath } : {});
  const log = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format, secrets: loaded.secrets });
  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "talkbox crashed; systemd will restart it");
    log.flush();
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled promise rejection"));

  let stopping = false;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (resolveDone = r));
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    void daemon.stop().then(() => resolveDone(0));
  };
  const daemon = await startDaemon({ loaded, log, onQuit: () => shutdown("quit key") });
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  return done;
}

// `talkbox status | head` closes the pipe early; that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Handles (sockets, children) are closed by then; exit explicitly in case a library keeps one.
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    if (err instanceof Error && (err as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      process.stderr.write(`talkbox: ${err.message}\n`);
      process.exit(EX_USAGE);
    }
    process.stderr.write(`talkbox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
