/**
 * The playback thread's log: its lines go to the main thread as messages and are written
 * there, through the daemon's logger. A logger of its own (pino, its streams) cost the
 * thread 4.5 MiB of resident memory for a handful of lines in its whole life; the sinks
 * only need to say that a device failed or fell back.
 */
import type { Logger } from "../../log/logger";

/** What the sinks log with: the daemon's logger in the main thread, thread-log in the playback thread. */
export type SinkLog = Pick<Logger, "debug" | "info" | "warn" | "error">;

export type LogLevel = "debug" | "info" | "warn" | "error";
export interface LogLine {
  level: LogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

const RANK: Record<LogLevel | "trace" | "fatal" | "silent", number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** A SinkLog that hands each line at `level` or above to `post`; the rest cost nothing. */
export function threadLog(level: string, post: (line: LogLine) => void): SinkLog {
  const min = RANK[level as keyof typeof RANK] ?? RANK.info;
  const at =
    (l: LogLevel) =>
    (a: unknown, b?: unknown): void => {
      if (RANK[l] < min) return;
      if (typeof a === "string") post({ level: l, msg: a });
      else post({ level: l, msg: typeof b === "string" ? b : "", fields: plain(a) });
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } as unknown as SinkLog;
}

/** Fields that survive structured cloning: an Error becomes its message. */
function plain(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = x instanceof Error ? x.message : x;
  return out;
}
