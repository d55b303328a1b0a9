/**
 * The emulator's "bot": it answers every turn with the user's own audio, so a developer
 * hears the whole round trip and a test can compare what came back with what was sent.
 */
import { createResampler } from "../../codec/resampler";

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

/** Milliseconds of "speech" per character of a text answer, and the most a text answer lasts. */
const MS_PER_CHAR = 40;
const TEXT_REPLY_MAX_MS = 4000;

/**
 * The bot's answer to a text (a typed question, or its prologue): the emulator has no
 * speech synthesis, so the audio is a soft tone as long as the text would take to say,
 * which is enough for a client to be tested on a reply that did not start from audio.
 */
export function buildTextReply(text: string, outputRate: number): EchoReply {
  const ms = Math.min(TEXT_REPLY_MAX_MS, Math.max(200, text.length * MS_PER_CHAR));
  const samples = Math.round((outputRate * ms) / 1000);
  const fade = Math.round(outputRate / 100);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const envelope = Math.min(1, i / fade, (samples - 1 - i) / fade);
    pcm.writeInt16LE(Math.round(3000 * envelope * Math.sin((2 * Math.PI * 440 * i) / outputRate)), i * 2);
  }
  return { transcript: text, answer: text, pcm };
}
