/**
 * The two clients of the side-by-side bench behind one face: talkbox (the compiled daemon
 * on the sim board, pressed through its control socket) and the official-client peer
 * (peer/official-coze.ts, pressed through its stdin). Each has its own emulator and its
 * own rig — the same virtual card, the same mic content, the same rates — so neither
 * hears or plays over the other. A peer that crashes is counted and started again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { startEmulator, type Emulator, type TurnRecord } from "../../../src/emulator/server";
import { startRig, type Rig } from "../../rig/rig";
import { startDevice, type Device } from "../../support/device";
import type { PeerConfig, PeerEvent } from "./official-coze";

export interface BenchClient {
  readonly name: string;
  readonly rig: Rig;
  readonly emulator: Emulator;
  /** The client's own process (not arecord, which both run as a child). */
  pid(): number;
  press(): Promise<void>;
  release(): Promise<void>;
  /** Times the client's process died on its own. */
  readonly crashes: number;
  close(): Promise<void>;
}

/** Long enough that the mic never runs out (after its end the rig's mic is silent). */
export const MIC_SECONDS = 1800;
const TOKEN = "test-token-1234";
const BOT = "7000000000000000001";

export async function startTalkbox(): Promise<BenchClient & { device: Device }> {
  const device = await startDevice({ rig: { micSeconds: MIC_SECONDS } });
  return {
    name: "talkbox",
    device,
    rig: device.rig,
    emulator: device.emulator,
    pid: () => device.daemon.child.pid!,
    press: async () => void (await device.press()),
    release: async () => void (await device.release()),
    get crashes() {
      return device.daemon.alive ? 0 : 1;
    },
    close: async () => void (await device.stop()),
  };
}

/** The `input_audio` and `output_audio` talkbox sent: the peer asks for the same. */
export function audioOf(talkbox: BenchClient): { inputAudio: Record<string, unknown>; outputAudio: Record<string, unknown> } {
  const update = talkbox.emulator.sessions()[0]?.received.find((r) => r.event?.event_type === "chat.update")?.event as { data?: Record<string, unknown> } | undefined;
  const data = update?.data;
  if (!data?.input_audio || !data.output_audio) throw new Error("talkbox sent no chat.update with input_audio and output_audio");
  return { inputAudio: data.input_audio as Record<string, unknown>, outputAudio: data.output_audio as Record<string, unknown> };
}

export async function startPeer(audio: ReturnType<typeof audioOf>): Promise<BenchClient> {
  const emulator = await startEmulator({});
  const rig = await startRig({ micRate: 16000, micSeconds: MIC_SECONDS });
  const config: PeerConfig = { port: emulator.port, token: TOKEN, botId: BOT, micDevice: rig.micDevice, spkDevice: rig.spkDevice, rate: 16000, ...audio };
  let child: ChildProcess;
  let crashes = 0;
  let waiting: { ev: PeerEvent["ev"]; resolve: () => void; reject: (e: Error) => void } | null = null;

  const launch = (): Promise<void> => {
    child = spawn(process.execPath, [path.join(__dirname, "official-coze.js"), JSON.stringify(config)], {
      env: { ...process.env, ...rig.env },
      stdio: ["pipe", "pipe", "inherit"],
    });
    readline.createInterface({ input: child.stdout! }).on("line", (line) => {
      let e: PeerEvent;
      try {
        e = JSON.parse(line) as PeerEvent;
      } catch {
        return;
      }
      if (waiting?.ev === e.ev) {
        const w = waiting;
        waiting = null;
        w.resolve();
      }
    });
    child.once("exit", (code, signal) => {
      if (signal && signal !== "SIGTERM") crashes++;
      waiting?.reject(new Error(`the peer exited (${signal ?? code}) while the bench waited for '${waiting.ev}'`));
      waiting = null;
    });
    return expect("ready");
  };
  const expect = (ev: PeerEvent["ev"]): Promise<void> =>
    new Promise((resolve, reject) => {
      waiting = { ev, resolve, reject };
    });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const command = async (cmd: "press" | "release", ack: PeerEvent["ev"]): Promise<void> => {
    if (!alive()) await launch();
    const acked = expect(ack);
    child.stdin!.write(`${cmd}\n`);
    try {
      await acked;
    } catch (err) {
      // The peer died with the command in flight (counted in `crashes`): a user would start it
      // again and press again. A second death in a row is the bench's failure, not the peer's.
      if (alive()) throw err;
      await launch();
      const again = expect(ack);
      child.stdin!.write(`${cmd}\n`);
      await again;
    }
  };

  await launch();
  return {
    name: "official client",
    rig,
    emulator,
    pid: () => child.pid!,
    press: () => command("press", "pressed"),
    release: () => command("release", "released"),
    get crashes() {
      return crashes;
    },
    async close() {
      if (alive()) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
      await emulator.close();
      await rig.close();
    },
  };
}

export type { TurnRecord };
