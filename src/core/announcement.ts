/**
 * Announcements: text the device speaks on its own (seed 004's ExternalTextToSpeech, the
 * slow-reply and idle prompts, spoken alerts). The vocabulary the control command, the
 * state machine, the announcer and the backends share.
 */

/**
 * Seed 004's priorities. 1 (high): end the current interaction at once and speak now.
 * 2 (medium): speak when the current interaction ends; dropped if the user interrupts it by
 * voice. 3 (low): dropped if the device is interacting, else spoken.
 */
export type InterruptMode = 1 | 2 | 3;
export const INTERRUPT_MODES: readonly InterruptMode[] = [1, 2, 3];

/** Seed 004: "长度不超过 200 个字符" — characters (code points), not bytes. */
export const MAX_ANNOUNCEMENT_CHARS = 200;

/** Who asked for an announcement: the reply and the logs say it. */
export type AnnouncementSource = "command" | "slow-reply" | "idle-prompt" | "alert" | "agent-intro";

/** Which voice spoke it: the agent's own (synthesised by the cloud), or the device's offline voice. */
export type AnnouncementVoice = "agent" | "local";

/** What the device did with a request, at once. */
export type AnnouncementDecision = "spoken" | "queued" | "dropped";

export interface Announcement {
  id: string;
  text: string;
  mode: InterruptMode;
  source: AnnouncementSource;
}

/** The device's own offline voice (espeak-ng): text in, PCM in the device's format out. */
export interface LocalVoice {
  /** What spoke, for the logs and the command's reply: e.g. "espeak-ng cmn". */
  readonly name: string;
  /** The text's audio, chunk by chunk as it is synthesised; ends early once `signal` aborts. Throws when the voice cannot run. */
  speak(text: string, signal: AbortSignal): AsyncIterable<Buffer>;
}

/** How an announcement that was started ended. */
export type AnnouncementEnd =
  /** Heard to its end. */
  | { kind: "completed" }
  /** Cut short (a press, a newer high-priority one, the user's voice): `heardMs` of it came out. */
  | { kind: "interrupted"; heardMs: number }
  /** No voice could speak it. */
  | { kind: "failed"; message: string };

/** The length of `text` as the seed counts it: characters, so a 200-character Chinese sentence is valid. */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The first `chars` characters of `text` (never half a surrogate pair). */
export function firstChars(text: string, chars: number): string {
  if (chars <= 0) return "";
  let out = "";
  let n = 0;
  for (const c of text) {
    if (n++ >= chars) break;
    out += c;
  }
  return out;
}

/**
 * About how long a voice takes to say `text`, for when its audio has not all come yet (a voice
 * that streams in real time, cut early): a Chinese, Japanese or Korean character is a syllable,
 * about 200 ms; other characters about 65 ms (150 words a minute).
 */
export function typicalSpeechMs(text: string): number {
  let ms = 0;
  for (const c of text) ms += /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(c) ? 200 : 65;
  return ms;
}
