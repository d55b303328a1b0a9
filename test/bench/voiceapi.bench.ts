/**
 * `npm run bench` (the voice API, seed 002, v2): the compiled daemon on the rig's real-time
 * card against the emulator. Push-to-talk turns: key release → the end-of-turn silence on the
 * wire (the protocol's end of a turn), and the bot's first audio frame sent → its first sample
 * at the card; then the daemon's CPU per second of full duplex (free conversation, the mic
 * streaming, answers playing).
 */
import { once } from "node:events";
import { startDevice, type Device } from "../support/device";
import { speechLoop } from "../support/speech";
import type { VoiceApiClientMessage, VoiceApiTurnRecord } from "../../src/emulator/voiceapi/session";
import { ProcessCpu, firstPlayedAfter } from "./measure";
import { table, type Row } from "./stats";

const TURNS = Number(process.env.BENCH_VOICEAPI_TURNS ?? 15);
const DUPLEX_S = Number(process.env.BENCH_VOICEAPI_DUPLEX_S ?? 20);
const HOLD_MS = 1500;

const ns = (): bigint => process.hrtime.bigint();
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const hold = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** When the emulator got the end-of-turn silence: the first message after `since` carrying several audio frames. */
function endOfTurn(dev: Device, since: bigint): Promise<bigint> {
  return new Promise((resolve) => {
    const on = (_i: number, m: VoiceApiClientMessage): void => {
      if (m.atNs < since || m.kinds.length < 2) return;
      dev.emulator.events.off("voiceapi-message", on);
      resolve(m.atNs);
    };
    dev.emulator.events.on("voiceapi-message", on);
  });
}

async function firstSound(dev: Device, since: bigint): Promise<bigint> {
  for (let i = 0; i < 400; i++) {
    const at = firstPlayedAfter(dev.rig, since);
    if (at !== null) return at;
    await hold(5);
  }
  throw new Error("no answer at the card");
}

async function main(): Promise<void> {
  const release: Row = { metric: "key release → end-of-turn silence on the wire (v2, one message)", unit: "ms", values: [] };
  const first: Row = { metric: "bot's first audio frame sent → first sample at the card", unit: "ms", values: [] };
  const cpu: Row = { metric: "CPU s per audio s, full duplex (free conversation, 16 kHz both ways)", unit: "s/s", values: [] };
  const dev = await startDevice({ voiceapi: { version: "v2" }, rig: { micPcm: speechLoop(TURNS * 6 + 30) }, config: { log: { level: "info" } } });
  try {
    for (let i = 0; i < TURNS; i++) {
      const from = dev.daemon.logs.length;
      await dev.press();
      await hold(HOLD_MS);
      const upAt = ns();
      const ended = endOfTurn(dev, upAt);
      const answered = once(dev.emulator.events, "voiceapi-turn") as Promise<[VoiceApiTurnRecord]>;
      await dev.release();
      release.values.push(ms(upAt, await ended));
      const [record] = await answered;
      if (record.firstAudioAtNs !== null) first.values.push(ms(record.firstAudioAtNs, await firstSound(dev, record.firstAudioAtNs)));
      await dev.daemon.waitForState("idle", 15_000, from);
    }
  } finally {
    await dev.stop();
  }
  const duplex = await startDevice({
    voiceapi: { version: "v2" },
    rig: { micPcm: speechLoop(DUPLEX_S + 40, 1.5) },
    config: { conversation: { mode: "free" }, audio: { echo: "none" }, log: { level: "info" } },
    ready: "listening",
  });
  try {
    await hold(5000);
    const window = new ProcessCpu(duplex.daemon.child.pid!);
    const t0 = ns();
    await hold(DUPLEX_S * 1000);
    cpu.values.push(window.stop() / (ms(t0, ns()) / 1000));
    cpu.note = `${duplex.emulator.voiceApiTurns().length} answers in the run`;
  } finally {
    await duplex.stop();
  }
  process.stdout.write(`\nthe voice API (seed 002, v2), ${TURNS} push-to-talk turns of ${HOLD_MS} ms, ${DUPLEX_S} s of full duplex; sim board on the rig's card\n\n${table([release, first, cpu])}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
