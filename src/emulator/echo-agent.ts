/**
 * The emulator's "bot": it answers every turn with the user's own audio, so a developer
 * hears the whole round trip and a test can compare what came back with what was sent.
 */
import { createResampler } from "../audio/resampler";

export interface EchoReply {
  /** What the transcript events say the user said. */
  transcript: string;
  /** The bot's text answer (message.delta and the audio caption). */
  answer: string;
  /** Reply audio: 16-bit mono PCM at the output rate. */
  pcm: Buffer;
}

/** Silence fed after the audio to push out what the resampler's filter holds back (a few ms). */
const FLUSH_MS = 50;

export async function buildEchoReply(userPcm: Buffer, inputRate: number, outputRate: number): Promise<EchoReply> {
  const secs = (userPcm.length / 2 / inputRate).toFixed(2);
  return {
    transcript: `(emulator heard ${secs} s of audio)`,
    answer: `I heard ${secs} seconds of audio. Here it is back.`,
    pcm: await resampleWhole(userPcm, inputRate, outputRate),
  };
}

/** Band-limited resampling of a whole buffer, exactly `round(samples × outputRate / inputRate)` samples long. */
async function resampleWhole(pcm: Buffer, inputRate: number, outputRate: number): Promise<Buffer> {
  if (inputRate === outputRate) return Buffer.from(pcm);
  const outBytes = Math.round(((pcm.length >> 1) * outputRate) / inputRate) * 2;
  const resampler = await createResampler(inputRate, outputRate);
  try {
    const out = Buffer.concat([resampler.process(pcm), resampler.process(Buffer.alloc(Math.round((inputRate * FLUSH_MS) / 1000) * 2))]);
    // libsamplerate compensates its delay at the start, so the first outBytes are the signal.
    return out.length >= outBytes ? out.subarray(0, outBytes) : Buffer.concat([out, Buffer.alloc(outBytes - out.length)]);
  } finally {
    resampler.close();
  }
}
