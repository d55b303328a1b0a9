import pino, { type Logger as PinoLogger, type DestinationStream } from "pino";
import pretty from "pino-pretty";

export type Logger = PinoLogger;
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
export type LogFormat = "auto" | "json" | "pretty";

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Strings that must never reach a log line (tokens, keys). */
  secrets?: readonly string[];
  destination?: DestinationStream;
}

const MASK = "[redacted]";

/**
 * Replaces every occurrence of a known secret in an already-serialized line.
 * Field redaction alone is not enough: a token can hide inside an error message,
 * a URL or a server's echo of our own request.
 */
export function scrubber(secrets: readonly string[]): (line: string) => string {
  const list = secrets.filter((s) => s.length >= 4);
  if (list.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const s of list) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const scrub = scrubber(opts.secrets ?? []);
  const format = opts.format ?? "auto";
  const usePretty = format === "pretty" || (format === "auto" && !opts.destination && process.stdout.isTTY === true);
  let destination: DestinationStream;
  if (opts.destination) destination = opts.destination;
  else if (usePretty) destination = pretty({ colorize: true, singleLine: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname", sync: true });
  else destination = pino.destination({ fd: 1, sync: false });
  return pino(
    {
      level: opts.level ?? "info",
      base: undefined,
      redact: { paths: ["token", "*.token", "headers.authorization", "*.headers.authorization"], censor: MASK },
      hooks: { streamWrite: scrub },
    },
    destination,
  );
}

/** A logger that drops everything; for unit tests of components that log. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
