/** Speech for tests: the sim board's fixture (espeak-ng, 16 kHz mono S16_LE), and layouts of it. */
import fs from "node:fs";
import path from "node:path";
import { createResampler } from "../../src/codec/resampler";
import { fromMonoS16 } from "../../src/codec/pcm16";
import type { PcmFormat } from "../../src/core/pcm";

export const SPEECH_16K = fs.readFileSync(path.resolve(__dirname, "../../../boards/sim/speech-16k.raw"));

export function silence(rate: number, seconds: number, frameBytes = 2): Buffer {
  return Buffer.alloc(Math.round(rate * seconds) * frameBytes);
}

/** Speech repeated with pauses, long enough for any press in a test to land in it. */
export function speechLoop(seconds: number, pause = 0.3): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  while (total < seconds * 32000) {
    parts.push(SPEECH_16K, silence(16000, pause));
    total += SPEECH_16K.length + pause * 32000;
  }
  return Buffer.concat(parts);
}

/** 16 kHz mono S16 → another device layout (rate, channels, S16/S32). */
export async function toDevice(pcm16k: Buffer, device: PcmFormat): Promise<Buffer> {
  const r = await createResampler(16000, device.sampleRate);
  const out = fromMonoS16(r.process(pcm16k), device);
  r.close();
  return out;
}

/** Resamples mono S16 PCM in one go (a reference for comparisons). */
export async function resampleAll(pcm: Buffer, from: number, to: number): Promise<Buffer> {
  const r = await createResampler(from, to);
  const out = Buffer.concat([r.process(pcm), r.process(Buffer.alloc(Math.ceil(from / 10) * 2))]);
  r.close();
  return out;
}
