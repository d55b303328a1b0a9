/**
 * Earcons: short sounds that say the device starts or stops listening, or that something went
 * wrong, for someone who cannot look at an LED (a driver). They are cues (shared-playback.ts):
 * played on a quiet speaker only, cut by the voice, outside every reply timing; the mic is not
 * held back for them. Which sound goes with which change of state is decided here, from the
 * machine's state changes, as the LEDs are.
 */
import { promises as fs } from "node:fs";
import { parseWav } from "../audio/wav";
import { fromMonoS16 } from "../codec/pcm16";
import { createResampler } from "../codec/resampler";
import type { DeviceState } from "../core/device-state";
import { msFor, type PcmFormat } from "../core/pcm";
import type { Logger } from "../log/logger";
import type { SharedPlayback } from "./shared-playback";

export const EARCON_NAMES = ["listen_start", "listen_stop", "error"] as const;
export type EarconName = (typeof EARCON_NAMES)[number];

/** Each sound in the speaker's format; a name without one is off. */
export type EarconSounds = Partial<Record<EarconName, Buffer>>;

/** A longer sound is not an earcon: it would hold the speaker and hide what follows it. */
export const MAX_EARCON_MS = 2000;
/** Read no further than this from a file (2 s of 48 kHz stereo, and the header). */
const MAX_FILE_BYTES = 400 * 1024;

/**
 * The sounds from their WAV files, in the speaker's format. A file that is missing or not a
 * short 16-bit PCM WAV leaves its sound off, with a warning saying how to fix it: a sound is
 * never a reason for the device not to start.
 */
export async function loadEarcons(files: Partial<Record<EarconName, string>>, device: PcmFormat, log: Logger): Promise<EarconSounds> {
  const sounds: EarconSounds = {};
  for (const name of EARCON_NAMES) {
    const file = files[name];
    if (!file) continue;
    try {
      sounds[name] = await loadOne(file, device);
    } catch (err) {
      log.warn(
        `earcons.${name}: ${file}: ${(err as Error).message}; that sound is off. Use a 16-bit PCM WAV file of at most ${MAX_EARCON_MS / 1000} s (sox in.wav -b 16 out.wav trim 0 2), or set earcons.${name}: builtin`,
      );
    }
  }
  return sounds;
}

async function loadOne(file: string, device: PcmFormat): Promise<Buffer> {
  const handle = await fs.open(file, "r");
  let buf: Buffer;
  try {
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) throw new Error(`it is ${Math.round(size / 1024)} KiB, too long for an earcon`);
    buf = await handle.readFile();
  } finally {
    await handle.close();
  }
  const wav = parseWav(buf);
  const ms = msFor({ sampleRate: wav.sampleRate, channels: wav.channels }, wav.pcm.length);
  if (ms > MAX_EARCON_MS) throw new Error(`it lasts ${Math.round(ms)} ms`);
  if (wav.pcm.length === 0) throw new Error("it has no audio");
  const mono = wav.channels === 1 ? wav.pcm : downmix(wav.pcm);
  const resampler = await createResampler(wav.sampleRate, device.sampleRate);
  try {
    // The silence pushes out what the resampler's filter holds back.
    const tail = Buffer.alloc(Math.round(wav.sampleRate / 50) * 2);
    return fromMonoS16(Buffer.concat([resampler.process(mono), resampler.process(tail)]), device);
  } finally {
    resampler.close();
  }
}

function downmix(stereo: Buffer): Buffer {
  const out = Buffer.alloc(stereo.length / 2);
  for (let i = 0, o = 0; i + 3 < stereo.length; i += 4, o += 2) out.writeInt16LE((stereo.readInt16LE(i) + stereo.readInt16LE(i + 2)) >> 1, o);
  return out;
}

/** The sound for a change of state, if any. */
export function earconFor(from: DeviceState, to: DeviceState, cause: string): EarconName | null {
  if (to === "error") return "error";
  // A press or a mode switch opens the mic (a push-to-talk turn, barge-in included; unmuting).
  if (to === "listening" && (cause === "button.down" || cause === "mode")) return "listen_start";
  // The release ends the turn; a press in free conversation mutes.
  if (from === "listening" && (cause === "button.up" || cause === "button.down" || cause === "mode")) return "listen_stop";
  return null;
}

export class Earcons {
  constructor(
    private readonly o: {
      sounds: EarconSounds;
      speaker: Pick<SharedPlayback, "startCue" | "writeCue" | "endCue">;
      log: Logger;
    },
  ) {}

  stateChanged(from: DeviceState, to: DeviceState, cause: string): void {
    const name = earconFor(from, to, cause);
    const pcm = name ? this.o.sounds[name] : undefined;
    if (!name || !pcm) return;
    if (!this.o.speaker.startCue()) {
      this.o.log.debug({ earcon: name }, "earcon not played: the speaker is busy");
      return;
    }
    this.o.speaker.writeCue(pcm);
    this.o.speaker.endCue();
  }
}
