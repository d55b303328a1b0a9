/**
 * `npm run bench` (announcements): how fast an ExternalTextToSpeech command is heard, in the
 * agent's voice (Coze's speech synthesis, the emulator) and in the device's own (espeak-ng),
 * and what the offline voice costs on the CPU per second it speaks. The compiled daemon on the
 * rig's real-time card; the command over the real control socket, the device idle.
 */
import { startDevice, type Device } from "../support/device";
import { processSeconds, reapedChildSeconds, firstPlayedAfter } from "./measure";
import { table, type Row } from "./stats";
import type { ControlReply } from "../../src/control/client";

const RUNS = Number(process.env.BENCH_ANNOUNCE_RUNS ?? 20);
const TEXTS = ["The doorbell rang.", "正在处理，请稍等。", "Your timer is done.", "前方五百米右转。"];

const ns = (): bigint => process.hrtime.bigint();
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const hold = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

async function idle(dev: Device): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await dev.status()).State === "idle") return;
    await hold(20);
  }
  throw new Error("the device did not come back to idle");
}

async function firstSound(dev: Device, since: bigint): Promise<bigint> {
  for (let i = 0; i < 500; i++) {
    const at = firstPlayedAfter(dev.rig, since);
    if (at !== null) return at;
    await hold(5);
  }
  throw new Error("no announcement sound");
}

/** Command sent → first sample at the card, RUNS times; and CPU (daemon + espeak-ng) per spoken second. */
async function measure(voice: "agent" | "local", realtime = false): Promise<{ latency: number[]; cpuPerSpokenS: number; childCpuPerSpokenS: number }> {
  const dev = await startDevice(
    realtime
      ? // OpenAI's flavour: pcm16 at 24 kHz on the wire, resampled to the 16 kHz card.
        { realtime: { flavour: "openai" }, config: { announce: { voice }, log: { level: "info" }, audio: { uplink_rate: 24000, downlink_rate: 24000 } } }
      : { config: { announce: { voice }, log: { level: "info" } } },
  );
  const latency: number[] = [];
  let cpu = 0;
  let childCpu = 0;
  let spokenMs = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      const text = TEXTS[i % TEXTS.length]!;
      const child0 = reapedChildSeconds(dev.daemon.child.pid!);
      const cpu0 = processSeconds(dev.daemon.child.pid!) + child0;
      const t0 = ns();
      const reply: ControlReply = await dev.control.request({ Command: "ExternalTextToSpeech", Message: text, InterruptMode: 3 });
      if (reply.Voice !== voice) throw new Error(`expected the ${voice} voice, got ${JSON.stringify(reply)}`);
      latency.push(ms(t0, await firstSound(dev, t0)));
      await idle(dev);
      const t1 = ns();
      const child1 = reapedChildSeconds(dev.daemon.child.pid!);
      cpu += processSeconds(dev.daemon.child.pid!) + child1 - cpu0;
      childCpu += child1 - child0;
      // The spoken time: what the card played since the command.
      spokenMs += dev.rig
        .speakerTimes()
        .filter(([at]) => at >= t0 && at <= t1)
        .reduce((n, [, , len]) => n + len / 32, 0);
      await hold(200);
    }
  } finally {
    await dev.stop();
  }
  return { latency, cpuPerSpokenS: cpu / (spokenMs / 1000), childCpuPerSpokenS: childCpu / (spokenMs / 1000) };
}

async function main(): Promise<void> {
  const agent = await measure("agent");
  const realtime = await measure("agent", true);
  const local = await measure("local");
  const rows: Row[] = [
    { metric: "command → first announcement sample at the card, agent's voice (Coze speech, emulator)", unit: "ms", values: agent.latency, note: "one speech WebSocket per announcement" },
    { metric: "command → first announcement sample at the card, agent's voice (Realtime, OpenAI flavour, emulator)", unit: "ms", values: realtime.latency, note: "a response.create on the open link" },
    { metric: "command → first announcement sample at the card, device's voice (espeak-ng)", unit: "ms", values: local.latency },
    { metric: "CPU per spoken second, device's voice: daemon + espeak-ng", unit: "s/s", values: [local.cpuPerSpokenS], note: "the rig's card thread runs in the daemon and is counted" },
    { metric: "CPU per spoken second, device's voice: espeak-ng alone", unit: "s/s", values: [local.childCpuPerSpokenS], note: "10 ms ticks, summed over the runs" },
    { metric: "CPU per spoken second, agent's voice: daemon", unit: "s/s", values: [agent.cpuPerSpokenS], note: "the same daemon work without espeak-ng, for comparison" },
  ];
  process.stdout.write(`\nannouncements (ExternalTextToSpeech, mode 3, the device idle), ${RUNS} each, 16 kHz card\n\n${table(rows)}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
