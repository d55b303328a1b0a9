/**
 * Coze realtime voice chat (`/v1/chat`) wire format, both directions: the client
 * encodes client events and decodes server events; the emulator does the reverse.
 * Nothing here touches a socket.
 */
import { randomUUID } from "node:crypto";
import { decodeJsonFrame } from "../wire/json-frame";
import { checkFields, MAX_ID, primeChecks } from "../wire/fields";
import { SERVER_EVENT_DATA } from "./server-events";

export { C, S } from "./names";

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
    case ErrorCode.BadParameter:
      return "the bot refused a setting the device sent: check agent.coze (voice_id, speech_rate) and audio.uplink_*/downlink_* (talkbox config check prints them), then run: sudo systemctl reload talkbox";
    default:
      return undefined;
  }
}

/**
 * Errors that end the link and hold reconnecting for minutes: auth (the credentials), quota
 * (the account), not_found (the bot is not published as an API service). A bad parameter
 * (4000) holds only while the session is being set up (`setup`): then it is the device's
 * settings the bot refuses; later it is one request's, and the link stays.
 */
export function linkHoldingProblem(code: number | string, setup = false): "auth" | "quota" | "not_found" | "bad_request" | null {
  const n = Number(code);
  if (n === ErrorCode.BadAuth || n === ErrorCode.NoPermission) return "auth";
  if (n === ErrorCode.DailyLimit || n === ErrorCode.OutOfTokens) return "quota";
  if (n === ErrorCode.BotNotPublished) return "not_found";
  if (n === ErrorCode.BadParameter && setup) return "bad_request";
  return null;
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
  if (obj.event_type.length > MAX_ID) return { ok: false, reason: `event_type longer than ${MAX_ID} characters` };
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

/** Compiles decodeServerEvent's checks now, not at the first reply (primeChecks). */
export function primeServerChecks(): void {
  primeChecks(SERVER_EVENT_DATA);
}

/**
 * decodeEvent, plus the type and size of every field talkbox reads from a server
 * event (server-events.ts): after this, translators read typed fields only.
 */
export function decodeServerEvent(raw: Buffer | string, isBinary: boolean): Decoded {
  const decoded = decodeEvent(raw, isBinary);
  if (!decoded.ok) return decoded;
  const schema = SERVER_EVENT_DATA[decoded.event.event_type];
  if (!schema) return decoded;
  const check = checkFields(schema, decoded.event.data ?? {}, "data");
  return check.ok ? decoded : { ok: false, reason: `${decoded.event.event_type}: ${check.reason}` };
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

