/**
 * The ALSA test rig: real arecord and libasound (speaker) reading and writing files
 * through ALSA's file plugin, paced in real time by pacer.py. Tests point the
 * daemon's ordinary config keys (audio.input.device / audio.output.device) at it.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

const RIG_DIR = path.resolve(__dirname, "../../../test/rig");
export const ALSA_CONFIG_PATH = `/usr/share/alsa/alsa.conf:${path.join(RIG_DIR, "asound.conf")}`;

export interface RigOptions {
  /** What the mic hears, S16_LE mono at micRate. It is followed by noise up to `micSeconds`. */
  micPcm?: Buffer;
  micRate: number;
  spkRate: number;
  micSeconds?: number;
}

export interface Rig {
  dir: string;
  env: NodeJS.ProcessEnv;
  micDevice: string;
  spkDevice: string;
  /** Everything the mic hears, from the start: what a capture reads, in order. */
  micInput: Buffer;
  /** The bytes the speaker played so far. */
  speakerOut(): Buffer;
  /** Arrival of played chunks: [monotonic ns, byte offset, length]. */
  speakerTimes(): Array<[bigint, number, number]>;
  /** Resolves when the speaker device is next closed (everything written has been played). */
  speakerClosed(): Promise<number>;
  close(): Promise<void>;
}

/** Deterministic low-level noise, so every 20 ms of mic input is unique and can be located. */
export function noise(bytes: number, seed = 1, amplitude = 200): Buffer {
  const b = Buffer.alloc(bytes - (bytes % 2));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i += 2) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeInt16LE((x % (2 * amplitude + 1)) - amplitude, i);
  }
  return b;
}

interface Pacer {
  child: ChildProcess;
  /** Resolves with the byte count when the current writer closes the FIFO. */
  nextEof(): Promise<number>;
}

async function startPacer(fifo: string, out: string, rate: number, times?: string): Promise<Pacer> {
  const args = [path.join(RIG_DIR, "pacer.py"), fifo, out, "--rate", String(rate), "--announce"];
  if (times) args.push("--times", times);
  const child = spawn("python3", args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = readline.createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.once("line", () => resolve());
    child.once("exit", (code) => reject(new Error(`pacer exited (${code}) before it was ready`)));
  });
  return {
    child,
    nextEof: () =>
      new Promise((resolve) => {
        const on = (line: string): void => {
          if (!line.startsWith("eof ")) return;
          lines.off("line", on);
          resolve(Number(line.slice(4)));
        };
        lines.on("line", on);
      }),
  };
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-rig-"));
  const micBytes = Math.round((o.micSeconds ?? 90) * o.micRate) * 2;
  const head = o.micPcm ?? Buffer.alloc(0);
  const mic = Buffer.concat([head, noise(Math.max(0, micBytes - head.length), 7)]);
  fs.writeFileSync(path.join(dir, "in.raw"), mic);
  const micFifo = path.join(dir, "mic.fifo");
  const spkFifo = path.join(dir, "spk.fifo");
  execFileSync("mkfifo", [micFifo, spkFifo]);
  const pacers = [
    await startPacer(micFifo, path.join(dir, "mic.rec"), o.micRate * 2),
    await startPacer(spkFifo, path.join(dir, "spk.out"), o.spkRate * 2, path.join(dir, "spk.times")),
  ];
  const read = (name: string): Buffer => {
    const f = path.join(dir, name);
    return fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0);
  };
  return {
    dir,
    env: { ...process.env, ALSA_CONFIG_PATH },
    micDevice: `filemic:IN=${path.join(dir, "in.raw")},OUT=${micFifo}`,
    spkDevice: `filespk:OUT=${spkFifo}`,
    micInput: mic,
    speakerOut: () => read("spk.out"),
    speakerTimes: () =>
      read("spk.times")
        .toString("utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [ns, off, len] = l.split(" ");
          return [BigInt(ns!), Number(off), Number(len)] as [bigint, number, number];
        }),
    speakerClosed: () => pacers[1]!.nextEof(),
    async close() {
      await Promise.all(
        pacers.map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGTERM");
            }),
        ),
      );
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
