/**
 * `node dist/test/bench/local-vad.bench.js`: what the local turn detector costs the
 * daemon. Real speech with pauses (boards/sim/speech-16k.raw) is pushed in 20 ms chunks,
 * as the uplink delivers them, at each wire rate; CPU time per second of audio and the
 * time one push takes. Benchmarks report; tests assert behaviour.
 */
import { LocalTurnDetector } from "../../src/device/local-turns";
import { resampleAll, speechLoop } from "../support/speech";
import { table, type Row } from "./stats";

const AUDIO_S = Number(process.env.BENCH_AUDIO_S ?? 60);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CHUNK_MS = 20;

interface Case {
  name: string;
  rate: number;
  /** Every chunk gated: the agent speaks on a board without AEC. */
  gated?: boolean;
}

const CASES: Case[] = [
  { name: "16 kHz (gateway pcm16)", rate: 16000 },
  { name: "8 kHz (G.711)", rate: 8000 },
  { name: "24 kHz (resampled to 16 kHz)", rate: 24000 },
  { name: "48 kHz", rate: 48000 },
  { name: "16 kHz, echo gate closed", rate: 16000, gated: true },
];

async function main(): Promise<void> {
  const speech16k = speechLoop(AUDIO_S, 0.8).subarray(0, AUDIO_S * 32000);
  const rows: Row[] = [];
  for (const c of CASES) {
    const pcm = c.rate === 16000 ? speech16k : await resampleAll(speech16k, 16000, c.rate);
    const chunkBytes = (c.rate * CHUNK_MS * 2) / 1000;
    const chunks: Buffer[] = [];
    for (let off = 0; off + chunkBytes <= pcm.length; off += chunkBytes) chunks.push(pcm.subarray(off, off + chunkBytes));
    const audioS = (chunks.length * CHUNK_MS) / 1000;
    const cpuMsPerS: number[] = [];
    const pushUs: number[] = [];
    let turns = 0;
    for (let run = 0; run < RUNS; run++) {
      const d = await LocalTurnDetector.create({ sampleRate: c.rate, prefixPaddingMs: 600, silenceDurationMs: 500 });
      const cpu = process.cpuUsage();
      for (const chunk of chunks) {
        const t = process.hrtime.bigint();
        for (const ev of d.push(chunk, c.gated ?? false)) if (ev.type === "speech.started") turns++;
        if (run === RUNS - 1) pushUs.push(Number(process.hrtime.bigint() - t) / 1000);
      }
      const used = process.cpuUsage(cpu);
      cpuMsPerS.push((used.user + used.system) / 1000 / audioS);
      d.close();
    }
    rows.push({ metric: `CPU per audio second, ${c.name}`, unit: "ms/s", values: cpuMsPerS, note: `${turns / RUNS} turns in ${audioS} s` });
    rows.push({ metric: `one 20 ms push, ${c.name}`, unit: "µs", values: pushUs });
  }
  console.log(table(rows));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
