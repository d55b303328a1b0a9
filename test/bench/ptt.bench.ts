/**
 * `npm run bench`: latencies and cost on the real rig (compiled daemon, arecord and
 * speaker on the rig's real-time virtual sound card, the emulator on loopback).
 * Prints a table of percentiles. Benchmarks report; tests assert behaviour.
 */
import { startDevice, nextClientEvent, type Device, type DeviceOptions } from "../support/device";
import type { TurnRecord } from "../../src/emulator/server";
import { speechLoop } from "../support/speech";
import { ProcessCpu, childSeconds, reapedChildSeconds, rssMiB, firstPlayedAfter, soundEndAfter } from "./measure";
import { table, type Row } from "./stats";

const TURNS = Number(process.env.BENCH_TURNS ?? 20);
const DUPLEX_S = Number(process.env.BENCH_DUPLEX_S ?? 20);
const DUPLEX_RUNS = Number(process.env.BENCH_DUPLEX_RUNS ?? 2);
/** When the steady-state CPU window of a duplex run starts, in seconds after the mic first streamed. */
const WARM_S = Number(process.env.BENCH_WARM_S ?? 60);
const HOLD_MS = 1000;
const BYTES_PER_MS = 32; // 16 kHz mono S16_LE

const ns = (): bigint => process.hrtime.bigint();
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const hold = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

async function turn(dev: Device, holdMs = HOLD_MS): Promise<{ turn: Promise<TurnRecord>; upAt: bigint; heldMs: number }> {
  const pressedAt = ns();
  await dev.press();
  await hold(holdMs);
  const done = dev.nextTurn();
  const upAt = ns();
  await dev.release();
  return { turn: done, upAt, heldMs: ms(pressedAt, upAt) };
}

/**
 * A variant of the device: the primary path (prefix "") or a fallback, whose rows are
 * the primary's keys with its prefix. A variant without a row for a key skips that figure.
 */
interface Variant {
  prefix: string;
  options: DeviceOptions;
}
const PRIMARY: Variant = { prefix: "", options: {} };
/** Playback through aplay, as when the native speaker module did not build. */
const APLAY: Variant = { prefix: "aplay_", options: { config: { audio: { output: { device: "aplay:rigspk", sample_rate: 16000, channels: 1, format: "S16_LE" } } } } };
/** Opus through opusscript (WASM), as when @discordjs/opus did not build. */
const OPUSSCRIPT: Variant = { prefix: "opusscript_", options: { env: { TALKBOX_OPUS: "opusscript" } } };

async function pushToTalk(all: Record<string, Row>, variant: Variant = PRIMARY, turns = TURNS): Promise<void> {
  const rows = withPrefix(all, variant.prefix);
  const dev = await startDevice(variant.options);
  try {
    for (let i = 0; i < turns; i++) {
      const from = dev.daemon.logs.length;
      const r = await turn(dev);
      const t = await r.turn;
      await dev.daemon.waitForState("idle", 10_000, from + 2);
      const last = (await dev.status()).LastTurn as Record<string, number>;
      rows.releaseWire!.values.push(ms(r.upAt, t.completeAtNs));
      rows.deltaWrite!.values.push(last.firstAudioToFirstWriteMs!);
      const out = firstPlayedAfter(dev.rig, r.upAt);
      if (out !== null) rows.deviceLatency!.values.push(ms(r.upAt, out));
      rows.edgeLoss!.values.push(r.heldMs - t.audio.length / BYTES_PER_MS);
    }
    for (let i = 0; i < turns; i++) {
      const from = dev.daemon.logs.length;
      // A 3 s reply takes the emulator 0.75 s to send: press while it speaks and still sends.
      await turn(dev, 3000);
      await dev.daemon.waitForState("speaking", 10_000, from);
      await hold(200);
      const cancel = nextClientEvent(dev.emulator, "conversation.chat.cancel");
      const downAt = ns();
      await dev.press();
      rows.bargeCancel!.values.push(ms(downAt, await cancel));
      const after = dev.daemon.logs.length;
      await dev.release();
      await dev.daemon.waitForLog((l) => l.msg === "state idle" || l.msg === "state error", 10_000, after);
      const end = soundEndAfter(dev.rig, downAt);
      if (end !== null) rows.bargeSound!.values.push(ms(downAt, end));
    }
    rows.rss!.values.push(rssMiB(dev.daemon.child.pid!));
  } finally {
    await dev.stop();
  }
}

/**
 * The daemon's CPU per second of streaming over the next `seconds`, arecord's and aplay's
 * beside it (aplay: the live ones and those reaped in the window), and the reply audio played.
 */
async function cpuWindow(dev: Device, seconds: number): Promise<{ daemon: number; arecord: number; aplay: number; played: number; wall: number }> {
  const pid = dev.daemon.child.pid!;
  const cpu = new ProcessCpu(pid);
  const arecord0 = childSeconds(pid, "arecord");
  const aplay0 = childSeconds(pid, "aplay") + reapedChildSeconds(pid);
  const t0 = ns();
  await hold(seconds * 1000);
  const daemon = cpu.stop();
  const wall = ms(t0, ns()) / 1000;
  const played = dev.rig.speakerTimes().filter(([at]) => at >= t0).reduce((n, [, , len]) => n + len, 0) / BYTES_PER_MS / 1000;
  const aplay = childSeconds(pid, "aplay") + reapedChildSeconds(pid) - aplay0;
  return { daemon: daemon / wall, arecord: (childSeconds(pid, "arecord") - arecord0) / wall, aplay: aplay / wall, played, wall };
}

/** The rows of a variant, by the primary's keys: a key the variant has no row for is dropped. */
function withPrefix(all: Record<string, Row>, prefix: string): Record<string, Row> {
  const dummy = (): Row => ({ metric: "", unit: "", values: [] });
  return new Proxy(all, { get: (target, key: string) => target[`${prefix}${key}`] ?? dummy() });
}

/**
 * Free conversation with the mic streaming all the time and replies playing: CPU per
 * audio second, over the first seconds after start and again after a minute. The first
 * window carries what a fresh process pays once (V8 compiling the hot paths, its early
 * garbage collections); the second is what the device costs from then on, for days.
 */
async function duplex(codec: "pcm" | "opus", all: Record<string, Row>, variant: Variant = PRIMARY): Promise<void> {
  const rows = withPrefix(all, variant.prefix);
  const audio = codec === "opus" ? { uplink_codec: "opus", uplink_rate: 16000, downlink_codec: "opus", downlink_rate: 24000 } : {};
  const dev = await startDevice({
    ...variant.options,
    rig: { micPcm: speechLoop(WARM_S + DUPLEX_S + 30, 1.5) },
    config: { conversation: { mode: "free" }, audio: { echo: "none", ...audio, ...variant.options.config?.audio } },
    ready: "listening",
  });
  try {
    await dev.appends(50);
    const startedAt = ns();
    const first = await cpuWindow(dev, DUPLEX_S);
    rows[`cpu_${codec}_start`]!.values.push(first.daemon);
    await hold(Math.max(0, WARM_S * 1000 - ms(startedAt, ns())));
    const steady = await cpuWindow(dev, DUPLEX_S);
    rows[`cpu_${codec}`]!.values.push(steady.daemon);
    rows[`cpu_${codec}`]!.note = `target ≤ 0.02; a run: ${steady.wall.toFixed(0)} s of mic streamed, ${steady.played.toFixed(1)} s of replies played`;
    rows[`arecord_${codec}`]!.values.push(steady.arecord);
    rows[`aplay_${codec}`]!.values.push(steady.aplay);
  } finally {
    await dev.stop();
  }
}

async function main(): Promise<void> {
  const rows: Record<string, Row> = {
    releaseWire: { metric: "key release → complete on the wire", unit: "ms", values: [], note: "target p99 ≤ 5; control socket in, WebSocket out" },
    deltaWrite: { metric: "first delta received → first sample written to ALSA", unit: "ms", values: [], note: "target p99 ≤ 10; in the daemon" },
    bargeCancel: { metric: "key press in a reply → cancel on the wire", unit: "ms", values: [], note: "target p99 ≤ 5 (flush is in the same tick)" },
    bargeSound: { metric: "key press in a reply → sound stops at the card", unit: "ms", values: [] },
    deviceLatency: { metric: "key release → first reply sample out of the card", unit: "ms", values: [], note: "target p95 ≤ 60; echo agent answers at once" },
    edgeLoss: { metric: "held time − audio the agent got", unit: "ms", values: [], note: "capture pipeline at the release" },
    cpu_pcm: { metric: "CPU s per audio s, full duplex PCM 16 kHz", unit: "s/s", values: [] },
    cpu_pcm_start: { metric: "  the same, in the first seconds after start", unit: "s/s", values: [], note: "paid once: V8 compiling, early GCs" },
    arecord_pcm: { metric: "  + arecord (the mic, its own process)", unit: "s/s", values: [], note: "not in the daemon's figure" },
    cpu_opus: { metric: "CPU s per audio s, full duplex Opus 16k up / 24k down", unit: "s/s", values: [] },
    cpu_opus_start: { metric: "  the same, in the first seconds after start", unit: "s/s", values: [], note: "paid once" },
    arecord_opus: { metric: "  + arecord (the mic, its own process)", unit: "s/s", values: [], note: "not in the daemon's figure" },
    rss: { metric: "daemon RSS after the push-to-talk run", unit: "MiB", values: [] },
    // The fallbacks, for when a native module did not build (talkbox doctor says which runs).
    aplay_deltaWrite: { metric: "aplay fallback: first delta received → first sample written", unit: "ms", values: [], note: "to aplay's pipe" },
    aplay_deviceLatency: { metric: "aplay fallback: key release → first reply sample out of the card", unit: "ms", values: [], note: "target p95 ≤ 60" },
    aplay_bargeSound: { metric: "aplay fallback: key press in a reply → sound stops at the card", unit: "ms", values: [], note: "aplay is killed" },
    aplay_cpu_pcm: { metric: "aplay fallback: CPU s per audio s, full duplex PCM 16 kHz", unit: "s/s", values: [] },
    aplay_aplay_pcm: { metric: "  + aplay (its own processes)", unit: "s/s", values: [], note: "not in the daemon's figure" },
    opusscript_cpu_opus: { metric: "opusscript fallback: CPU s per audio s, full duplex Opus", unit: "s/s", values: [] },
    opusscript_cpu_opus_start: { metric: "  the same, in the first seconds after start", unit: "s/s", values: [] },
  };
  await pushToTalk(rows);
  await pushToTalk(rows, APLAY, Math.max(1, Math.round(TURNS / 2)));
  // Alternated, so a slow spell of the machine does not land on one variant only.
  for (let i = 0; i < DUPLEX_RUNS; i++) {
    await duplex("pcm", rows);
    await duplex("opus", rows);
    await duplex("pcm", rows, APLAY);
    await duplex("opus", rows, OPUSSCRIPT);
  }
  process.stdout.write(`\ntalkbox bench — ${TURNS} push-to-talk turns of ${HOLD_MS} ms and ${TURNS} barge-ins (16 kHz PCM), ${DUPLEX_RUNS} runs of full duplex per codec, CPU over ${DUPLEX_S} s from ${WARM_S} s after start and over the first ${DUPLEX_S} s; sim board on the rig's virtual sound card\n\n`);
  process.stdout.write(`${table(Object.values(rows))}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
