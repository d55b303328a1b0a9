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
import { DEFAULT_PROFILE } from "../../config/agent-profiles";

/** The user whose conversation is every user's (the gateway's one Coze conversation). */
const EVERYONE = "*";
const MAX_USERS = 64;

const idKey = (profile: string, user: string): string => `${profile}\u0000${user}`;

export class DeviceAnalytics {
  /** The server's conversation id each user is in with each agent profile, as its backend last named it. */
  private readonly ids = new Map<string, string>();
  /** The agent profile in use (the turns are its). */
  private agent: () => string = () => DEFAULT_PROFILE;

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

  /** `profile`'s backend's conversation book, read as it is used: the ids of the turns to record. */
  tap(profile: string, book: ConversationBook): ConversationBook {
    const seen = (user: string, id: string | undefined): void => {
      const key = idKey(profile, user);
      this.ids.delete(key);
      if (id === undefined) return;
      this.ids.set(key, id);
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
        this.forgetIds(profile, user);
      },
    };
  }

  /** Records the conversation's turns as they end, as `agent`'s (the profile in use), and ends conversations the user starts anew. */
  follow(conversation: Conversation, agent: () => string): void {
    this.agent = agent;
    conversation.on("turn", (t: FinishedTurn) => this.record(t));
    conversation.on("new-conversation", (user: string | undefined) => this.endConversation(agent(), user));
  }

  /** `agent`'s conversation (`user`'s only, or everyone's) is over: the next turn starts another. */
  endConversation(agent: string, user?: string): void {
    this.db?.endConversation(agent, user);
    this.forgetIds(agent, user);
  }

  stats(q: StatsQuery): { ok: true; answer: StatsAnswer } | { ok: false; reason: string } {
    if (!this.db) return { ok: false, reason: this.missing ?? "no analytics" };
    return { ok: true, answer: this.db.stats(q) };
  }

  async close(): Promise<void> {
    await this.prom?.settled();
    this.db?.close();
  }

  private forgetIds(profile: string, user: string | undefined): void {
    if (user !== undefined) this.ids.delete(idKey(profile, user));
    else for (const key of [...this.ids.keys()]) if (key.startsWith(idKey(profile, ""))) this.ids.delete(key);
  }

  private record(t: FinishedTurn): void {
    // A turn that never reached the agent nor played anything (an empty press) is no conversation's.
    if (!t.userTurn && !t.replied && !t.error) return;
    const agent = this.agent();
    const r: TurnRecord = {
      agent,
      user: t.userId,
      conversationId: this.ids.get(idKey(agent, t.userId)) ?? this.ids.get(idKey(agent, EVERYONE)) ?? null,
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
