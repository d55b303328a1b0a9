/** What the emulator remembers about its clients, for tests and for the developer's log. */
import type { WireEvent } from "../agent/coze/protocol";

export interface ClientEventRecord {
  /** null when the message could not be decoded (binary frame, not JSON, no event_type). */
  event: WireEvent<Record<string, unknown>> | null;
  raw: string;
  /** process.hrtime.bigint() at receipt. */
  atNs: bigint;
}

export interface TurnRecord {
  session: number;
  chatId: string;
  /** Decoded PCM 16-bit mono the user sent in this turn, at the session's input rate. */
  audio: Buffer;
  appendAtNs: bigint[];
  appendBytes: number[];
  completeAtNs: bigint;
  /** PCM the agent sent back before wire encoding; on a cut-short reply only what was sent. */
  reply: Buffer;
  /** process.hrtime.bigint() when the reply's first audio delta was sent; null if none was. */
  firstAudioAtNs: bigint | null;
  /** The reply was cut short: by conversation.chat.cancel or by the connection closing. */
  canceled: boolean;
}
