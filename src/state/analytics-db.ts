/**
 * Conversation analytics on the device (issue 17): every finished turn in SQLite
 * (better-sqlite3), grouped into conversations, for `talkbox stats`.
 *
 * Why these settings:
 * - WAL with synchronous=FULL: a turn is one small transaction whose WAL frames are fsynced at
 *   commit, so a power cut loses at most the turn in flight, and a reader (`talkbox stats`)
 *   never blocks the writer. One fsync per turn is nothing next to a turn's seconds.
 * - journal_size_limit and wal_autocheckpoint keep the WAL file small; auto_vacuum=INCREMENTAL
 *   gives pruned pages back to the file system, so the file's size follows the bounds.
 * - Bounded: conversations older than keep_days, and the oldest turns beyond max_turns, are
 *   pruned at start and every PRUNE_EVERY turns (an SD card is neither filled nor worn out).
 * - Writes happen when a turn is over (the device is idle again), never in the audio's path.
 *
 * A conversation is one agent × user × the server's conversation id: a turn whose id differs
 * from the open conversation's starts another; a turn that brings back an earlier id (after a
 * restart, or switching back to an agent) continues that one. Without a server id (the device's
 * own conversation), a conversation ends at a new-conversation request or a restart.
 */
import fs from "node:fs";
import path from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { percentile, type ConversationRow, type StatsAnswer, type StatsQuery, type StatsRow, type TurnRecord } from "../core/analytics";
import type { Logger } from "../log/logger";

export const ANALYTICS_FILE = "analytics.db";
const SCHEMA_VERSION = 1;
const PRUNE_EVERY = 256;
/** Open conversations tracked at once (agent × user); a control client could invent users. */
const MAX_OPEN = 64;
const MAX_TEXT = 512;

export interface AnalyticsBounds {
  keepDays: number;
  maxTurns: number;
}

interface Open {
  row: number;
  conversationId: string | null;
}

/** better-sqlite3, or why it does not load (an optional native package: scripts/deps.sh builds it). */
export function loadSqlite(): { ok: true; Database: typeof BetterSqlite3 } | { ok: false; reason: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require("better-sqlite3") as typeof BetterSqlite3;
    // The package loads its native part only at the first database: open one to know.
    new Database(":memory:").close();
    return { ok: true, Database };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split("\n")[0]! };
  }
}

export class AnalyticsDb {
  private readonly open = new Map<string, Open>();
  private sincePrune = 0;
  private failing = false;
  private readonly insertTurn: BetterSqlite3.Statement;
  private readonly record_: (t: TurnRecord) => boolean;

  private constructor(
    private readonly db: BetterSqlite3.Database,
    readonly file: string,
    private readonly bounds: AnalyticsBounds,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.insertTurn = db.prepare(
      "INSERT INTO turns (conversation, started_at, ended_at, user_turn, replied, interrupted, error, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const newConversation = db.prepare("INSERT INTO conversations (agent, user, conversation_id, started_at, ended_at) VALUES (?, ?, ?, ?, ?)");
    const latest = db.prepare("SELECT id FROM conversations WHERE agent = ? AND user = ? AND conversation_id = ? ORDER BY id DESC LIMIT 1");
    const named = db.prepare("UPDATE conversations SET conversation_id = ? WHERE id = ?");
    const extend = db.prepare("UPDATE conversations SET ended_at = max(ended_at, ?), started_at = min(started_at, ?) WHERE id = ?");
    this.record_ = db.transaction((t: TurnRecord) => {
      const key = `${t.agent}\0${t.user}`;
      let open = this.open.get(key);
      if (open && t.conversationId !== null && open.conversationId !== null && open.conversationId !== t.conversationId) open = undefined;
      if (!open && t.conversationId !== null) {
        const found = latest.get(t.agent, t.user, t.conversationId) as { id: number } | undefined;
        if (found) open = { row: found.id, conversationId: t.conversationId };
      }
      const started = !open;
      if (!open) {
        const r = newConversation.run(t.agent, t.user, t.conversationId, t.startedAt, t.endedAt);
        open = { row: Number(r.lastInsertRowid), conversationId: t.conversationId };
      } else if (open.conversationId === null && t.conversationId !== null) {
        named.run(t.conversationId, open.row);
        open = { row: open.row, conversationId: t.conversationId };
      }
      this.insertTurn.run(open.row, t.startedAt, t.endedAt, +t.userTurn, +t.replied, +t.interrupted, +t.error, t.latencyMs);
      extend.run(t.endedAt, t.startedAt, open.row);
      this.open.delete(key);
      this.open.set(key, open);
      if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
      return started;
    });
  }

  /**
   * Opens (or creates) `<dir>/analytics.db`. A file that is not a database or fails its check
   * is reported, kept as analytics.db.bad, and replaced: analytics never stop the device.
   */
  static openIn(dir: string, bounds: AnalyticsBounds, log: Logger, Database: typeof BetterSqlite3, now: () => number = Date.now): AnalyticsDb {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, ANALYTICS_FILE);
    let db: BetterSqlite3.Database;
    try {
      db = openChecked(file, Database);
    } catch (err) {
      const bad = `${file}.bad`;
      log.warn(`ignoring ${file} (kept as ${bad}): ${(err as Error).message}; conversation analytics start afresh`);
      for (const suffix of ["", "-wal", "-shm"]) {
        try {
          fs.renameSync(file + suffix, bad + suffix);
        } catch {
          /* not there */
        }
      }
      db = openChecked(file, Database);
    }
    const a = new AnalyticsDb(db, file, bounds, log, now);
    a.prune();
    return a;
  }

  /**
   * Saves a finished turn; true when it started a conversation. A failing disk is logged (once
   * until it works again), never thrown: the turn is then counted as no new conversation.
   */
  record(t: TurnRecord): boolean {
    const clean: TurnRecord = { ...t, agent: t.agent.slice(0, MAX_TEXT), user: t.user.slice(0, MAX_TEXT), conversationId: t.conversationId?.slice(0, MAX_TEXT) ?? null };
    let started: boolean;
    try {
      started = this.record_(clean);
      if (this.failing) this.log.info("analytics: saving turns works again");
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn(`analytics: could not save a turn (${(err as Error).message}); the device goes on without it. Check the free space of ${path.dirname(this.file)}`);
      this.failing = true;
      return false;
    }
    if (++this.sincePrune >= PRUNE_EVERY) this.prune();
    return started;
  }

  /** The user's open conversation ends (every user's of `agent` when undefined): their next turn starts another. */
  endConversation(agent: string, user?: string): void {
    for (const key of [...this.open.keys()]) {
      const [a, u] = key.split("\0");
      if (a === agent && (user === undefined || u === user)) this.open.delete(key);
    }
  }

  stats(q: StatsQuery = {}): StatsAnswer {
    const since = q.since ?? null;
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (since !== null) {
      where.push("c.ended_at >= ?");
      args.push(since);
    }
    if (q.agent !== undefined) {
      where.push("c.agent = ?");
      args.push(q.agent);
    }
    const w = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const perConversation = `SELECT c.id, c.agent, c.user, c.conversation_id, c.started_at, c.ended_at,
        coalesce(sum(t.user_turn), 0) AS user_turns, coalesce(sum(t.replied), 0) AS replies,
        coalesce(sum(t.interrupted), 0) AS interruptions, coalesce(sum(t.error), 0) AS errors
      FROM conversations c LEFT JOIN turns t ON t.conversation = c.id ${w} GROUP BY c.id`;
    const rows = this.db.prepare(`${perConversation} ORDER BY c.ended_at DESC, c.id DESC`).all(...args) as DbConversation[];
    const latencies = this.db
      .prepare(`SELECT t.conversation, c.agent, t.latency_ms FROM turns t JOIN conversations c ON c.id = t.conversation ${w} ${where.length > 0 ? "AND" : "WHERE"} t.latency_ms IS NOT NULL ORDER BY t.latency_ms`)
      .all(...args) as { conversation: number; agent: string; latency_ms: number }[];
    const byConversation = group(latencies, (l) => String(l.conversation));
    const byAgent = group(latencies, (l) => l.agent);
    const totals = new Map<string, StatsRow>();
    const all: StatsRow = emptyRow("(all)");
    for (const r of rows) {
      const t = totals.get(r.agent) ?? emptyRow(r.agent);
      for (const x of [t, all]) {
        x.conversations++;
        x.userTurns += r.user_turns;
        x.replies += r.replies;
        x.interruptions += r.interruptions;
        x.errors += r.errors;
        x.durationS += (r.ended_at - r.started_at) / 1000;
      }
      totals.set(r.agent, t);
    }
    const withLatency = (x: StatsRow, l: number[]): StatsRow => ({ ...x, durationS: round(x.durationS), latencyP50Ms: percentile(l, 50), latencyP95Ms: percentile(l, 95) });
    const agents = [...totals.values()].sort((a, b) => a.agent.localeCompare(b.agent)).map((x) => withLatency(x, byAgent.get(x.agent) ?? []));
    return {
      since,
      totals: agents.length > 1 ? [...agents, withLatency(all, latencies.map((l) => l.latency_ms))] : agents,
      conversations: rows.slice(0, q.limit ?? 20).map((r): ConversationRow => {
        const l = byConversation.get(String(r.id)) ?? [];
        return {
          agent: r.agent,
          user: r.user,
          conversationId: r.conversation_id,
          startedAt: r.started_at,
          endedAt: r.ended_at,
          durationS: round((r.ended_at - r.started_at) / 1000),
          userTurns: r.user_turns,
          replies: r.replies,
          interruptions: r.interruptions,
          errors: r.errors,
          latencyP50Ms: percentile(l, 50),
          latencyP95Ms: percentile(l, 95),
        };
      }),
    };
  }

  /** Drops what is beyond the bounds and gives the pages back to the file system. */
  prune(): void {
    this.sincePrune = 0;
    try {
      const cutoff = this.now() - this.bounds.keepDays * 86_400_000;
      const tx = this.db.transaction(() => {
        this.db.prepare("DELETE FROM turns WHERE conversation IN (SELECT id FROM conversations WHERE ended_at < ?)").run(cutoff);
        this.db.prepare("DELETE FROM conversations WHERE ended_at < ?").run(cutoff);
        const over = this.db.prepare("SELECT id FROM turns ORDER BY id DESC LIMIT 1 OFFSET ?").get(this.bounds.maxTurns) as { id: number } | undefined;
        if (over) this.db.prepare("DELETE FROM turns WHERE id <= ?").run(over.id);
        this.db.prepare("DELETE FROM conversations WHERE NOT EXISTS (SELECT 1 FROM turns WHERE turns.conversation = conversations.id)").run();
      });
      tx();
      // An open conversation pruned away (by age or by the turn bound) is not continued: its next turn starts another.
      const exists = this.db.prepare("SELECT 1 FROM conversations WHERE id = ?");
      for (const [k, o] of this.open) if (exists.get(o.row) === undefined) this.open.delete(k);
      this.db.pragma("incremental_vacuum");
    } catch (err) {
      this.log.warn(`analytics: pruning old turns failed (${(err as Error).message}); will try again later`);
    }
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      /* closing twice */
    }
  }
}

interface DbConversation {
  id: number;
  agent: string;
  user: string;
  conversation_id: string | null;
  started_at: number;
  ended_at: number;
  user_turns: number;
  replies: number;
  interruptions: number;
  errors: number;
}

function openChecked(file: string, Database: typeof BetterSqlite3): BetterSqlite3.Database {
  const db = new Database(file);
  try {
    // Before any table exists, or it takes a VACUUM: a new file gets incremental vacuum.
    db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("journal_size_limit = 4194304");
    db.pragma("wal_autocheckpoint = 256");
    const check = db.pragma("quick_check(1)", { simple: true });
    if (check !== "ok") throw new Error(`its check says: ${String(check)}`);
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`it was written by a newer talkbox (schema ${version})`);
    db.exec(`
      CREATE TABLE IF NOT EXISTS conversations (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        user TEXT NOT NULL,
        conversation_id TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS turns (
        id INTEGER PRIMARY KEY,
        conversation INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL,
        user_turn INTEGER NOT NULL,
        replied INTEGER NOT NULL,
        interrupted INTEGER NOT NULL,
        error INTEGER NOT NULL,
        latency_ms REAL
      );
      CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation);
      CREATE INDEX IF NOT EXISTS conversations_by_end ON conversations (ended_at);
      CREATE INDEX IF NOT EXISTS conversations_by_key ON conversations (agent, user, conversation_id);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The latencies (already sorted) of each group. */
function group<T extends { latency_ms: number }>(items: readonly T[], key: (t: T) => string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const it of items) {
    const list = m.get(key(it)) ?? [];
    list.push(it.latency_ms);
    m.set(key(it), list);
  }
  return m;
}

function emptyRow(agent: string): StatsRow {
  return { agent, conversations: 0, userTurns: 0, replies: 0, interruptions: 0, errors: 0, durationS: 0, latencyP50Ms: null, latencyP95Ms: null };
}

function round(s: number): number {
  return Math.round(s * 10) / 10;
}
