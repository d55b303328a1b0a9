/**
 * Conversation analytics, assembled (issue 17): the conversation's finished turns go to the
 * SQLite store (`talkbox stats`) and the Prometheus file. The server's conversation id of a
 * turn is read off the backend's conversation books as it uses them (a tap), so no backend
 * knows of analytics. better-sqlite3 is optional: without it the Prometheus file still counts,
 * and `talkbox stats` says how to get it.
 */
import path from "node:path";
import type { ConversationBook } from "../../core/conversations";
import type { StatsAnswer, StatsQuery, TurnRecord } from "../../core/analytics";
import type { Config } from "../../config/schema";
import type { Conversation, FinishedTurn } from "../../device/conversation";
import { ANALYTICS_FILE, AnalyticsDb, loadSqlite } from "../../state/analytics-db";
import { PrometheusFile } from "../../state/prometheus-file";
import type { Logger } from "../../log/logger";

/** The agent profile's name; the single `agent:` section is "default". */
const AGENT = "default";
/** The user whose conversation is every user's (the gateway's one Coze conversation). */
const EVERYONE = "*";
const MAX_USERS = 64;

export class DeviceAnalytics {
  /** The server's conversation id each user is in, as the backend last named it. */
  private readonly ids = new Map<string, string>();

  private constructor(
    private readonly db: AnalyticsDb | null,
    /** Why there is no store (analytics off, or better-sqlite3 missing). */
    private readonly missing: string | null,
    private readonly prom: PrometheusFile | null,
  ) {}

  static open(config: Config, log: Logger): DeviceAnalytics {
    const a = config.analytics;
    const alog = log.child({ component: "analytics" });
    if (!a.enabled) return new DeviceAnalytics(null, "conversation analytics are off (analytics.enabled: false)", null);
    const prom = a.prometheus_file ? new PrometheusFile(a.prometheus_file, alog) : null;
    prom?.write();
    const sqlite = loadSqlite();
    if (!sqlite.ok) {
      const why = `the optional native package better-sqlite3 does not load (${sqlite.reason}): install the build tools (sudo apt-get install g++ make python3) and run bash scripts/deps.sh, or re-run the installer`;
      alog.warn(`no conversation analytics on this device: ${why}`);
      return new DeviceAnalytics(null, why, prom);
    }
    try {
      const db = AnalyticsDb.openIn(config.state.dir, { keepDays: a.keep_days, maxTurns: a.max_turns }, alog, sqlite.Database);
      return new DeviceAnalytics(db, null, prom);
    } catch (err) {
      const why = `${path.join(config.state.dir, ANALYTICS_FILE)} cannot be opened (${(err as Error).message}): check that talkbox may write to state.dir`;
      alog.warn(`no conversation analytics: ${why}`);
      return new DeviceAnalytics(null, why, prom);
    }
  }

  /** A backend's conversation book, read as it is used: the ids of the turns to record. */
  tap(book: ConversationBook): ConversationBook {
    const seen = (user: string, id: string | undefined): void => {
      this.ids.delete(user);
      if (id === undefined) return;
      this.ids.set(user, id);
      if (this.ids.size > MAX_USERS) this.ids.delete(this.ids.keys().next().value!);
    };
    return {
      get: (user) => {
        const id = book.get(user);
        seen(user, id);
        return id;
      },
      set: (user, id) => {
        book.set(user, id);
        seen(user, id);
      },
      forget: (user) => {
        book.forget(user);
        if (user === undefined) this.ids.clear();
        else this.ids.delete(user);
      },
    };
  }

  /** Records the conversation's turns as they end, and ends conversations the user starts anew. */
  follow(conversation: Conversation): void {
    conversation.on("turn", (t: FinishedTurn) => this.record(t));
    conversation.on("new-conversation", (user: string | undefined) => this.db?.endConversation(AGENT, user));
  }

  stats(q: StatsQuery): { ok: true; answer: StatsAnswer } | { ok: false; reason: string } {
    if (!this.db) return { ok: false, reason: this.missing ?? "no analytics" };
    return { ok: true, answer: this.db.stats(q) };
  }

  async close(): Promise<void> {
    await this.prom?.settled();
    this.db?.close();
  }

  private record(t: FinishedTurn): void {
    // A turn that never reached the agent nor played anything (an empty press) is no conversation's.
    if (!t.userTurn && !t.replied && !t.error) return;
    const r: TurnRecord = {
      agent: AGENT,
      user: t.userId,
      conversationId: this.ids.get(t.userId) ?? this.ids.get(EVERYONE) ?? null,
      startedAt: t.startedAt,
      endedAt: t.endedAt,
      userTurn: t.userTurn,
      replied: t.replied,
      interrupted: t.interrupted,
      error: t.error,
      latencyMs: t.latencyMs,
    };
    const started = this.db ? this.db.record(r) : false;
    this.prom?.count(r, started);
  }
}
