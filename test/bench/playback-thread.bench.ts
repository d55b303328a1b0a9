/**
 * `npm run bench:playback` (and part of `npm run bench`): the C playback thread beside the
 * worker thread it replaced, before/after pairs run alternately. The same daemon, the same
 * emulator and rig, `TALKBOX_PLAYBACK_THREAD=worker` on one side only; per pair, which
 * goes first alternates. Each run: push-to-talk turns for CPU_S seconds (CPU of the
 * daemon's own threads, the rig's card threads left out; and per turn, from `talkbox
 * status`, first reply audio received → first sample written to ALSA), as long at rest,
 * then RSS; then a few barge-ins (a press while a reply plays → the card silent).
 */
import { startTalkbox, type BenchClient } from "./peer/client";
import { ProcessCpu, firstPlayedAfter, rssMiB, soundEndAfter } from "./measure";
import { pairTable, type PairRow } from "./stats";

const PAIRS = Number(process.env.BENCH_PLAYBACK_PAIRS ?? 3);
const CPU_S = Number(process.env.BENCH_PLAYBACK_CPU_S ?? 15);
const BARGE_INS = Number(process.env.BENCH_PLAYBACK_BARGE_INS ?? 4);

const ns = (): bigint => process.hrtime.bigint();
const hold = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** A 1 s push-to-talk turn, until the card has been quiet for 300 ms after the reply. */
async function turn(c: BenchClient & { device: { status(): Promise<Record<string, unknown>> } }, firstWrite?: number[]): Promise<void> {
  await c.press();
  await hold(1000);
  const released = ns();
  await c.release();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const end = soundEndAfter(c.rig, released);
    if (end !== null && Number(ns() - end) / 1e6 > 300) {
      const ms = ((await c.device.status()).LastTurn as { firstAudioToFirstWriteMs?: number | null } | undefined)?.firstAudioToFirstWriteMs;
      if (typeof ms === "number") firstWrite?.push(ms);
      return;
    }
    if (Date.now() > deadline) throw new Error("the reply did not end");
    await hold(50);
  }
}

/**
 * A press while a reply plays: how long until the card is silent (the C thread's device is
 * cut on the main thread at the flush; the worker cuts it when woken). Then the short turn
 * it started, played out.
 */
async function bargeIn(c: BenchClient, out: number[]): Promise<void> {
  await c.press();
  await hold(3000);
  const released = ns();
  await c.release();
  const deadline = Date.now() + 20_000;
  while (firstPlayedAfter(c.rig, released) === null) {
    if (Date.now() > deadline) throw new Error("no reply sound");
    await hold(20);
  }
  await hold(400);
  const downAt = ns();
  await c.press();
  await hold(300);
  await c.release();
  const end = soundEndAfter(c.rig, downAt);
  if (end !== null) out.push(Math.max(0, Number(end - downAt) / 1e6));
  const after = ns();
  for (;;) {
    const e = soundEndAfter(c.rig, after);
    if (e !== null && Number(ns() - e) / 1e6 > 300) return;
    if (Date.now() > deadline + 20_000) throw new Error("the barge-in's reply did not end");
    await hold(50);
  }
}

interface Sample {
  bargeIn: number[];
  talk: number;
  rest: number;
  rss: number;
  firstWrite: number[];
}

async function measure(kind: "native" | "worker"): Promise<Sample> {
  const c = await startTalkbox(kind === "worker" ? { env: { TALKBOX_PLAYBACK_THREAD: "worker" }, name: "worker" } : { name: "native" });
  try {
    const said = (await c.device.status()).PlaybackThread;
    if (said !== kind) throw new Error(`asked for the ${kind} playback thread, the daemon plays from '${String(said)}'`);
    // Warm: the first turn pays for opening the speaker and compiling the hot paths.
    await turn(c);
    const firstWrite: number[] = [];
    const talking = new ProcessCpu(c.pid());
    const t0 = ns();
    while (Number(ns() - t0) / 1e9 < CPU_S) await turn(c, firstWrite);
    const talk = talking.stop() / (Number(ns() - t0) / 1e9);
    const resting = new ProcessCpu(c.pid());
    const r0 = ns();
    await hold(CPU_S * 1000);
    const rest = resting.stop() / (Number(ns() - r0) / 1e9);
    const rss = rssMiB(c.pid());
    const barge: number[] = [];
    for (let i = 0; i < BARGE_INS; i++) await bargeIn(c, barge);
    return { talk, rest, rss, firstWrite, bargeIn: barge };
  } finally {
    await c.close();
  }
}

async function main(): Promise<void> {
  const rows: Record<keyof Sample, PairRow> = {
    firstWrite: { metric: "first reply audio received → first sample written to ALSA", unit: "ms", a: [], b: [], note: "inside the daemon (talkbox status: LastTurn)" },
    bargeIn: { metric: "press in a reply → last reply sample at the card", unit: "ms", a: [], b: [], note: "the press through the control socket" },
    talk: { metric: `CPU s per s, ${CPU_S} s of push-to-talk turns, own threads`, unit: "s/s", a: [], b: [], note: "card threads and arecord left out" },
    rest: { metric: `CPU s per s, ${CPU_S} s at rest right after`, unit: "s/s", a: [], b: [] },
    rss: { metric: "RSS after the run", unit: "MiB", a: [], b: [] },
  };
  for (let pair = 0; pair < PAIRS; pair++) {
    const order: ("native" | "worker")[] = pair % 2 === 0 ? ["native", "worker"] : ["worker", "native"];
    for (const kind of order) {
      const s = await measure(kind);
      for (const k of Object.keys(rows) as (keyof Sample)[]) rows[k][kind === "native" ? "a" : "b"].push(...[s[k]].flat());
      process.stderr.write(`bench: pair ${pair + 1}/${PAIRS} ${kind}: ${s.talk.toFixed(4)} s/s talking, ${s.rest.toFixed(4)} at rest, ${s.rss.toFixed(1)} MiB\n`);
    }
  }
  process.stdout.write(
    `\nthe C playback thread beside the worker thread — ${PAIRS} pairs, run alternately; 16 kHz PCM both ways, the Coze emulator, the rig's card\n\n` +
      `${pairTable(["C thread", "worker thread"], Object.values(rows))}\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
