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
  /** Started again if it died: before measuring the process. */
  alive(): Promise<void>;
  press(): Promise<void>;
  release(): Promise<void>;
  /** Times the client's process died on its own. */
  readonly crashes: number;
  /** Errors the client survived (the peer's speaker failing a write it raced with a close). */
  readonly faults: number;
  /**
   * Ends a client that went silent without dying (the peer: a reply that never sounds after a
   * barge-in), so that the step can be done again on a fresh process; counted in `silences`.
   * talkbox has none: a silent talkbox is the bench's failure.
   */
  abandon?(): Promise<void>;
  readonly silences?: number;
  close(): Promise<void>;
}

/** Long enough that the mic never runs out (after its end the rig's mic is silent). */
export const MIC_SECONDS = 1800;
const TOKEN = "test-token-1234";
const BOT = "7000000000000000001";

/**
 * talkbox at its default log level (the tests run at debug); `opus`: Opus both ways on the
 * wire; `env`: added to the daemon's environment (TALKBOX_PLAYBACK_THREAD=worker);
 * `replyDelayMs`: how long its emulator thinks before a reply (default at once).
 */
export async function startTalkbox(o: { opus?: boolean; env?: NodeJS.ProcessEnv; name?: string; replyDelayMs?: number } = {}): Promise<BenchClient & { device: Device }> {
  const audio = o.opus ? { uplink_codec: "opus", downlink_codec: "opus", uplink_rate: 16000, downlink_rate: 16000 } : {};
  const device = await startDevice({
    rig: { micSeconds: MIC_SECONDS },
    config: { log: { level: "info" }, audio },
    emulator: { replyDelayMs: o.replyDelayMs ?? 0 },
    ...(o.env ? { env: o.env } : {}),
  });
  return {
    name: o.name ?? (o.opus ? "talkbox (Opus)" : "talkbox"),
    device,
    rig: device.rig,
    emulator: device.emulator,
    pid: () => device.daemon.child.pid!,
    alive: async () => {},
    press: async () => void (await device.press()),
    release: async () => void (await device.release()),
    get crashes() {
      return device.daemon.alive ? 0 : 1;
    },
    faults: 0,
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

/** `appendMs`: the peer cuts its chunks into appends of that length (see PeerConfig); `replyDelayMs` as for startTalkbox. */
export async function startPeer(audio: ReturnType<typeof audioOf>, o: { appendMs?: number; replyDelayMs?: number } = {}): Promise<BenchClient> {
  const emulator = await startEmulator({ replyDelayMs: o.replyDelayMs ?? 0 });
  const rig = await startRig({ micRate: 16000, micSeconds: MIC_SECONDS });
  const config: PeerConfig = { port: emulator.port, token: TOKEN, botId: BOT, micDevice: rig.micDevice, spkDevice: rig.spkDevice, rate: 16000, ...audio, ...(o.appendMs ? { appendMs: o.appendMs } : {}) };
  let child: ChildProcess;
  let crashes = 0;
  let silences = 0;
  let abandoning = false;
  let faults = 0;
  let closing = false;
  let waiting: { ev: PeerEvent["ev"]; resolve: () => void; reject: (e: Error) => void } | null = null;

  const launch = (): Promise<void> => {
    const self = spawn(process.execPath, [path.join(__dirname, "official-coze.js"), JSON.stringify(config)], {
      env: { ...process.env, ...rig.env },
      stdio: ["pipe", "pipe", "inherit"],
    });
    child = self;
    // A write to a peer that has just died fails with EPIPE; its exit is what counts.
    self.stdin!.on("error", () => {});
    readline.createInterface({ input: self.stdout! }).on("line", (line) => {
      if (child !== self) return;
      let e: PeerEvent;
      try {
        e = JSON.parse(line) as PeerEvent;
      } catch {
        return;
      }
      if (e.ev === "speaker-error") faults++;
      if (waiting?.ev === e.ev) {
        const w = waiting;
        waiting = null;
        w.resolve();
      }
    });
    self.once("exit", (code, signal) => {
      // Any end the bench did not ask for: a signal (SIGABRT, SIGSEGV) or an error nobody
      // handled (exit 1, e.g. the speaker's 'write() failed' after a close raced a write).
      if (abandoning) abandoning = false;
      else if (!closing) {
        crashes++;
        process.stderr.write(`bench: the official client exited (${signal ?? `code ${code}`}); counted as a crash\n`);
      }
      if (child !== self) return;
      waiting?.reject(new Error(`the peer exited (${signal ?? code}) while the bench waited for '${waiting.ev}'`));
      waiting = null;
    });
    return expect("ready");
  };
  /** The peer's next `ev`; a peer that neither says it nor dies within 10 s is the bench's failure. */
  const expect = (ev: PeerEvent["ev"]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (waiting?.ev === ev) waiting = null;
        reject(new Error(`the peer did not say '${ev}' within 10 s`));
      }, 10_000);
      const done = (f: () => void) => () => (clearTimeout(timer), f());
      waiting = { ev, resolve: done(resolve), reject: (e) => (clearTimeout(timer), reject(e)) };
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
    name: o.appendMs ? `official client (${o.appendMs} ms appends)` : "official client",
    rig,
    emulator,
    pid: () => child.pid!,
    alive: async () => {
      if (!alive()) await launch();
    },
    press: () => command("press", "pressed"),
    release: () => command("release", "released"),
    get crashes() {
      return crashes;
    },
    get faults() {
      return faults;
    },
    get silences() {
      return silences;
    },
    async abandon() {
      if (!alive()) return;
      silences++;
      abandoning = true;
      process.stderr.write("bench: the official client went silent; killed and started again\n");
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
    async close() {
      closing = true;
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
