/**
 * What the conversation analytics cost per turn (issue 17): the main thread's time to record a
 * finished turn (SQLite insert in WAL with synchronous=FULL, its fsync included) and count it for
 * the Prometheus file, the CPU, and the bytes written — to the disk (/proc/self/io write_bytes:
 * what wears an SD card) and through write() calls. On a real file system in `BENCH_DIR` (default
 * the checkout's folder; /tmp may be memory). `npm run bench:analytics`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TurnRecord } from "../../src/core/analytics";
import { AnalyticsDb, loadSqlite } from "../../src/state/analytics-db";
import { PrometheusFile } from "../../src/state/prometheus-file";
import { silentLogger } from "../../src/log/logger";
import { table, type Row } from "./stats";

const TURNS = Number(process.env["BENCH_TURNS"] ?? 1000);
const RUNS = 3;

function io(): { disk: number; calls: number } {
  const f = Object.fromEntries(fs.readFileSync("/proc/self/io", "utf8").trim().split("\n").map((l) => l.split(": ")));
  return { disk: Number(f["write_bytes"]), calls: Number(f["wchar"]) };
}

const turn = (i: number): TurnRecord => ({
  agent: "default", user: i % 3 === 0 ? "passenger" : "talkbox", conversationId: `c${Math.floor(i / 8)}`,
  startedAt: Date.now(), endedAt: Date.now() + 3000, userTurn: true, replied: true, interrupted: i % 7 === 0, error: false, latencyMs: 300 + (i % 50),
});

async function main(): Promise<void> {
  const sqlite = loadSqlite();
  if (!sqlite.ok) throw new Error(`better-sqlite3 does not load: ${sqlite.reason}`);
  const base = process.env["BENCH_DIR"] ?? path.resolve(__dirname, "../../..");
  const rows: Record<string, Row> = {
    main: { metric: "main thread per turn (record + count)", unit: "ms", values: [] },
    cpu: { metric: "CPU per turn", unit: "ms", values: [] },
    disk: { metric: "written to the disk per turn", unit: "KiB", values: [] },
    calls: { metric: "written through write() per turn", unit: "KiB", values: [] },
    file: { metric: `analytics.db + WAL after ${TURNS} turns`, unit: "KiB", values: [] },
    stats: { metric: `talkbox stats over ${TURNS} turns`, unit: "ms", values: [] },
  };
  for (let run = 0; run < RUNS; run++) {
    const dir = fs.mkdtempSync(path.join(base, ".bench-analytics-"));
    try {
      const db = AnalyticsDb.openIn(dir, { keepDays: 90, maxTurns: 100_000 }, silentLogger(), sqlite.Database);
      const prom = new PrometheusFile(path.join(dir, "talkbox.prom"), silentLogger());
      for (let i = 0; i < 20; i++) db.record(turn(i));
      const before = io();
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < TURNS; i++) {
        const t0 = process.hrtime.bigint();
        prom.count(turn(i), db.record(turn(i)));
        rows.main!.values.push(Number(process.hrtime.bigint() - t0) / 1e6);
        // As on the device: turns are seconds apart, each file write done before the next.
        await prom.settled();
      }
      const cpu = process.cpuUsage(cpu0);
      const after = io();
      rows.cpu!.values.push((cpu.user + cpu.system) / 1000 / TURNS);
      rows.disk!.values.push((after.disk - before.disk) / 1024 / TURNS);
      rows.calls!.values.push((after.calls - before.calls) / 1024 / TURNS);
      const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
      rows.file!.values.push((size(path.join(dir, "analytics.db")) + size(path.join(dir, "analytics.db-wal"))) / 1024);
      const s0 = process.hrtime.bigint();
      db.stats();
      rows.stats!.values.push(Number(process.hrtime.bigint() - s0) / 1e6);
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\nConversation analytics: ${RUNS} runs × ${TURNS} turns on ${base} (${os.cpus()[0]?.model ?? "?"})\n`);
  console.log(table(Object.values(rows)));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
