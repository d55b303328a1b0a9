/**
 * Coze realtime voice chat (`/v1/chat`) wire format, both directions: the client
 * encodes client events and decodes server events; the emulator does the reverse.
 * Nothing here touches a socket.
 */
import { randomUUID } from "node:crypto";
import { decodeJsonFrame } from "../link/json-frame";

export type CozeCodec = "pcm" | "opus" | "g711a" | "g711u";

export interface LimitConfig {
  period: number;
  max_frame_num: number;
}

export interface ChatUpdateData {
  chat_config?: {
    conversation_id?: string;
    user_id?: string;
    meta_data?: Record<string, string>;
    custom_variables?: Record<string, string>;
    extra_params?: Record<string, string>;
    auto_save_history?: boolean;
    parameters?: Record<string, unknown>;
  };
  input_audio?: {
    format: "pcm";
    codec: CozeCodec;
    sample_rate: number;
    channel: number;
    bit_depth: number;
  };
  output_audio?: {
    codec: CozeCodec;
    pcm_config?: { sample_rate: number; frame_size_ms?: number; limit_config?: LimitConfig };
    opus_config?: { sample_rate?: number; bitrate?: number; use_cbr?: boolean; frame_size_ms?: number; limit_config?: LimitConfig };
    speech_rate?: number;
    voice_id?: string;
  };
  turn_detection?: {
    type: "client_interrupt" | "server_vad";
    prefix_padding_ms?: number;
    silence_duration_ms?: number;
  };
  event_subscriptions?: string[];
  need_play_prologue?: boolean;
  prologue_content?: string;
}

export interface WireEvent<T = unknown> {
  id: string;
  event_type: string;
  data?: T;
  detail?: { logid?: string; origin_message?: string };
}

export const ErrorCode = {
  BadParameter: 4000,
  DailyLimit: 4008,
  Busy: 4009,
  OutOfTokens: 4011,
  BotNotPublished: 4015,
  ChatRunning: 4016,
  BadAuth: 4100,
  NoPermission: 4101,
  RiskControl: 4102,
  CannotCancel: 4104,
  Internal: 5000,
} as const;

/** What the user should do about a server error code. */
export function errorHint(code: number | string): string | undefined {
  switch (Number(code)) {
    case ErrorCode.BadAuth:
      return "the token is invalid or expired: create a new personal access token and set agent.token or TALKBOX_TOKEN";
    case ErrorCode.NoPermission:
      return "the token lacks permission for this bot or for voice chat: grant the token access to the bot's workspace";
    case ErrorCode.BotNotPublished:
      return "the bot is not published as an API service: publish it (Publish → API) and try again";
    case ErrorCode.DailyLimit:
    case ErrorCode.OutOfTokens:
      return "the account's quota is used up: check the Coze billing page";
    case ErrorCode.Busy:
      return "the service is busy: try again in a moment";
    default:
      return undefined;
  }
}

export function isAuthError(code: number | string): boolean {
  const n = Number(code);
  return n === ErrorCode.BadAuth || n === ErrorCode.NoPermission;
}

export function encodeEvent<T>(event_type: string, data?: T, id: string = randomUUID()): string {
  const ev: WireEvent<T> = data === undefined ? { id, event_type } : { id, event_type, data };
  return JSON.stringify(ev);
}

export type Decoded = { ok: true; event: WireEvent<Record<string, unknown>> } | { ok: false; reason: string };

/** Parses one WebSocket message; never throws. */
export function decodeEvent(raw: Buffer | string, isBinary: boolean): Decoded {
  const frame = decodeJsonFrame(raw, isBinary);
  if (!frame.ok) return frame;
  const obj = frame.fields;
  if (typeof obj.event_type !== "string" || obj.event_type.length === 0) return { ok: false, reason: "missing event_type" };
  if (obj.data !== undefined && (typeof obj.data !== "object" || obj.data === null || Array.isArray(obj.data))) {
    return { ok: false, reason: `${obj.event_type}: data is not an object` };
  }
  return {
    ok: true,
    event: {
      id: typeof obj.id === "string" ? obj.id : "",
      event_type: obj.event_type,
      data: (obj.data as Record<string, unknown> | undefined) ?? undefined,
      detail: typeof obj.detail === "object" && obj.detail !== null ? (obj.detail as WireEvent["detail"]) : undefined,
    },
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 decoding: Buffer.from silently skips garbage, which would hide a broken peer. */
export function decodeBase64(s: unknown): Buffer | null {
  if (typeof s !== "string" || s.length % 4 !== 0 || !BASE64.test(s)) return null;
  return Buffer.from(s, "base64");
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Client → server event names. */
export const C = {
  chatUpdate: "chat.update",
  append: "input_audio_buffer.append",
  complete: "input_audio_buffer.complete",
  clear: "input_audio_buffer.clear",
  cancel: "conversation.chat.cancel",
  messageCreate: "conversation.message.create",
  submitToolOutputs: "conversation.chat.submit_tool_outputs",
  conversationClear: "conversation.clear",
} as const;

/** Server → client event names. */
export const S = {
  chatCreated: "chat.created",
  chatUpdated: "chat.updated",
  bufferCompleted: "input_audio_buffer.completed",
  bufferCleared: "input_audio_buffer.cleared",
  speechStarted: "input_audio_buffer.speech_started",
  speechStopped: "input_audio_buffer.speech_stopped",
  transcriptUpdate: "conversation.audio_transcript.update",
  transcriptCompleted: "conversation.audio_transcript.completed",
  chatCreatedConv: "conversation.chat.created",
  chatInProgress: "conversation.chat.in_progress",
  chatCompleted: "conversation.chat.completed",
  chatFailed: "conversation.chat.failed",
  chatRequiresAction: "conversation.chat.requires_action",
  chatCanceled: "conversation.chat.canceled",
  messageDelta: "conversation.message.delta",
  messageCompleted: "conversation.message.completed",
  sentenceStart: "conversation.audio.sentence_start",
  audioDelta: "conversation.audio.delta",
  audioCompleted: "conversation.audio.completed",
  error: "error",
} as const;
