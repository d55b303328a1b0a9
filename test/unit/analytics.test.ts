/**
 * Conversation analytics (issue 17): the SQLite store on real files, grouped into
 * conversations; its bounds; a damaged file; and the Prometheus file read back by a
 * Prometheus text-format parser.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TurnRecord } from "../../src/core/analytics";
import { AnalyticsDb, loadSqlite } from "../../src/state/analytics-db";
import { PrometheusFile } from "../../src/state/prometheus-file";
import { LogCapture } from "./realtime-script";
import { parsePrometheus, sample } from "../support/prometheus";
import { parseSince, statsTable } from "../../src/cli/stats";

const sqlite = loadSqlite();
const Database = sqlite.ok ? sqlite.Database : (null as never);
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-analytics-"));
const T0 = Date.parse("2026-12-01T10:00:00Z");

function turn(over: Partial<TurnRecord> & { at: number }): TurnRecord {
  const { at, ...rest } = over;
  return { agent: "default", user: "talkbox", conversationId: null, startedAt: at, endedAt: at + 3000, userTurn: true, replied: true, interrupted: false, error: false, latencyMs: 500, ...rest };
}

describe("analytics store (SQLite)", { skip: !sqlite.ok && `better-sqlite3 does not load: ${sqlite.ok ? "" : sqlite.reason}` }, () => {
  test("turns group into conversations by agent, user and server id; a returning id continues its conversation", () => {
    const dir = tmp();
    const db = AnalyticsDb.openIn(dir, { keepDays: 90, maxTurns: 1000 }, new LogCapture().logger, Database, () => T0 + 100_000);
    assert.equal(db.record(turn({ at: T0, conversationId: "c1", latencyMs: 400 })), true);
    assert.equal(db.record(turn({ at: T0 + 10_000, conversationId: "c1", latencyMs: 800, interrupted: true })), false);
    assert.equal(db.record(turn({ at: T0 + 20_000, user: "passenger", conversationId: "p1", latencyMs: 600 })), true);
    // The device user's next turn is in another conversation; then the first id comes back.
    assert.equal(db.record(turn({ at: T0 + 30_000, conversationId: "c2", error: true, replied: false, latencyMs: null })), true);
    assert.equal(db.record(turn({ at: T0 + 40_000, conversationId: "c1", latencyMs: 200 })), false);
    // No server id: the device's own conversation, until a new one is asked for.
    assert.equal(db.record(turn({ at: T0 + 50_000, agent: "tutor", latencyMs: 1000 })), true);
    assert.equal(db.record(turn({ at: T0 + 55_000, agent: "tutor", latencyMs: 1200 })), false);
    db.endConversation("tutor", "talkbox");
    assert.equal(db.record(turn({ at: T0 + 60_000, agent: "tutor", userTurn: false, replied: false, latencyMs: null })), true);

    const s = db.stats();
    const byKey = new Map(s.conversations.map((c) => [`${c.agent}/${c.user}/${c.conversationId}/${c.startedAt}`, c]));
    const c1 = byKey.get(`default/talkbox/c1/${T0}`)!;
    assert.deepEqual(
      [c1.userTurns, c1.replies, c1.interruptions, c1.errors, c1.durationS, c1.latencyP50Ms, c1.latencyP95Ms],
      [3, 3, 1, 0, 43, 400, 800],
    );
    assert.equal(s.conversations.length, 5);
    const totals = new Map(s.totals.map((r) => [r.agent, r]));
    assert.deepEqual(
      { ...totals.get("default")! },
      { agent: "default", conversations: 3, userTurns: 5, replies: 4, interruptions: 1, errors: 1, durationS: 43 + 3 + 3, latencyP50Ms: 400, latencyP95Ms: 800 },
    );
    assert.deepEqual([totals.get("tutor")!.conversations, totals.get("tutor")!.userTurns, totals.get("(all)")!.conversations], [2, 2, 5]);
    // Since: conversations that went on at or after it; one agent's.
    assert.deepEqual(db.stats({ since: T0 + 42_000 }).totals.map((r) => [r.agent, r.conversations]), [["default", 1], ["tutor", 2], ["(all)", 3]]);
    assert.deepEqual(db.stats({ agent: "tutor" }).totals.map((r) => r.agent), ["tutor"]);
    db.close();

    // Reopened (a restart): the same conversation id continues its row; one without does not.
    const again = AnalyticsDb.openIn(dir, { keepDays: 90, maxTurns: 1000 }, new LogCapture().logger, Database, () => T0 + 100_000);
    assert.equal(again.record(turn({ at: T0 + 70_000, conversationId: "c1" })), false);
    assert.equal(again.record(turn({ at: T0 + 75_000, agent: "tutor" })), true);
    assert.equal(again.stats().conversations.find((c) => c.conversationId === "c1")!.userTurns, 4);
    again.close();
  });

  test("bounded: conversations older than keep_days and turns beyond max_turns are pruned, and the file gives the pages back", () => {
    const dir = tmp();
    let now = T0;
    const db = AnalyticsDb.openIn(dir, { keepDays: 1, maxTurns: 100 }, new LogCapture().logger, Database, () => now);
    for (let i = 0; i < 600; i++) db.record(turn({ at: T0 + i * 1000, conversationId: `c${Math.floor(i / 10)}` }));
    // Pruned every 256 turns: never more than max_turns + 256 kept.
    const kept = db.stats({ limit: 1000 }).totals[0]!.userTurns;
    assert.ok(kept <= 100 + 256 && kept >= 100, `kept ${kept} turns`);
    db.prune();
    assert.equal(db.stats({ limit: 1000 }).totals[0]!.userTurns, 100);
    const oldest = Math.min(...db.stats({ limit: 1000 }).conversations.map((c) => c.startedAt));
    assert.ok(oldest >= T0 + 500_000, "the oldest went first");
    now = T0 + 2 * 86_400_000;
    db.prune();
    assert.deepEqual(db.stats().totals, []);
    // The open conversation was pruned with the rest: its id's next turn starts a conversation, not an orphan turn.
    assert.equal(db.record(turn({ at: now, conversationId: "c59" })), true);
    assert.equal(db.stats().totals[0]!.userTurns, 1);
    db.close();
  });

  test("a file that is not a database is reported, kept as analytics.db.bad, and replaced", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "analytics.db"), "not a database, and long enough to be read as one".repeat(40));
    const logs = new LogCapture();
    const db = AnalyticsDb.openIn(dir, { keepDays: 90, maxTurns: 1000 }, logs.logger, Database);
    assert.match(logs.warnings().join("\n"), /ignoring .*analytics\.db \(kept as .*analytics\.db\.bad\): .*analytics start afresh/);
    assert.ok(fs.existsSync(path.join(dir, "analytics.db.bad")));
    assert.equal(db.record(turn({ at: T0 })), true);
    db.close();
  });
});

describe("Prometheus text file", () => {
  test("counters and the latency histogram, per agent, parse with a Prometheus text-format parser", async () => {
    const file = path.join(tmp(), "talkbox.prom");
    const prom = new PrometheusFile(file, new LogCapture().logger);
    const latencies = [120, 480, 900, 1800, 12_000];
    latencies.forEach((ms, i) => prom.count(turn({ at: T0 + i, latencyMs: ms, interrupted: i === 1 }), i === 0));
    prom.count(turn({ at: T0 + 9, agent: 'tu"tor\\', userTurn: true, replied: false, error: true, latencyMs: null }), true);
    await prom.settled();
    const samples = parsePrometheus(fs.readFileSync(file, "utf8"));
    const tutor = 'tu"tor\\';
    assert.deepEqual(
      ["talkbox_conversations", "talkbox_user_turns", "talkbox_replies", "talkbox_interruptions", "talkbox_turn_errors"].map((n) => [
        samples.find((x) => x.family === n)!.type,
        sample(samples, `${n}_total`, { agent: "default" }),
        sample(samples, `${n}_total`, { agent: tutor }),
      ]),
      [
        ["counter", 1, 1],
        ["counter", 5, 1],
        ["counter", 5, 0],
        ["counter", 1, 0],
        ["counter", 0, 1],
      ],
    );
    assert.equal(samples.find((x) => x.family === "talkbox_reply_latency_seconds")!.type, "histogram");
    const bucket = (le: string) => sample(samples, "talkbox_reply_latency_seconds_bucket", { agent: "default", le });
    assert.deepEqual(
      ["0.25", "0.5", "0.75", "1", "1.5", "2", "3", "5", "10", "+Inf"].map(bucket),
      [1, 2, 2, 3, 3, 4, 4, 4, 4, 5],
    );
    assert.equal(sample(samples, "talkbox_reply_latency_seconds_count", { agent: "default" }), 5);
    assert.equal(sample(samples, "talkbox_reply_latency_seconds_sum", { agent: "default" }), latencies.reduce((a, b) => a + b, 0) / 1000);
    assert.equal(sample(samples, "talkbox_reply_latency_seconds_count", { agent: tutor }), 0);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["talkbox.prom"], "the temp file is renamed over, not left");
  });

  test("a folder that does not exist: one clear warning, the device goes on", async () => {
    const logs = new LogCapture();
    const prom = new PrometheusFile("/nonexistent-talkbox/x.prom", logs.logger);
    prom.count(turn({ at: T0 }), true);
    prom.count(turn({ at: T0 + 1 }), false);
    await prom.settled();
    const w = logs.warnings();
    assert.equal(w.length, 1);
    assert.match(w[0]!, /cannot write \/nonexistent-talkbox\/x\.prom .*check that its folder exists/);
  });
});

describe("talkbox stats (the CLI's side)", () => {
  test("--since takes an age or a date, and nothing else", () => {
    const now = Date.parse("2026-12-06T12:00:00Z");
    assert.equal(parseSince("30m", now), now - 30 * 60_000);
    assert.equal(parseSince("24h", now), now - 86_400_000);
    assert.equal(parseSince("7d", now), now - 7 * 86_400_000);
    assert.equal(parseSince("2026-12-01", now), Date.parse("2026-12-01"));
    assert.equal(parseSince("yesterday", now), null);
    assert.equal(parseSince("5x", now), null);
  });

  test("the table: a row per agent with its counts and latencies, then the conversations", () => {
    const lines = statsTable({
      since: null,
      totals: [{ agent: "default", conversations: 2, userTurns: 7, replies: 6, interruptions: 1, errors: 1, durationS: 61.5, latencyP50Ms: 412.4, latencyP95Ms: null }],
      conversations: [{ agent: "default", user: "talkbox", conversationId: null, startedAt: T0, endedAt: T0 + 61_500, durationS: 61.5, userTurns: 7, replies: 6, interruptions: 1, errors: 1, latencyP50Ms: 412.4, latencyP95Ms: 700 }],
    });
    const row = lines.find((l) => l.startsWith("default"))!.split(/\s+/);
    assert.deepEqual(row, ["default", "2", "7", "6", "1", "1", "61.5", "412", "-"]);
    assert.ok(lines.some((l) => l.startsWith("2026-12-01 10:00:00") && /\(device\)/.test(l) && /\b700$/.test(l)), lines.join("\n"));
  });
});
