/**
 * `npm run soak`: a long night for the daemon. Push-to-talk turns on the ALSA rig, the
 * emulator behind the fault proxy, and every SOAK_FAULT_EVERY-th turn (default 50) one of
 * the faults a real cloud or network produces, in turn: a drop mid-upload, a link that
 * stalls when the turn ends (TCP open, nothing moves), an error in place of the reply, the
 * whole reply at once.
 * Prints turns ok / failed / hung, and the daemon's RSS (by kind, and both V8 heaps), fds and threads at the start,
 * every SOAK_SAMPLE_EVERY turns (default 100) and at the end; exits 1 when a turn hung,
 * fds grew, RSS grew by more than SOAK_RSS_MAX_MIB (default 5) from turn 100 to turn 1000, or, in a
 * run of 4000 turns or more, RSS did not level off (its second half grew more than half its first).
 *
 * The daemon runs with the systemd unit's Environment= lines, as on the device.
 *
 *   SOAK_TURNS=N (default 1000)  SOAK_APPENDS=N (20 ms frames per press, default 15)
 */
import fs from "node:fs";
import path from "node:path";
import { startDevice, type Device } from "../support/device";
import { speechLoop } from "../support/speech";

const TURNS = envInt("SOAK_TURNS", 1000);
const FAULT_EVERY = envInt("SOAK_FAULT_EVERY", 50);
const SAMPLE_EVERY = envInt("SOAK_SAMPLE_EVERY", 100);
const APPENDS = envInt("SOAK_APPENDS", 15);
const RSS_MAX_MIB = Number(process.env.SOAK_RSS_MAX_MIB ?? 5);
/** A turn not back to idle within this is hung. */
const TURN_LIMIT_MS = 30_000;

type Fault = "drop" | "stall" | "error" | "burst";
const FAULTS: Fault[] = ["drop", "stall", "error", "burst"];
/**
 * What a turn with this fault should come to: a drop or a stall costs the link, and the turn
 * (never acknowledged by the agent) goes again on the new one; a burst plays; an error in
 * place of the reply ends the turn.
 */
const EXPECTED: Record<Fault, "ok" | "failed"> = { drop: "ok", stall: "ok", error: "failed", burst: "ok" };

interface Sample {
  turn: number;
  rssMiB: number;
  fds: number;
  threads: number;
  /** The daemon's own view (talkbox status): V8's heap in use and reserved, and memory outside it. */
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** The playback thread's own V8 heap (a second isolate), used / reserved. */
  threadHeapUsedMiB: number;
  threadHeapTotalMiB: number;
  /** Resident memory by kind (/proc/<pid>/smaps): malloc's main arena (brk), and anonymous mappings (V8 pages, other arenas, stacks). */
  brkMiB: number;
  anonMiB: number;
}

async function main(): Promise<void> {
  // SOAK_SPEAKER=aplay: replies through aplay, so the test card's playback threads live in aplay
  // rather than in the daemon, and the daemon's own memory is measured without them.
  const config: Record<string, Record<string, unknown>> = { log: { level: "info" } };
  if (process.env.SOAK_SPEAKER === "aplay") config.audio = { output: { device: "aplay:rigspk", sample_rate: 16000, channels: 1, format: "S16_LE" } };
  const dev = await startDevice({ proxy: true, rig: { micPcm: speechLoop(30) }, config, env: daemonEnv() });
  const pid = dev.daemon.child.pid!;
  const samples: Sample[] = [];
  const tally = { ok: 0, failed: 0, hung: 0, unexpected: 0 };
  const byFault = new Map<string, { n: number; asExpected: number }>();
  const started = Date.now();
  try {
    samples.push({ turn: 0, ...(await sample(dev, pid)) });
    for (let turn = 1; turn <= TURNS; turn++) {
      const fault = turn % FAULT_EVERY === 0 ? FAULTS[(turn / FAULT_EVERY - 1) % FAULTS.length]! : null;
      const outcome = await bounded(runTurn(dev, fault), TURN_LIMIT_MS);
      tally[outcome]++;
      const expected = fault ? EXPECTED[fault] : "ok";
      if (outcome !== expected) {
        tally.unexpected++;
        process.stderr.write(`soak: turn ${turn}${fault ? ` (${fault})` : ""}: ${outcome}, expected ${expected}\n`);
      }
      if (fault) {
        const f = byFault.get(fault) ?? { n: 0, asExpected: 0 };
        f.n++;
        if (outcome === expected) f.asExpected++;
        byFault.set(fault, f);
      }
      if (outcome === "hung") await recover(dev);
      if (!dev.daemon.alive) {
        const d = dev.daemon;
        throw new Error(`the daemon died at turn ${turn} (exit ${d.exitSignal ?? d.exitCode}); its last output:\n${d.rawOutput.slice(-40).join("\n")}`);
      }
      if (turn % SAMPLE_EVERY === 0 || turn === TURNS) {
        samples.push({ turn, ...(await sample(dev, pid)) });
        const s = samples.at(-1)!;
        process.stderr.write(`soak: turn ${turn}: RSS ${s.rssMiB.toFixed(1)} MiB (brk ${s.brkMiB.toFixed(1)}, anon ${s.anonMiB.toFixed(1)}, heap ${s.heapUsedMiB}/${s.heapTotalMiB}, thread heap ${s.threadHeapUsedMiB}/${s.threadHeapTotalMiB}, external ${s.externalMiB}), ${s.fds} fds, ${s.threads} threads, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      }
    }
  } finally {
    await dev.stop().catch(() => undefined);
  }
  report(samples, tally, byFault, (Date.now() - started) / 1000);
}

/** One press-talk-release; "ok" when the reply played and the device is idle again, "failed" when it came back to idle without one. */
async function runTurn(dev: Device, fault: Fault | null): Promise<"ok" | "failed"> {
  const from = dev.daemon.logs.length;
  const proxy = dev.proxy!;
  if (fault === "stall") {
    proxy.onClient = (conn, text) => {
      if (text.includes('"input_audio_buffer.complete"')) {
        proxy.onClient = null;
        conn.stall();
      }
      return "pass";
    };
  } else if (fault === "error") {
    proxy.onClient = (conn, text) => {
      if (!text.includes('"input_audio_buffer.complete"')) return "pass";
      proxy.onClient = null;
      conn.send(JSON.stringify({ id: "soak", event_type: "error", data: { code: 5000, msg: "soak: internal error in place of a reply" } }));
      return "drop";
    };
  } else if (fault === "burst") {
    const held: string[] = [];
    proxy.onServer = (_conn, text) => {
      if (text.includes('"event_type":"conversation.audio.delta"')) {
        held.push(text);
        return "drop";
      }
      if (text.includes('"event_type":"conversation.chat.completed"')) {
        proxy.onServer = null;
        return { replace: [...held, text] };
      }
      return "pass";
    };
  }
  await dev.press();
  if (fault === "drop") {
    // Mid-upload: the turn is held while the link comes back and sent whole on the new one.
    await dev.appends(Math.ceil(APPENDS / 2));
    proxy.latest.drop();
  }
  await dev.appends(APPENDS);
  const released = dev.daemon.logs.length;
  await dev.release();
  try {
    await dev.daemon.waitForLog((l) => l.msg === "state idle", TURN_LIMIT_MS, released);
    // A drop or a stall takes the link with it: the next turn waits for the new one.
    if (fault === "drop" || fault === "stall") await dev.daemon.waitForLog((l) => l.msg === "agent link ready", TURN_LIMIT_MS, from);
  } finally {
    proxy.onClient = null;
    proxy.onServer = null;
  }
  const states = dev.daemon.logs.slice(from).filter((l) => typeof l.msg === "string" && l.msg.startsWith("state "));
  const played = states.some((l) => l.msg === "state speaking");
  const errored = states.some((l) => l.msg === "state error");
  return played && !errored ? "ok" : "failed";
}

async function bounded(p: Promise<"ok" | "failed">, ms: number): Promise<"ok" | "failed" | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), ms)));
  try {
    return await Promise.race([p.catch((): "hung" => "hung"), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** After a hung turn: let go of the button and wait for the device to rest. */
async function recover(dev: Device): Promise<void> {
  dev.proxy!.onClient = null;
  dev.proxy!.onServer = null;
  await dev.release().catch(() => undefined);
  await dev.daemon.waitForLog((l) => l.msg === "state idle", TURN_LIMIT_MS, Math.max(0, dev.daemon.logs.length - 1)).catch(() => undefined);
}

async function sample(dev: Device, pid: number): Promise<Omit<Sample, "turn">> {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  const memory = ((await dev.status()).Memory ?? {}) as Record<string, number>;
  return {
    rssMiB: field("VmRSS") / 1024,
    fds: fs.readdirSync(`/proc/${pid}/fd`).length,
    threads: field("Threads"),
    heapUsedMiB: memory.HeapUsedMiB ?? NaN,
    heapTotalMiB: memory.HeapTotalMiB ?? NaN,
    externalMiB: memory.ExternalMiB ?? NaN,
    threadHeapUsedMiB: memory.PlaybackHeapUsedMiB ?? NaN,
    threadHeapTotalMiB: memory.PlaybackHeapTotalMiB ?? NaN,
    ...residentByKind(pid),
  };
}

function residentByKind(pid: number): { brkMiB: number; anonMiB: number } {
  let brk = 0;
  let anon = 0;
  let kind: "brk" | "anon" | null = null;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === "[heap]" ? "brk" : head[1] === "" ? "anon" : null;
    else if (kind && line.startsWith("Rss:")) {
      const kib = Number(line.split(/\s+/)[1]);
      if (kind === "brk") brk += kib;
      else anon += kib;
    }
  }
  return { brkMiB: brk / 1024, anonMiB: anon / 1024 };
}

/**
 * A long run (4000 turns or more) must level off: what RSS still grows in the second half is
 * at most half what it grew in the first (a leak grows the same in both), or under 1 MiB.
 */
function levelsOff(base: Sample, last: Sample, samples: Sample[]): Array<{ name: string; ok: boolean }> {
  if (last.turn < 4000) return [];
  const mid = samples.reduce((best, s) => (Math.abs(s.turn - last.turn / 2) < Math.abs(best.turn - last.turn / 2) ? s : best));
  const first = mid.rssMiB - base.rssMiB;
  const second = last.rssMiB - mid.rssMiB;
  return [
    {
      name: `RSS levels off: +${first.toFixed(1)} MiB from turn ${base.turn} to ${mid.turn}, +${second.toFixed(1)} MiB from ${mid.turn} to ${last.turn} (at most half the first, or 1 MiB)`,
      ok: second <= Math.max(1, first / 2),
    },
  ];
}

function report(samples: Sample[], tally: Record<string, number>, byFault: Map<string, { n: number; asExpected: number }>, seconds: number): void {
  const out: string[] = [];
  out.push(`\n## soak: ${TURNS} push-to-talk turns, a fault every ${FAULT_EVERY} (${FAULTS.join(", ")}), ${seconds.toFixed(0)} s\n`);
  out.push("| turns | ok | failed | hung | not as expected |");
  out.push("|---|---|---|---|---|");
  out.push(`| ${TURNS} | ${tally.ok} | ${tally.failed} | ${tally.hung} | ${tally.unexpected} |\n`);
  out.push("| fault | turns | as expected |");
  out.push("|---|---|---|");
  for (const f of FAULTS) {
    const b = byFault.get(f) ?? { n: 0, asExpected: 0 };
    out.push(`| ${f} (expected ${EXPECTED[f]}) | ${b.n} | ${b.asExpected} |`);
  }
  out.push("\n| after turn | RSS MiB | malloc main arena MiB | anonymous MiB | V8 heap used / reserved MiB | playback thread heap MiB | external MiB | fds | threads |");
  out.push("|---|---|---|---|---|---|---|---|---|");
  for (const s of samples) {
    out.push(
      `| ${s.turn} | ${s.rssMiB.toFixed(1)} | ${s.brkMiB.toFixed(1)} | ${s.anonMiB.toFixed(1)} | ${s.heapUsedMiB} / ${s.heapTotalMiB} | ${s.threadHeapUsedMiB} / ${s.threadHeapTotalMiB} | ${s.externalMiB} | ${s.fds} | ${s.threads} |`,
    );
  }
  const last = samples.at(-1)!;
  // Steady state: by turn 100 every lazily opened part (speaker stream, worker, thread pool) is open.
  const base = samples.find((s) => s.turn >= Math.min(100, TURNS)) ?? samples[0]!;
  const at1000 = samples.find((s) => s.turn >= 1000) ?? last;
  const growth = at1000.rssMiB - base.rssMiB;
  const checks = [
    { name: `RSS growth from turn ${base.turn} to ${at1000.turn}: ${growth.toFixed(1)} MiB (at most ${RSS_MAX_MIB})`, ok: growth <= RSS_MAX_MIB },
    ...levelsOff(base, last, samples),
    { name: `fds from turn ${base.turn} to ${last.turn}: ${base.fds} → ${last.fds}`, ok: last.fds <= base.fds },
    { name: `threads from turn ${base.turn} to ${last.turn}: ${base.threads} → ${last.threads}`, ok: last.threads <= base.threads },
    { name: `hung turns: ${tally.hung}`, ok: tally.hung === 0 },
  ];
  out.push("");
  for (const c of checks) out.push(`${c.ok ? "ok  " : "FAIL"} ${c.name}`);
  process.stdout.write(`${out.join("\n")}\n`);
  process.exitCode = checks.every((c) => c.ok) && tally.unexpected === 0 ? 0 : 1;
}

/**
 * The daemon's environment as the systemd unit sets it (its Environment= lines), so the soak
 * measures the device as installed; SOAK_DAEMON_ENV="NAME=value …" adds to it or overrides it
 * (NAME= leaves it empty: for MALLOC_ARENA_MAX, glibc's default), to compare allocator or V8 settings.
 */
function daemonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const unit = fs.readFileSync(path.join(__dirname, "../../../firmware/systemd/talkbox.service"), "utf8");
  const fromUnit = [...unit.matchAll(/^Environment=(\S+)$/gm)].map((m) => m[1]!);
  for (const pair of [...fromUnit, ...(process.env.SOAK_DAEMON_ENV ?? "").split(/\s+/).filter(Boolean)]) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`SOAK_DAEMON_ENV: expected NAME=value pairs; got ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1; got ${v}`);
  return n;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
