#!/usr/bin/env node
/**
 * `talkbox` command line. Exit codes (src/cli/exit-codes.ts): 0 ok, 1 runtime failure,
 * 2 usage error, 78 configuration error (systemd must not restart-loop on it), 130 Ctrl-C.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { loadConfig } from "./config/load";
import { listBoards } from "./config/board-load";
import { doctorCommand } from "./doctor/doctor";
import { ConfigError } from "./config/errors";
import { runService } from "./app/service";
import { createLogger, type LogLevel } from "./log/logger";
import { talkCommand } from "./cli/talk";
import { statusCommand } from "./cli/status";
import { volumeCommand } from "./cli/volume";
import { sayCommand } from "./cli/say";
import { textCommand } from "./cli/text";
import { newConversationCommand } from "./cli/new-conversation";
import { statsCommand } from "./cli/stats";
import { agentCommand, agentsCommand } from "./cli/agents";
import { emulatorCommand } from "./cli/emulator";
import { configCheckCommand } from "./cli/config-check";
import { CrashGuard } from "./cli/crash";
import { secretsFromEnvironment } from "./config/secrets";
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./cli/exit-codes";
import { commandHelp, mainHelp, subcommands } from "./cli/help";
import { versionText } from "./cli/version";

const DEFAULT_SOCKET = "/run/talkbox/control.sock";

/** A command line the CLI cannot make sense of: exit 2, pointing at the command's help. */
class UsageError extends Error {
  constructor(
    readonly command: string | null,
    message: string,
  ) {
    super(message);
  }
}

const PARSE_ARGS_USAGE_CODES = new Set(["ERR_PARSE_ARGS_UNKNOWN_OPTION", "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL", "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"]);

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code && PARSE_ARGS_USAGE_CODES.has(code)) throw new UsageError(command, (err as Error).message);
    throw err;
  }
}

const wantsHelp = (args: string[]): boolean => args.some((a) => a === "--help" || a === "-h");

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

const guard = new CrashGuard();
guard.addSecrets(secretsFromEnvironment());
guard.install();

async function run(argv: string[]): Promise<number> {
  const [command = "help", ...rest] = argv;
  if (command === "config") return configCommand(rest);
  if (command !== "help" && wantsHelp(rest)) {
    const help = commandHelp(command);
    if (help === null) throw new UsageError(null, `unknown command '${command}'`);
    process.stdout.write(`${help}\n`);
    return EXIT_OK;
  }
  switch (command) {
    case "run": {
      const values = parse(command, rest, { config: { type: "string", short: "c" } });
      return runService(values.config, guard);
    }
    case "talk": {
      const values = parse(command, rest, {
        seconds: { type: "string", short: "s" },
        name: { type: "string" },
        socket: { type: "string" },
        config: { type: "string", short: "c" },
      });
      const seconds = Number(values.seconds);
      if (!values.seconds || !Number.isFinite(seconds) || seconds <= 0 || seconds > 300) {
        throw new UsageError(command, "--seconds N is required (0 < N ≤ 300)");
      }
      return talkCommand({ socket: socketFrom(values), seconds, ...(values.name ? { name: values.name } : {}) });
    }
    case "status": {
      const values = parse(command, rest, {
        json: { type: "boolean" },
        follow: { type: "boolean", short: "f" },
        socket: { type: "string" },
        config: { type: "string", short: "c" },
      });
      return statusCommand({ socket: socketFrom(values), json: values.json ?? false, follow: values.follow ?? false });
    }
    case "volume": {
      // The value comes first: "-10" must not be read as an option.
      const [first, ...flags] = rest;
      const value = first !== undefined && !first.startsWith("--") && first !== "-c" ? first : undefined;
      const values = parse(command, value === undefined ? rest : flags, { socket: { type: "string" }, config: { type: "string", short: "c" } });
      return volumeCommand({ socket: socketFrom(values), ...(value !== undefined ? { value } : {}) });
    }
    case "say": {
      // The text comes first and may start with "-": everything before the first option is the text.
      const at = rest.findIndex((a) => a === "--mode" || a === "-m" || a.startsWith("--mode=") || a === "--socket" || a === "--config" || a === "-c");
      const words = at === -1 ? rest : rest.slice(0, at);
      const values = parse(command, at === -1 ? [] : rest.slice(at), { mode: { type: "string", short: "m" }, socket: { type: "string" }, config: { type: "string", short: "c" } });
      const text = words.join(" ");
      if (text.trim() === "") throw new UsageError(command, 'give the text to speak: talkbox say "the doorbell rang"');
      return sayCommand({ socket: socketFrom(values), text, ...(values.mode !== undefined ? { mode: values.mode } : {}) });
    }
    case "text": {
      // As for say: the words first, then the options.
      const at = rest.findIndex((a) => a === "--user" || a === "-u" || a.startsWith("--user=") || a === "--socket" || a === "--config" || a === "-c");
      const words = at === -1 ? rest : rest.slice(0, at);
      const values = parse(command, at === -1 ? [] : rest.slice(at), { user: { type: "string", short: "u" }, socket: { type: "string" }, config: { type: "string", short: "c" } });
      const text = words.join(" ");
      if (text.trim() === "") throw new UsageError(command, 'give the question to ask: talkbox text "what is the weather tomorrow"');
      return textCommand({ socket: socketFrom(values), text, ...(values.user !== undefined ? { user: values.user } : {}) });
    }
    case "new-conversation": {
      const values = parse(command, rest, { user: { type: "string", short: "u" }, agent: { type: "string", short: "a" }, socket: { type: "string" }, config: { type: "string", short: "c" } });
      return newConversationCommand({
        socket: socketFrom(values),
        ...(values.user !== undefined ? { user: values.user } : {}),
        ...(values.agent !== undefined ? { agent: values.agent } : {}),
      });
    }
    case "agents": {
      const values = parse(command, rest, { json: { type: "boolean" }, socket: { type: "string" }, config: { type: "string", short: "c" } });
      return agentsCommand({ socket: socketFrom(values), json: values.json ?? false });
    }
    case "agent": {
      // The name comes first, then the options.
      const [name, ...flags] = rest;
      if (name === undefined || name.startsWith("-")) throw new UsageError(command, "give the agent profile to switch to: talkbox agent tutor (talkbox agents lists them)");
      const values = parse(command, flags, { socket: { type: "string" }, config: { type: "string", short: "c" } });
      return agentCommand({ socket: socketFrom(values), name });
    }
    case "stats": {
      const values = parse(command, rest, {
        since: { type: "string" },
        agent: { type: "string" },
        limit: { type: "string" },
        json: { type: "boolean" },
        socket: { type: "string" },
        config: { type: "string", short: "c" },
      });
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0 || limit > 1000)) throw new UsageError(command, "--limit must be a number from 0 to 1000");
      return statsCommand({
        socket: socketFrom(values),
        json: values.json ?? false,
        ...(values.since !== undefined ? { since: values.since } : {}),
        ...(values.agent !== undefined ? { agent: values.agent } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
    }
    case "emulator": {
      const values = parse(command, rest, { port: { type: "string", short: "p" }, host: { type: "string" }, token: { type: "string" } });
      const port = values.port === undefined ? 8765 : Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(command, "--port must be a number from 0 to 65535");
      guard.addSecrets([values.token]);
      const log = createLogger({ level: (process.env.TALKBOX_LOG_LEVEL as LogLevel | undefined) ?? "info", secrets: values.token ? [values.token] : [] });
      guard.useLogger(log);
      await emulatorCommand({ port, log, ...(values.host ? { host: values.host } : {}), ...(values.token ? { token: values.token } : {}) });
      return EXIT_OK;
    }
    case "doctor": {
      const values = parse(command, rest, { config: { type: "string", short: "c" } });
      return doctorCommand(values.config ? { config: values.config } : {});
    }
    case "boards": {
      parse(command, rest, {});
      const boards = listBoards();
      const width = Math.max(...boards.map((b) => b.name.length));
      for (const b of boards) process.stdout.write(`${b.name.padEnd(width)}  ${b.description}\n`);
      return EXIT_OK;
    }
    case "version":
    case "--version":
    case "-V":
      parse(command, rest, {});
      process.stdout.write(`${versionText()}\n`);
      return EXIT_OK;
    case "help":
    case "--help":
    case "-h": {
      const name = rest.filter((a) => a !== "--help" && a !== "-h").join(" ");
      if (name === "") {
        process.stdout.write(`${command === "help" && wantsHelp(rest) ? commandHelp("help") : mainHelp()}\n`);
        return EXIT_OK;
      }
      const help = commandHelp(name) ?? (subcommands(name).length > 0 ? subcommands(name).map((s) => commandHelp(`${name} ${s}`)).join("\n\n") : null);
      if (help === null) throw new UsageError(null, `no command '${name}'`);
      process.stdout.write(`${help}\n`);
      return EXIT_OK;
    }
    default:
      throw new UsageError(null, `unknown command '${command}'`);
  }
}

/** `talkbox config SUBCOMMAND`. */
function configCommand(rest: string[]): number {
  const [sub, ...args] = rest;
  const subs = subcommands("config");
  if (sub === undefined || sub === "--help" || sub === "-h") {
    if (sub === undefined) throw new UsageError("config", `expected a sub-command: ${subs.join(", ")}`);
    process.stdout.write(`${subs.map((s) => commandHelp(`config ${s}`)).join("\n\n")}\n`);
    return EXIT_OK;
  }
  if (sub !== "check") throw new UsageError("config", `unknown sub-command '${sub}'; expected one of: ${subs.join(", ")}`);
  if (wantsHelp(args)) {
    process.stdout.write(`${commandHelp("config check")}\n`);
    return EXIT_OK;
  }
  const values = parse("config check", args, { config: { type: "string", short: "c" } });
  return configCheckCommand(values.config ? { config: values.config } : {});
}

// `talkbox status | head` closes the pipe early; that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(EXIT_OK);
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
      process.stderr.write(`${guard.scrub(err.message)}\n`);
      process.exit(EXIT_CONFIG);
    }
    if (err instanceof UsageError) {
      const where = err.command ? `talkbox ${err.command}` : "talkbox";
      process.stderr.write(`${where}: ${err.message}\nRun '${where} --help' for usage.\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`talkbox: ${guard.scrub(err instanceof Error ? err.message : String(err))}\n`);
    process.exit(EXIT_FAILURE);
  },
);
