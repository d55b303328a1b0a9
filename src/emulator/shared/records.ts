/** What the emulator remembers about its clients, for tests and for the developer's log. */
import type { WireEvent } from "../../agent/coze/protocol";

export interface ClientEventRecord {
  /** null when the message could not be decoded (binary frame, not JSON, no event_type). */
  event: WireEvent<Record<string, unknown>> | null;
  raw: string;
  /** process.hrtime.bigint() of the socket read that brought it (shared/arrival.ts). */
  atNs: bigint;
}

/** Who cut a reply short: `conversation.chat.cancel`, new user speech (server_vad), or the connection closing. */
export type CanceledBy = "client" | "user_speech" | "connection";

export interface TurnRecord {
  session: number;
  chatId: string;
  /** Coze: the conversation the chat belongs to, and the user it was for (chat_config.user_id). */
  conversationId?: string;
  userId?: string;
  /** Decoded PCM 16-bit mono the user sent in this turn, at the session's input rate. */
  audio: Buffer;
  /**
   * One entry per append that carried this turn's audio: receipt time and wire payload size
   * (bytes of the decoded base64: PCM bytes, G.711 bytes or one Opus packet). In server_vad
   * these are the appends that overlap the turn's audio, prefix padding included.
   */
  appendAtNs: bigint[];
  appendBytes: number[];
  /** Receipt of input_audio_buffer.complete; in server_vad, receipt of the append that ended the speech. */
  completeAtNs: bigint;
  /**
   * PCM at the output rate before wire encoding; on a cut-short reply only what was sent.
   * For Opus the last frame is padded with silence to a whole frame, and this includes the padding.
   */
  reply: Buffer;
  /** process.hrtime.bigint() when the reply's first audio delta was sent; null if none was. */
  firstAudioAtNs: bigint | null;
  /** The reply was cut short. */
  canceled: boolean;
  /** Why it was cut short; null when it completed. */
  canceledBy: CanceledBy | null;
  /** Scripted tool calls this chat asked for (requires_action) before it spoke; empty for most turns. */
  toolCalls: ToolCallRecord[];
}

/** A server_vad decision, in the order the events went out. */
export interface VadEventRecord {
  type: "speech_started" | "speech_stopped";
  /** process.hrtime.bigint() when the event was sent. */
  atNs: bigint;
}

/** Which endpoint a tool call went out on. */
export type ToolEndpoint = "coze" | "realtime";

/** What a test asks the agent to call next (Emulator.scriptToolCall). */
export interface ScriptedToolCall {
  name: string;
  /** Raw JSON text, passed through verbatim: it may be invalid on purpose. */
  arguments: string;
}

export interface ToolCallRecord extends ScriptedToolCall {
  /** The id the client must answer with (Coze tool_call_id, Realtime call_id). */
  callId: string;
}

/** A tool's answer as the client sent it. */
export interface ToolOutputRecord {
  endpoint: ToolEndpoint;
  /** Session index within its endpoint (Emulator.sessions() or Emulator.realtimeSessions()). */
  session: number;
  callId: string;
  name: string;
  output: string;
  /** process.hrtime.bigint() of the socket read that brought it (shared/arrival.ts). */
  atNs: bigint;
}
