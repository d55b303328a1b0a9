/**
 * `talkbox stats [--since AGE|DATE] [--agent NAME] [--json]`: the running daemon's conversation
 * analytics (the control socket's `Stats`): totals per agent, then the latest conversations.
 */
import type { ConversationRow, StatsAnswer, StatsRow } from "../core/analytics";
import { askDaemon } from "./ask-daemon";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes";

export interface StatsOptions {
  socket: string;
  /** "24h", "7d", "30m", or a date/time Date.parse reads; absent: everything kept. */
  since?: string;
  agent?: string;
  json?: boolean;
  limit?: number;
  now?: () => number;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`: an age back from now ("24h") or a date ("2026-12-01"); null: not one of those. */
export function parseSince(value: string, now: number): number | null {
  const age = /^(\d+)([mhd])$/.exec(value);
  if (age) return now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS];
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

export async function statsCommand(opts: StatsOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  let since: number | undefined;
  if (opts.since !== undefined) {
    const at = parseSince(opts.since, (opts.now ?? Date.now)());
    if (at === null) {
      err(`error: --since ${opts.since}: give an age (30m, 24h, 7d) or a date (2026-12-01)`);
      return EXIT_FAILURE;
    }
    since = at;
  }
  const reply = await askDaemon(
    opts.socket,
    { Command: "Stats", ...(since !== undefined ? { Since: since } : {}), ...(opts.agent !== undefined ? { Agent: opts.agent } : {}), ...(opts.limit !== undefined ? { Limit: opts.limit } : {}) },
    err,
  );
  if (reply === null) return EXIT_FAILURE;
  const answer = reply["Stats"] as StatsAnswer;
  if (opts.json) {
    out(JSON.stringify(answer, null, 2));
    return EXIT_OK;
  }
  for (const line of statsTable(answer)) out(line);
  return EXIT_OK;
}

/** The answer as text tables: totals per agent, then the conversations, the latest first. */
export function statsTable(a: StatsAnswer): string[] {
  const ms = (v: number | null) => (v === null ? "-" : `${Math.round(v)}`);
  const lines = [a.since === null ? "Conversations kept on this device:" : `Conversations since ${new Date(a.since).toISOString()}:`, ""];
  lines.push(
    ...table(
      ["agent", "conversations", "user turns", "replies", "interruptions", "errors", "duration s", "latency p50 ms", "p95 ms"],
      a.totals.map((r: StatsRow) => [r.agent, r.conversations, r.userTurns, r.replies, r.interruptions, r.errors, r.durationS, ms(r.latencyP50Ms), ms(r.latencyP95Ms)]),
    ),
  );
  if (a.totals.length === 0) lines.push("(none yet: talk to the device)");
  if (a.conversations.length > 0) {
    lines.push("", "Latest conversations:", "");
    lines.push(
      ...table(
        ["started", "agent", "user", "conversation", "duration s", "turns", "replies", "interrupted", "errors", "p50 ms", "p95 ms"],
        a.conversations.map((c: ConversationRow) => [
          new Date(c.startedAt).toISOString().replace("T", " ").slice(0, 19),
          c.agent,
          c.user,
          c.conversationId ?? "(device)",
          c.durationS,
          c.userTurns,
          c.replies,
          c.interruptions,
          c.errors,
          ms(c.latencyP50Ms),
          ms(c.latencyP95Ms),
        ]),
      ),
    );
  }
  return lines;
}

function table(head: string[], rows: (string | number)[][]): string[] {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd());
}
