import pino, { type Logger as PinoLogger, type DestinationStream } from "pino";
import { FloodGuard } from "./flood-guard";

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
 * Replaces every occurrence of a known secret in an already-serialized line, in
 * every form it can take there: as is, JSON-escaped once or twice (a server body
 * quoting our request, inside a JSON log line), URL-encoded, and base64 (of the
 * token alone or of an Authorization value). Field redaction alone is not enough: a
 * token can hide inside an error message, a URL or a server's echo of our request.
 * Every output path — log, status, doctor, config errors, crash output — uses this.
 */
export function scrubber(secrets: readonly string[]): (line: string) => string {
  const forms = [...new Set(secrets.filter((s) => s.length >= 4).flatMap(encodings))].filter((f) => f.length >= 4);
  // Longest first: a form that contains another is masked whole.
  forms.sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const f of forms) if (out.includes(f)) out = out.split(f).join(MASK);
    return out;
  };
}

function encodings(secret: string): string[] {
  const json1 = JSON.stringify(secret).slice(1, -1);
  const json2 = JSON.stringify(json1).slice(1, -1);
  return [
    secret,
    json1,
    json2,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, "+"),
    Buffer.from(secret).toString("base64").replace(/=+$/, ""),
    Buffer.from(`Bearer ${secret}`).toString("base64").replace(/=+$/, ""),
  ];
}

/** Each root logger's secrets, so that a reload can add the new token to what is scrubbed. */
const secretLists = new WeakMap<object, { secrets: string[]; scrub: (line: string) => string }>();

/** Adds secrets to what `log` (and every child of it) scrubs from now on. */
export function addLogSecrets(log: Logger, secrets: readonly string[]): void {
  const list = secretLists.get(log);
  if (!list) return;
  list.secrets.push(...secrets.filter((s) => !list.secrets.includes(s)));
  list.scrub = scrubber(list.secrets);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const list = { secrets: [...(opts.secrets ?? [])], scrub: scrubber(opts.secrets ?? []) };
  const scrub = (line: string): string => list.scrub(line);
  const format = opts.format ?? "auto";
  const usePretty = format === "pretty" || (format === "auto" && !opts.destination && process.stdout.isTTY === true);
  let destination: DestinationStream;
  if (opts.destination) destination = opts.destination;
  // Required only for a terminal: it pulls in a dozen modules a service never uses.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  else if (usePretty) destination = (require("pino-pretty") as typeof import("pino-pretty"))({ colorize: true, singleLine: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname", sync: true });
  // Written at once, on the thread that logs: one write(2) to journald's socket or a pipe. The
  // asynchronous mode handed each line to the thread pool, a wake-up of another thread per line
  // that on a two-core board landed in the middle of a release or a reply's first audio; and
  // its last line before a crash could be lost at process.exit.
  else destination = pino.destination({ fd: 1, sync: true });
  // Set once the logger exists: the guard's summaries are written through it.
  let root: Logger | null = null;
  const guard = new FloodGuard({ windowMs: FLOOD_WINDOW_MS, now: () => performance.now() }, (r) =>
    root?.[pino.levels.labels[r.level] as "warn"]({ repeated: r.count }, `${r.msg} (and ${r.count} more like it in ${r.windowMs / 1000} s)`),
  );
  root = pino(
    {
      level: opts.level ?? "info",
      base: undefined,
      redact: { paths: ["token", "*.token", "headers.authorization", "*.headers.authorization"], censor: MASK },
      hooks: {
        streamWrite: scrub,
        logMethod(args, method, level) {
          if (level >= WARN_LEVEL) {
            const msg = typeof args[0] === "string" ? args[0] : typeof args[1] === "string" ? args[1] : "";
            if (!guard.admit(level, msg)) return;
          }
          method.apply(this, args);
        },
      },
    },
    destination,
  );
  secretLists.set(root, list);
  return root;
}

/** Repeated warnings and errors: the first, then a count every this long (flood-guard.ts). */
export const FLOOD_WINDOW_MS = 5000;
const WARN_LEVEL = 40;

/** A logger that drops everything; for unit tests of components that log. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
