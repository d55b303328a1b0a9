/**
 * `npm run bench`: push-to-talk latencies on the real rig (compiled daemon, arecord and
 * speaker on the rig's virtual sound card, emulator on loopback). Prints a table.
 */
import { startDevice, nextClientEvent, type Device } from "../support/device";
import type { TurnRecord } from "../../src/emulator/server";
import { table, type Row } from "./stats";

const TURNS = Number(process.env.BENCH_TURNS ?? 20);
const HOLD_MS = 1000;
const BYTES_PER_MS = 32; // 16 kHz mono S16_LE

const ns = (): bigint => process.hrtime.bigint();
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const hold = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

async function turn(dev: Device): Promise<{ turn: TurnRecord; upAt: bigint; heldMs: number }> {
  const pressedAt = ns();
  await dev.press();
  await hold(HOLD_MS);
  const done = dev.nextTurn();
  const upAt = ns();
  await dev.release();
  return { turn: await done, upAt, heldMs: ms(pressedAt, upAt) };
}

async function main(): Promise<void> {
  const rows: Record<string, Row> = {
    releaseWire: { metric: "key release → complete on the wire", unit: "ms", values: [], note: "control socket in, WebSocket out" },
    releaseDaemon: { metric: "key release → complete sent (in daemon)", unit: "ms", values: [] },
    deltaWrite: { metric: "first delta → first write to ALSA (in daemon)", unit: "ms", values: [] },
    releaseAudio: { metric: "key release → first reply audio received", unit: "ms", values: [], note: "echo agent answers at once" },
    edgeLoss: { metric: "held time − audio the agent got", unit: "ms", values: [], note: "capture latency at the release" },
    bargeWire: { metric: "key press in reply → cancel on the wire", unit: "ms", values: [] },
    rss: { metric: "daemon RSS after the run", unit: "MiB", values: [] },
  };
  const dev = await startDevice();
  try {
    for (let i = 0; i < TURNS; i++) {
      const from = dev.daemon.logs.length;
      const { turn: t, upAt, heldMs } = await turn(dev);
      await dev.daemon.waitForState("idle", 10_000, from + 2);
      const last = (await dev.status()).LastTurn as Record<string, number>;
      rows.releaseWire!.values.push(ms(upAt, t.completeAtNs));
      rows.releaseDaemon!.values.push(last.releaseToCommitMs!);
      rows.deltaWrite!.values.push(last.firstAudioToFirstWriteMs!);
      rows.releaseAudio!.values.push(last.releaseToFirstAudioMs!);
      rows.edgeLoss!.values.push(heldMs - t.audio.length / BYTES_PER_MS);
    }
    for (let i = 0; i < TURNS; i++) {
      const from = dev.daemon.logs.length;
      await dev.press();
      await hold(3000);
      await dev.release();
      // The 3 s reply takes the agent 0.75 s to send: press as soon as it speaks, while it still sends.
      await dev.daemon.waitForState("speaking", 10_000, from);
      const cancel = nextClientEvent(dev.emulator, "conversation.chat.cancel");
      const downAt = ns();
      await dev.press();
      rows.bargeWire!.values.push(ms(downAt, await cancel));
      const after = dev.daemon.logs.length;
      await dev.release();
      await dev.daemon.waitForLog((l) => l.msg === "state idle" || l.msg === "state error", 10_000, after);
    }
    const status = Number((await import("node:fs")).readFileSync(`/proc/${dev.daemon.child.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
    rows.rss!.values.push(status / 1024);
  } finally {
    await dev.stop();
  }
  process.stdout.write(`\ntalkbox push-to-talk bench — ${TURNS} turns of ${HOLD_MS} ms, 16 kHz PCM both ways, sim board on the ALSA rig\n\n`);
  process.stdout.write(`${table(Object.values(rows))}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
