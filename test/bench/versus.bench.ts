/**
 * `npm run bench` (second part): talkbox beside the official client, the way a Node
 * developer would otherwise build the device (peer/official-coze.ts: `@coze/api`,
 * node-record-lpcm16, speaker, each delta written straight to the speaker). Both run
 * against the same strict emulator and the same clock-driven virtual card (one of each per
 * client, identical), with the same mic content and the same audio settings (the peer asks
 * for exactly the input_audio and output_audio talkbox asked for). Interleaved turn by
 * turn: per round and client a turn, a tight-release turn and a barge-in; then CPU while
 * talking and at rest, and resident memory. Prints p50 / p95 per client and the ratios.
 * What the peer does wrong is counted, not fixed.
 */
import type { BenchClient, TurnRecord } from "./peer/client";
import { audioOf, startPeer, startTalkbox } from "./peer/client";
import { ProcessCpu, firstPlayedAfter, rssMiB, soundEndAfter } from "./measure";
import { pairTable, type PairRow } from "./stats";
import type { Rig } from "../rig/rig";
import { within } from "../support/within";
import { once } from "node:events";

const ROUNDS = Number(process.env.BENCH_VERSUS_ROUNDS ?? 10);
const RUNS = Number(process.env.BENCH_VERSUS_RUNS ?? 2);
const CPU_S = Number(process.env.BENCH_VERSUS_CPU_S ?? 20);
const BYTES_PER_MS = 32; // 16 kHz mono S16_LE, both ways
/** Coze's guidance for PCM uploads (seed 003): 10 ms to 20 ms of audio per append. */
const APPEND_MS = { min: 10, max: 20 };
/** A tight release: the user lets go this long after the last word. */
const TIGHT_MS = 100;
/**
 * How long the emulator thinks before it answers a turn (its transcript still comes at
 * once). A real agent takes hundreds of ms; a fast one tens. Answering at once (0) put the
 * reply's first audio on the wire while the client was still finishing its release: on a
 * 2-core machine the emulator, woken by the client's `complete`, ran in its place until it
 * had sent the reply's start (about 1.3 ms), and the delta then waited for the rest of the
 * release (talkbox: its state change, log line and the command's answer, 0.5 ms at p50).
 * The first-sound row then timed the release and the machine's scheduling, not the way
 * from a delta to the card that it names.
 */
const REPLY_DELAY_MS = Number(process.env.BENCH_VERSUS_REPLY_DELAY_MS ?? 100);

const ns = (): bigint => process.hrtime.bigint();
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const hold = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

const nextTurn = (c: BenchClient): Promise<TurnRecord> => once(c.emulator.events, "turn").then(([t]) => t as TurnRecord);

/** Until the card has been quiet for a while after `since`: the reply has played out (or was stopped). */
async function quiet(rig: Rig, since: bigint, who: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const end = soundEndAfter(rig, since);
    if (end !== null && ms(end, ns()) > 300) return;
    if (Date.now() > deadline) throw new Error(`${who}: the reply did not end (${soundEndAfter(rig, since) === null ? "no sound after it started" : "sound went on"})`);
    await hold(50);
  }
}

/** Until sound comes out of the card after `since`. */
async function sounding(rig: Rig, since: bigint, timeoutMs = 10_000): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = firstPlayedAfter(rig, since);
    if (at !== null) return at;
    if (Date.now() > deadline) throw new Error("no reply sound");
    await hold(10);
  }
}

/**
 * When the last sample the agent got was captured: the end of the turn's audio, found in
 * the mic's content (unique noise), timed by the card's capture log around the turn.
 */
function lastHeardAt(rig: Rig, audio: Buffer, from: bigint, to: bigint): bigint | null {
  if (audio.length < 640) return null;
  const at = rig.micInput.indexOf(audio.subarray(audio.length - 640));
  if (at < 0) return null;
  const end = at + 640;
  const chunk = rig
    .micTimes()
    // From the press on: the peer opens the mic at each press, and each open reads the mic from its start again.
    .filter(([t]) => t >= from - 50_000_000n && t <= to + 1_000_000_000n)
    .find(([, off, len]) => off < end && end <= off + len);
  return chunk ? chunk[0] + BigInt(Math.round(((end - chunk[1]) / BYTES_PER_MS) * 1e6)) : null;
}

interface Rows {
  releaseWire: PairRow;
  /** What the release itself sent before `complete`: the speech the mic held (the peer drops it). */
  releaseSpeech: PairRow;
  firstSound: PairRow;
  bargeSound: PairRow;
  tailLost: PairRow;
  appendMs: PairRow;
  cpuTalk: PairRow;
  cpuIdle: PairRow;
  rss: PairRow;
  /** talkbox with Opus both ways beside the peer with PCM (it has no Opus of its own). */
  cpuTalkOpus: PairRow;
  cpuIdleOpus: PairRow;
  cpuTalkPeer20: PairRow;
}

/** Per client and run: what is counted rather than timed. */
interface Counts {
  keptWhole: number;
  tight: number;
  violations: number;
  appends: number;
}

function side(rows: Rows, i: 0 | 1): Record<keyof Rows, number[]> {
  const out = {} as Record<keyof Rows, number[]>;
  for (const k of Object.keys(rows) as (keyof Rows)[]) out[k] = i === 0 ? rows[k].a : rows[k].b;
  return out;
}

/** A push-to-talk turn held `holdMs`: the release's way to the wire, the first reply sound, the appends, the tail. */
async function talkTurn(c: BenchClient, rows: Record<keyof Rows, number[]>, counts: Counts, holdMs: number, tight: boolean): Promise<void> {
  const done = within(nextTurn(c), 20_000, `${c.name}: the turn's reply`);
  done.catch(() => {}); // awaited below; a press that throws first must not leave it unhandled
  const downAt = ns();
  await c.press();
  await hold(holdMs);
  const upAt = ns();
  await c.release();
  const t = await done;
  rows.releaseWire.push(ms(upAt, t.completeAtNs));
  rows.releaseSpeech.push(t.appendAtNs.reduce((sum, at, i) => (at >= upAt ? sum + t.appendBytes[i]! / BYTES_PER_MS : sum), 0));
  if (t.firstAudioAtNs !== null) rows.firstSound.push(ms(t.firstAudioAtNs, await sounding(c.rig, t.firstAudioAtNs)));
  // Every append but the turn's last (a release ends mid-frame), against the protocol's 10–20 ms.
  for (const bytes of t.appendBytes.slice(0, -1)) {
    const m = bytes / BYTES_PER_MS;
    rows.appendMs.push(m);
    counts.appends++;
    if (m < APPEND_MS.min || m > APPEND_MS.max) counts.violations++;
  }
  if (tight) {
    // The speaker stopped TIGHT_MS before the release: all of it must reach the agent.
    const heard = lastHeardAt(c.rig, t.audio, downAt, upAt);
    const lost = heard === null ? holdMs : Math.max(0, ms(heard, upAt));
    rows.tailLost.push(lost);
    counts.tight++;
    if (lost <= TIGHT_MS) counts.keptWhole++;
  }
  await quiet(c.rig, t.firstAudioAtNs ?? upAt, c.name);
}

/** A press while the reply plays: how long until the card is silent; then the short turn it started. */
async function bargeIn(c: BenchClient, rows: Record<keyof Rows, number[]>): Promise<void> {
  const first = within(nextTurn(c), 20_000, `${c.name}: the long reply`);
  first.catch(() => {});
  await c.press();
  await hold(3000);
  await c.release();
  // `first` settles when the server has sent the whole reply (the emulator's turn), which
  // still plays: the press comes just after the reply's last events (about 2 s into a 3 s
  // echo), and at least 400 ms into its sound.
  const t = await first;
  const started = await sounding(c.rig, t.firstAudioAtNs ?? ns());
  await hold(Math.max(0, 400 - ms(started, ns())));
  const second = within(nextTurn(c), 20_000, `${c.name}: the barge-in's reply`);
  second.catch(() => {});
  const downAt = ns();
  await c.press();
  await hold(300);
  await c.release();
  const end = soundEndAfter(c.rig, downAt);
  if (end !== null) rows.bargeSound.push(Math.max(0, ms(downAt, end)));
  const s = await second;
  await quiet(c.rig, s.firstAudioAtNs ?? ns(), `${c.name}, after a barge-in`);
}

/** CPU s per s of the client's own process (card threads and arecord out), talking for CPU_S, then (`rest`) at rest. */
async function cpu(c: BenchClient, rows: Record<keyof Rows, number[]>, counts: Counts, rest = true): Promise<void> {
  await c.alive();
  const talking = new ProcessCpu(c.pid());
  const t0 = ns();
  while (ms(t0, ns()) < CPU_S * 1000) await talkTurn(c, { ...rows, releaseWire: [], releaseSpeech: [], firstSound: [], appendMs: [] }, { ...counts }, 1000, false);
  rows.cpuTalk.push(talking.stop() / (ms(t0, ns()) / 1000));
  if (!rest) return;
  const resting = new ProcessCpu(c.pid());
  const r0 = ns();
  await hold(CPU_S * 1000);
  rows.cpuIdle.push(resting.stop() / (ms(r0, ns()) / 1000));
  rows.rss.push(rssMiB(c.pid()));
}

/**
 * One step (a turn, a barge-in) of one client, its figures kept only if the client lived
 * through it: a client that crashed (counted) is started again and the step done over, so
 * that a crash neither ends the run nor leaves a half-measured sample.
 */
async function step(c: BenchClient, rows: Record<keyof Rows, number[]>, counts: Counts, run: (rows: Record<keyof Rows, number[]>, counts: Counts) => Promise<void>): Promise<void> {
  // The official client dies in one barge-in in three on a quiet machine, and in about one in
  // two on a slower VM (speaker's close racing its own thread-pool write: SIGSEGV), where five
  // in a row ended a whole run after 10 crashes. Twelve in a row is a broken bench, not bad
  // luck (0.5^12: once in 4000 steps).
  const ATTEMPTS = 12;
  for (let attempt = 1; ; attempt++) {
    const before = c.crashes;
    const fresh = Object.fromEntries(Object.keys(rows).map((k) => [k, [] as number[]])) as unknown as Record<keyof Rows, number[]>;
    const tally: Counts = { keptWhole: 0, tight: 0, violations: 0, appends: 0 };
    try {
      await run(fresh, tally);
    } catch (err) {
      // A peer that went silent (alive, but its reply never sounds) is ended and the step done again.
      if (c.crashes === before && c.abandon && attempt < ATTEMPTS) {
        await c.abandon();
        continue;
      }
      if (c.crashes === before || attempt >= ATTEMPTS) throw err;
    }
    if (c.crashes !== before) {
      if (attempt >= ATTEMPTS) throw new Error(`${c.name} crashed ${attempt} times in a row`);
      continue;
    }
    for (const k of Object.keys(rows) as (keyof Rows)[]) rows[k].push(...fresh[k]);
    for (const k of Object.keys(counts) as (keyof Counts)[]) counts[k] += tally[k];
    return;
  }
}

const faults: [number, number] = [0, 0];
let silences = 0;

/** What talkbox asked the server for: the peers ask for the same. */
let audio: ReturnType<typeof audioOf> | null = null;

async function run(rows: Rows, counts: [Counts, Counts]): Promise<[number, number]> {
  const talkbox = await startTalkbox({ replyDelayMs: REPLY_DELAY_MS });
  audio = audioOf(talkbox);
  const peer = await startPeer(audio, { replyDelayMs: REPLY_DELAY_MS });
  const clients: [BenchClient, BenchClient] = [talkbox, peer];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Who goes first alternates, so a slow spell of the machine does not land on one side only.
      const order: (0 | 1)[] = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) await step(clients[i], side(rows, i), counts[i], (r, n) => talkTurn(clients[i], r, n, 1000, false));
      for (const i of order) await step(clients[i], side(rows, i), counts[i], (r, n) => talkTurn(clients[i], r, n, 600, true));
      for (const i of order) await step(clients[i], side(rows, i), counts[i], (r) => bargeIn(clients[i], r));
    }
    for (const i of [0, 1] as const) await step(clients[i], side(rows, i), counts[i], (r, n) => cpu(clients[i], r, n));
    rows.cpuTalkOpus.b.push(...rows.cpuTalk.b.slice(-1));
    rows.cpuIdleOpus.b.push(...rows.cpuIdle.b.slice(-1));
    rows.cpuTalkPeer20.a.push(...rows.cpuTalk.a.slice(-1));
    faults[0] += talkbox.faults;
    faults[1] += peer.faults;
    silences += peer.silences ?? 0;
    return [talkbox.crashes, peer.crashes];
  } finally {
    await peer.close();
    await talkbox.close();
  }
}

/** The same CPU windows for talkbox with Opus on the wire (encoding every 20 ms append, decoding the reply). */
async function opusCpu(rows: Rows): Promise<void> {
  const talkbox = await startTalkbox({ opus: true, replyDelayMs: REPLY_DELAY_MS });
  try {
    const r = side(rows, 0);
    await cpu(talkbox, { ...r, cpuTalk: r.cpuTalkOpus, cpuIdle: r.cpuIdleOpus, rss: [] }, { keptWhole: 0, tight: 0, violations: 0, appends: 0 });
  } finally {
    await talkbox.close();
  }
}

/**
 * The official client's talking CPU if it sent the appends the protocol asks for (its chunks
 * cut into 20 ms, as talkbox sends them) instead of one per 125 ms chunk: the same number of
 * messages a second as talkbox, so the row compares the rest of the work.
 */
async function peer20Cpu(rows: Rows): Promise<void> {
  const peer = await startPeer(audio!, { appendMs: 20, replyDelayMs: REPLY_DELAY_MS });
  try {
    const r = side(rows, 1);
    const counts: Counts = { keptWhole: 0, tight: 0, violations: 0, appends: 0 };
    await step(peer, r, counts, (x, n) => cpu(peer, { ...x, cpuTalk: x.cpuTalkPeer20, rss: [] }, n, false));
  } finally {
    await peer.close();
  }
}

async function main(): Promise<void> {
  const row = (metric: string, unit: string, note?: string): PairRow => ({ metric, unit, a: [], b: [], ...(note ? { note } : {}) });
  const rows: Rows = {
    releaseWire: row("release → complete on the wire", "ms"),
    releaseSpeech: row("speech sent after the release, before complete", "ms", "what the mic held at the release; the peer drops it (speech lost, below)"),
    firstSound: row("first audio delta sent → first reply sample at the card", "ms"),
    bargeSound: row("press in a reply → last reply sample at the card", "ms"),
    tailLost: row(`speech lost at a release ${TIGHT_MS} ms after speaking`, "ms", "from the last sample the agent got to the release"),
    appendMs: row("audio per append", "ms", `protocol: ${APPEND_MS.min}–${APPEND_MS.max} ms`),
    cpuTalk: row(`CPU s per s, ${CPU_S} s of push-to-talk turns, own process`, "s/s", "card threads and arecord left out"),
    cpuIdle: row(`CPU s per s, ${CPU_S} s at rest, connected`, "s/s", "talkbox keeps its mic open; the peer's is closed"),
    rss: row("RSS of the process after the run", "MiB"),
    cpuTalkOpus: row(`CPU s per s, ${CPU_S} s of push-to-talk turns, talkbox with Opus`, "s/s", "the peer's column: its PCM figure (it has no Opus)"),
    cpuIdleOpus: row(`CPU s per s, ${CPU_S} s at rest, talkbox with Opus`, "s/s", "the peer's column: its PCM figure"),
    cpuTalkPeer20: row(`CPU s per s, ${CPU_S} s of push-to-talk turns, the official client sending 20 ms appends`, "s/s", "talkbox's column: its PCM figure; the peer's chunks cut as the protocol asks"),
  };
  const counts: [Counts, Counts] = [
    { keptWhole: 0, tight: 0, violations: 0, appends: 0 },
    { keptWhole: 0, tight: 0, violations: 0, appends: 0 },
  ];
  const crashes: [number, number] = [0, 0];
  for (let r = 0; r < RUNS; r++) {
    const [x, y] = await run(rows, counts);
    crashes[0] += x;
    crashes[1] += y;
    await opusCpu(rows);
    await peer20Cpu(rows);
  }
  const [a, b] = counts;
  process.stdout.write(
    `\ntalkbox beside the official client (@coze/api + node-record-lpcm16 + speaker) — ${RUNS} runs of ${ROUNDS} rounds, each a 1 s turn, a tight release and a barge-in per client, interleaved; 16 kHz PCM both ways; one emulator and one rig card per client\n\n`,
  );
  process.stdout.write(`${pairTable(["talkbox", "official client"], Object.values(rows))}\n\n`);
  process.stdout.write(`speech kept whole at a tight release: talkbox ${a.keptWhole}/${a.tight}, official client ${b.keptWhole}/${b.tight}\n`);
  process.stdout.write(`appends outside ${APPEND_MS.min}–${APPEND_MS.max} ms (a turn's last left out): talkbox ${a.violations}/${a.appends}, official client ${b.violations}/${b.appends}\n`);
  process.stdout.write(`crashes: talkbox ${crashes[0]}, official client ${crashes[1]}\n`);
  process.stdout.write(`went silent without crashing (a reply that never sounded after a barge-in; killed, started again, the step done over): official client ${silences}\n`);
  process.stdout.write(`speaker write errors survived (a close racing a write): talkbox ${faults[0]}, official client ${faults[1]}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
