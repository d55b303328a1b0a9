/**
 * The device's conversation counters and reply-latency histogram as a Prometheus text-format
 * file (analytics.prometheus_file), for node_exporter's textfile collector: a fleet is watched
 * with Prometheus, no server of talkbox's own. Counters count from the daemon's start, as a
 * process's counters do (Prometheus' rate() and increase() take the reset at a restart).
 *
 * The collector may read at any moment: the file is written whole to `<file>.tmp` (a name it
 * does not read) and renamed over the old one. Writes are coalesced: one in flight, one more
 * after it when something changed meanwhile.
 */
import fs from "node:fs";
import type { TurnRecord } from "../core/analytics";
import type { Logger } from "../log/logger";

/** Seconds: a good answer starts within 1 s of the release; a bad one takes several. */
export const LATENCY_BUCKETS_S = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10] as const;

interface Counters {
  conversations: number;
  turns: number;
  replies: number;
  interruptions: number;
  errors: number;
  /** Per bucket of LATENCY_BUCKETS_S (not cumulative), then +Inf. */
  buckets: number[];
  latencySum: number;
  latencyCount: number;
}

/** Agents tracked; a profile name comes from the config, so this only guards against a bug. */
const MAX_AGENTS = 64;

export class PrometheusFile {
  private readonly agents = new Map<string, Counters>();
  private writing: Promise<void> | null = null;
  private dirty = false;
  private failing = false;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {
    fs.rmSync(`${file}.tmp`, { force: true });
  }

  /** A finished turn; `newConversation`: it started a conversation. Schedules a write. */
  count(t: TurnRecord, newConversation: boolean): void {
    let c = this.agents.get(t.agent);
    if (!c) {
      if (this.agents.size >= MAX_AGENTS) return;
      c = { conversations: 0, turns: 0, replies: 0, interruptions: 0, errors: 0, buckets: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), latencySum: 0, latencyCount: 0 };
      this.agents.set(t.agent, c);
    }
    if (newConversation) c.conversations++;
    if (t.userTurn) c.turns++;
    if (t.replied) c.replies++;
    if (t.interrupted) c.interruptions++;
    if (t.error) c.errors++;
    if (t.latencyMs !== null) {
      const s = t.latencyMs / 1000;
      const i = LATENCY_BUCKETS_S.findIndex((le) => s <= le);
      c.buckets[i === -1 ? LATENCY_BUCKETS_S.length : i]!++;
      c.latencySum += s;
      c.latencyCount++;
    }
    this.write();
  }

  /** The file's text now. */
  text(): string {
    const lines: string[] = [];
    const family = (name: string, type: "counter" | "histogram", help: string, rows: (a: string, c: Counters) => string[]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [a, c] of this.agents) lines.push(...rows(label(a), c));
    };
    const counter = (name: string, help: string, value: (c: Counters) => number) =>
      family(name, "counter", help, (a, c) => [`${name}{agent="${a}"} ${value(c)}`]);
    counter("talkbox_conversations_total", "Conversations started with the agent since talkbox started.", (c) => c.conversations);
    counter("talkbox_user_turns_total", "User turns that reached the agent.", (c) => c.turns);
    counter("talkbox_replies_total", "Agent replies heard (their first sample played).", (c) => c.replies);
    counter("talkbox_interruptions_total", "Replies the user cut short (barge-in).", (c) => c.interruptions);
    counter("talkbox_turn_errors_total", "Turns that failed: an agent error, no answer in time, or the link lost.", (c) => c.errors);
    family("talkbox_reply_latency_seconds", "histogram", "End of the user's speech to the first reply sample played.", (a, c) => {
      const out: string[] = [];
      let cumulative = 0;
      LATENCY_BUCKETS_S.forEach((le, i) => {
        cumulative += c.buckets[i]!;
        out.push(`talkbox_reply_latency_seconds_bucket{agent="${a}",le="${le}"} ${cumulative}`);
      });
      out.push(`talkbox_reply_latency_seconds_bucket{agent="${a}",le="+Inf"} ${c.latencyCount}`);
      out.push(`talkbox_reply_latency_seconds_sum{agent="${a}"} ${Number(c.latencySum.toFixed(6))}`);
      out.push(`talkbox_reply_latency_seconds_count{agent="${a}"} ${c.latencyCount}`);
      return out;
    });
    return `${lines.join("\n")}\n`;
  }

  /** Resolves once what was counted so far is in the file. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Writes the file now (at start: the collector sees talkbox before its first turn). */
  write(): void {
    if (this.writing) {
      this.dirty = true;
      return;
    }
    this.writing = this.writeOnce().finally(() => {
      this.writing = null;
      if (this.dirty) {
        this.dirty = false;
        this.write();
      }
    });
  }

  private async writeOnce(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    try {
      await fs.promises.writeFile(tmp, this.text(), { mode: 0o644 });
      await fs.promises.rename(tmp, this.file);
      if (this.failing) this.log.info(`analytics: writing ${this.file} works again`);
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.log.warn(`analytics: cannot write ${this.file} (${(err as Error).message}); check that its folder exists and talkbox may write there (analytics.prometheus_file)`);
      }
      this.failing = true;
    }
  }
}

/** A label value as the text format escapes it: backslash, double quote, newline. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
