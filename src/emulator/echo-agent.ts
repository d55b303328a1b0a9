/**
 * The emulator's "bot": it answers every turn with the user's own audio, so a developer
 * hears the whole round trip and a test can compare what came back byte for byte.
 */
import { resamplePcm16 } from "./resample";

export interface EchoReply {
  /** What the transcript events say the user said. */
  transcript: string;
  /** The bot's text answer (message.delta and the audio caption). */
  answer: string;
  /** Reply audio: 16-bit mono PCM at the output rate. */
  pcm: Buffer;
}

export function buildEchoReply(userPcm: Buffer, inputRate: number, outputRate: number): EchoReply {
  const secs = (userPcm.length / 2 / inputRate).toFixed(2);
  return {
    transcript: `(emulator heard ${secs} s of audio)`,
    answer: `I heard ${secs} seconds of audio. Here it is back.`,
    pcm: resamplePcm16(userPcm, inputRate, outputRate),
  };
}
