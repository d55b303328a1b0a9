/**
 * The emulator's synthesised "speech": a 660 Hz tone of SPEECH_MS_PER_CHAR per character of
 * the text, so a test can tell it from the echo agent's replies and check its length. Coze's
 * speech synthesis says announcements with it, and so does a Realtime model told to say a text.
 */

/** How long the emulator speaks a character. */
export const SPEECH_MS_PER_CHAR = 120;
export const SPEECH_TONE_HZ = 660;

/** `count` samples of the emulator's speech tone from sample `from`, mono S16_LE. */
export function tone(from: number, count: number, rate: number): Buffer {
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * SPEECH_TONE_HZ * (from + i)) / rate)), i * 2);
  return out;
}

/** `text` said at `rate`, whole. */
export function spokenText(text: string, rate: number): Buffer {
  const samples = Math.round(([...text].length * SPEECH_MS_PER_CHAR * rate) / 1000);
  return tone(0, samples, rate);
}
