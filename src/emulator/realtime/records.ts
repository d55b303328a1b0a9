/** What the Realtime endpoint remembers about its clients, for tests and for the developer's log. */
import type { ToolCallRecord, VadEventRecord } from "../shared/records";

/**
 * Which server the connection behaves like: `openai` when the handshake carries
 * `OpenAI-Beta: realtime=v1`, else the Volcengine AI gateway.
 */
export type Flavour = "openai" | "volcengine";

export interface RealtimeClientEventRecord {
  /** The parsed message; null when it was not a JSON object. */
  event: Record<string, unknown> | null;
  /** Its `type`, when it had a string one. */
  type: string | null;
  raw: string;
  /** process.hrtime.bigint() of the socket read that brought it (shared/arrival.ts). */
  atNs: bigint;
}

/** A user audio item: a client commit, or an utterance server VAD cut. */
export interface CommitRecord {
  itemId: string;
  by: "client" | "server_vad";
  /** Decoded PCM 16-bit mono at the session's input rate. */
  audio: Buffer;
  /** Wire bytes of the appends that carried it (base64-decoded). */
  bytes: number;
  /** Duration of `audio`. */
  ms: number;
  /** Receipt time of each append that carried it (server VAD: the appends that overlap it). */
  appendAtNs: bigint[];
  /** Receipt of the commit; server VAD: of the append that ended the speech. */
  atNs: bigint;
}

/** Why a response ended early: response.cancel, user speech (server VAD), or the connection closing. */
export type RealtimeCancelReason = "client_cancelled" | "turn_detected" | "connection";

export interface TruncateRecord {
  itemId: string;
  contentIndex: number;
  audioEndMs: number;
  atNs: bigint;
}

export interface RealtimeResponseRecord {
  session: number;
  id: string;
  status: "in_progress" | "completed" | "cancelled";
  cancelReason: RealtimeCancelReason | null;
  /** The assistant audio message's item id; null for a function-call response. */
  itemId: string | null;
  /** The scripted calls this response made instead of speaking; empty for an audio response. */
  toolCalls: ToolCallRecord[];
  /** The `response` object of response.create; null when server VAD started it. */
  request: Record<string, unknown> | null;
  /** PCM at the output rate of the audio deltas that went out. */
  audio: Buffer;
  audioMs: number;
  createdAtNs: bigint;
  /** When the first audio delta went out; null if none did. */
  firstAudioAtNs: bigint | null;
  /** When response.done went out (or the connection closed); null while in progress. */
  doneAtNs: bigint | null;
  /** conversation.item.truncate for this response's item, once the client sends it. */
  truncate: TruncateRecord | null;
}

export interface FunctionCallOutputRecord {
  itemId: string;
  callId: string;
  output: string;
  atNs: bigint;
}

/** An `error` event the endpoint sent. */
export interface RealtimeErrorRecord {
  type: string;
  code: string | null;
  message: string;
  /** The offending client event's event_id, when it had one. */
  eventId: string | null;
  atNs: bigint;
}

export interface RealtimeSessionView {
  index: number;
  flavour: Flavour;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  /** session.id of session.created: new, or the X-Conversation-Id header's value. */
  sessionId: string;
  /** The handshake carried X-Conversation-Id (a continued conversation). */
  resumed: boolean;
  /** ag-coze-bot-id (Volcengine Coze-bot mode), else null. */
  cozeBotId: string | null;
  /** ag-custom-model, else null. */
  customModel: string | null;
  /** The effective session (the last session.created/session.updated body), tools included. */
  session: Record<string, unknown>;
  /** The live lists; they grow as the session goes on. */
  received: RealtimeClientEventRecord[];
  commits: CommitRecord[];
  responses: RealtimeResponseRecord[];
  functionCallOutputs: FunctionCallOutputRecord[];
  errors: RealtimeErrorRecord[];
  vadEvents: VadEventRecord[];
  open: boolean;
  /** When the endpoint closed the connection for want of client messages (Volcengine's idle close). */
  idleClosedAtNs: bigint | null;
}
