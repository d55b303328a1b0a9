/**
 * The ALSA test rig: real arecord and libasound (speaker) on a virtual real-time
 * sound card (rigpcm.c, an ALSA I/O plugin). Capture reads a file, playback writes
 * one, both paced by the clock like a real card; a played byte reaches the output
 * file when the card plays it, and a drop discards what was not played. Tests point
 * the daemon's ordinary config keys (audio.input.device / audio.output.device) at it.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const RIG_DIR = path.resolve(__dirname, "../../../test/rig");
const PLUGIN = path.join(RIG_DIR, "build", "libasound_module_pcm_talkbox_rig.so");

export interface RigOptions {
  /** What the mic hears, S16_LE mono at micRate. It is followed by noise up to `micSeconds`. */
  micPcm?: Buffer;
  micRate: number;
  /** Bytes per mic frame (channels × sample size); 2 for mono S16_LE. */
  micFrameBytes?: number;
  /** The mic also hears what the speaker plays (mono S16_LE at the same rate): no echo cancellation. */
  loopback?: boolean;
  micSeconds?: number;
  /**
   * false: ALSA's `default` device is left as alsa.conf has it, which on a machine without
   * a sound card cannot be opened (a headless Pi whose default is HDMI is the same).
   */
  defaultPcm?: boolean;
}

export interface Rig {
  dir: string;
  /** The environment that makes ALSA programs see the rig's devices. */
  env: NodeJS.ProcessEnv;
  micDevice: string;
  spkDevice: string;
  /** Everything the mic hears, from the start: what a capture reads, in order. */
  micInput: Buffer;
  /** The bytes the speaker played so far (all playback streams, in order). */
  speakerOut(): Buffer;
  /** Played chunks: [CLOCK_MONOTONIC ns at which the chunk's first byte was played, byte offset, length]. */
  speakerTimes(): Chunk[];
  /** The same, per playback stream (each open of the speaker device). */
  speakerStreams(): PlaybackStream[];
  /** Captured chunks: [CLOCK_MONOTONIC ns at which the chunk's first byte was captured, offset, length]. */
  micTimes(): Chunk[];
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

let built = false;

/** Compiles the plugin if it is missing or stale (quick no-op otherwise). */
function buildRigPlugin(): string {
  if (!built) {
    try {
      execFileSync("bash", [path.join(RIG_DIR, "build.sh")], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
      throw new Error(`building the ALSA rig plugin failed (needs gcc and libasound2-dev; scripts/setup.sh installs them): ${stderr || (err as Error).message}`);
    }
    built = true;
  }
  return PLUGIN;
}

/** ALSA config string syntax: quoted, with backslashes and quotes escaped. */
const q = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

interface RigFiles {
  spkOut: string;
  spkLog: string;
  micIn: string;
  micLog: string;
  /** Mixed into the capture (a speaker's `out`), if set. */
  loopback?: string;
}

/**
 * Writes an ALSA config into `dir` defining `rigspk` (playback into spkOut, chunk
 * times into spkLog) and `rigmic` (capture from micIn, chunk times into micLog);
 * returns the environment that selects it.
 */
function writeRigConfig(dir: string, f: RigFiles, defaultPcm: boolean): NodeJS.ProcessEnv {
  const conf = path.join(dir, "asound.conf");
  fs.writeFileSync(
    conf,
    [
      `pcm_type.talkbox_rig { lib ${q(buildRigPlugin())} }`,
      ...(defaultPcm ? ["# Unpatched, speaker probes 'default' when it loads and aborts the process without one.", "pcm.!default { type null }"] : []),
      `pcm.rigspk { type talkbox_rig; out ${q(f.spkOut)}; log ${q(f.spkLog)} }`,
      `pcm.rigmic { type talkbox_rig; infile ${q(f.micIn)}; capture_log ${q(f.micLog)}${f.loopback ? `; loopback ${q(f.loopback)}` : ""} }`,
      "",
    ].join("\n"),
  );
  // alsa.conf first: listing only our file would lose the built-in PCM types.
  return { ...process.env, ALSA_CONFIG_PATH: `/usr/share/alsa/alsa.conf:${conf}` };
}

/** [CLOCK_MONOTONIC ns at which the chunk's first byte was played or captured, byte offset, length]. */
export type Chunk = [bigint, number, number];

export interface RigLog {
  chunks: Chunk[];
  /** Stream opens: when, and the output offset the stream starts at. */
  opens: Array<{ ns: bigint; offset: number }>;
  xruns: bigint[];
  closes: bigint[];
}

export interface PlaybackStream {
  openedNs: bigint;
  /** What this stream played. */
  bytes: Buffer;
  /** Its chunks, offsets relative to `bytes`. */
  chunks: Chunk[];
}

/** Parses a rig log: "<ns> <offset> <length>" per chunk, "open|xrun|stop|close <ns> …" events. */
export function parseRigLog(text: string): RigLog {
  const log: RigLog = { chunks: [], opens: [], xruns: [], closes: [] };
  for (const line of text.split("\n")) {
    const [a, b, c] = line.split(" ");
    if (/^\d/.test(line)) log.chunks.push([BigInt(a!), Number(b), Number(c)]);
    else if (a === "open") log.opens.push({ ns: BigInt(b!), offset: Number(c) });
    else if (a === "xrun") log.xruns.push(BigInt(b!));
    else if (a === "close") log.closes.push(BigInt(b!));
  }
  return log;
}

function splitStreams(out: Buffer, log: RigLog): PlaybackStream[] {
  return log.opens.map(({ ns, offset }, i) => {
    const end = log.opens[i + 1]?.offset ?? out.length;
    return {
      openedNs: ns,
      bytes: out.subarray(offset, end),
      chunks: log.chunks.filter(([, off]) => off >= offset && off < end).map(([t, off, len]): Chunk => [t, off - offset, len]),
    };
  });
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-rig-"));
  const micBytes = Math.round((o.micSeconds ?? 90) * o.micRate) * (o.micFrameBytes ?? 2);
  const head = o.micPcm ?? Buffer.alloc(0);
  const mic = Buffer.concat([head, noise(Math.max(0, micBytes - head.length), 7)]);
  const files: RigFiles = {
    spkOut: path.join(dir, "spk.out"),
    spkLog: path.join(dir, "spk.log"),
    micIn: path.join(dir, "in.raw"),
    micLog: path.join(dir, "mic.log"),
  };
  if (o.loopback) files.loopback = files.spkOut;
  fs.writeFileSync(files.micIn, mic);
  const env = writeRigConfig(dir, files, o.defaultPcm ?? true);
  const read = (f: string): Buffer => (fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
  return {
    dir,
    env,
    micDevice: "rigmic",
    spkDevice: "rigspk",
    micInput: mic,
    speakerOut: () => read(files.spkOut),
    speakerTimes: () => parseRigLog(read(files.spkLog).toString("utf8")).chunks,
    speakerStreams: () => {
      // The log first: every chunk it lists is already in the output.
      const log = parseRigLog(read(files.spkLog).toString("utf8"));
      return splitStreams(read(files.spkOut), log);
    },
    micTimes: () => parseRigLog(read(files.micLog).toString("utf8")).chunks,
    async close() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
