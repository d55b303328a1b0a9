/**
 * The device's offline voice: espeak-ng (Debian's `espeak-ng` package), one child process
 * per announcement. The text goes in on stdin (never on the command line: it comes from
 * outside), a WAV stream comes out on stdout at espeak's own rate (22050 Hz), and is
 * resampled to the speaker's format chunk by chunk, so the first words play while the rest
 * is still being synthesised. Chosen over the neural voices (Piper and the like) because
 * it is a Debian package on every Pi OS, speaks Mandarin and English from one small
 * binary, and costs a few percent of one core (see the bench); it sounds robotic, which
 * for an alert or a fallback is acceptable and even telling: the device, not the agent, speaks.
 */
import { spawn } from "node:child_process";
import type { LocalVoice } from "../core/announcement";
import type { PcmFormat } from "../core/pcm";
import { createResampler, type Resampler } from "../codec/resampler";
import { fromMonoS16 } from "../codec/pcm16";

export interface EspeakOptions {
  /** The program (default espeak-ng). */
  command?: string;
  /**
   * An espeak-ng voice (`espeak-ng --voices`), or "auto": Mandarin (cmn) for a text with
   * Chinese characters, `fallbackVoice` otherwise.
   */
  voice: string;
  /** The voice "auto" uses for a text without Chinese characters. */
  fallbackVoice?: string;
  /** Words per minute (espeak's -s; its default is 175). */
  speedWpm: number;
  /** The speaker's format: what the audio is converted to. */
  device: PcmFormat;
}

/** More than this on stderr is not kept: the reason for a failure is in its first lines. */
const MAX_STDERR = 4096;
const HAN = /\p{Script=Han}/u;

export function espeakVoice(o: EspeakOptions): LocalVoice {
  const command = o.command ?? "espeak-ng";
  const voiceFor = (text: string): string => (o.voice !== "auto" ? o.voice : HAN.test(text) ? "cmn" : (o.fallbackVoice ?? "en-us"));
  return {
    name: `${command} ${o.voice}`,
    speak: (text, signal) => speak(command, voiceFor(text), o.speedWpm, o.device, text, signal),
  };
}

async function* speak(command: string, voice: string, wpm: number, device: PcmFormat, text: string, signal: AbortSignal): AsyncGenerator<Buffer> {
  if (signal.aborted) return;
  const child = spawn(command, ["--stdout", "--stdin", "-b", "1", "-v", voice, "-s", String(Math.round(wpm))], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < MAX_STDERR) stderr += d.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("close", (code) => resolve({ code }));
  });
  const kill = (): void => void child.kill("SIGKILL");
  signal.addEventListener("abort", kill, { once: true });
  child.stdin.on("error", () => {}); // a child that died early: its exit says why
  child.stdin.end(text, "utf8");
  const wav = new WavStream();
  let resampler: Resampler | null = null;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      if (signal.aborted) return;
      const pcm = wav.push(chunk);
      if (pcm.length === 0) continue;
      resampler ??= await createResampler(wav.rate, device.sampleRate);
      if (signal.aborted) return;
      const out = resampler.process(pcm);
      if (out.length > 0) yield fromMonoS16(out, device);
    }
    const end = await exited;
    if (signal.aborted) return;
    if (end.error) throw new Error(end.error.message.includes("ENOENT") ? `${command} is not installed (apt-get install espeak-ng)` : end.error.message);
    if (end.code !== 0) throw new Error(`${command} exited ${end.code}: ${stderr.trim().split("\n")[0] || "no message"} (voice '${voice}'; list voices with '${command} --voices')`);
    if (wav.rate === 0) throw new Error(`${command} produced no audio`);
  } finally {
    signal.removeEventListener("abort", kill);
    if (child.exitCode === null && child.signalCode === null) kill();
    resampler?.close();
  }
}

/**
 * A streamed WAV (espeak writes its header with an unknown length): the header is read,
 * then everything after the data chunk's header is mono S16_LE audio, whole samples only.
 */
class WavStream {
  rate = 0;
  private head = Buffer.alloc(0);
  private inData = false;
  private odd: Buffer | null = null;

  push(chunk: Buffer): Buffer {
    if (!this.inData) {
      this.head = Buffer.concat([this.head, chunk]);
      const start = this.parseHeader();
      if (start === null) {
        if (this.head.length > 4096) throw new Error("espeak-ng's output is not a WAV stream");
        return Buffer.alloc(0);
      }
      this.inData = true;
      chunk = this.head.subarray(start);
      this.head = Buffer.alloc(0);
    }
    if (this.odd) {
      chunk = Buffer.concat([this.odd, chunk]);
      this.odd = null;
    }
    if (chunk.length % 2 === 1) {
      this.odd = Buffer.from(chunk.subarray(chunk.length - 1));
      chunk = chunk.subarray(0, chunk.length - 1);
    }
    return chunk;
  }

  /** Where the audio starts, once the header is all there; checks it is what we can play. */
  private parseHeader(): number | null {
    const h = this.head;
    if (h.length < 12) return null;
    if (h.toString("ascii", 0, 4) !== "RIFF" || h.toString("ascii", 8, 12) !== "WAVE") throw new Error("espeak-ng's output is not a WAV stream");
    let off = 12;
    while (off + 8 <= h.length) {
      const id = h.toString("ascii", off, off + 4);
      const size = h.readUInt32LE(off + 4);
      if (id === "fmt ") {
        if (off + 8 + 16 > h.length) return null;
        const codec = h.readUInt16LE(off + 8);
        const channels = h.readUInt16LE(off + 10);
        const bits = h.readUInt16LE(off + 22);
        if (codec !== 1 || channels !== 1 || bits !== 16) throw new Error(`espeak-ng wrote ${bits}-bit ${channels}-channel audio (codec ${codec}); expected 16-bit mono PCM`);
        this.rate = h.readUInt32LE(off + 12);
      } else if (id === "data") {
        if (this.rate === 0) throw new Error("espeak-ng's WAV stream has no format before its data");
        return off + 8;
      }
      off += 8 + size + (size & 1);
    }
    return null;
  }
}
