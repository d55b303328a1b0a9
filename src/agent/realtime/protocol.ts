/**
 * OpenAI-Realtime-compatible wire format (OpenAI's beta event names, which the
 * Volcengine AI gateway follows), both directions: one JSON text frame per event,
 * `{type, event_id?, ...fields}` with the fields at the top level. Nothing here
 * touches a socket.
 */
import { randomUUID } from "node:crypto";
import type { AudioCodec } from "../../core/media";
import { decodeJsonFrame } from "../wire/json-frame";
import { checkFields, MAX_ID, primeChecks } from "../wire/fields";
import { SERVER_EVENTS } from "./server-events";

export type RealtimeFlavour = "volcengine" | "openai";

export type WireAudioFormat = "pcm16" | "g711_ulaw" | "g711_alaw";

export const WIRE_AUDIO_FORMATS: Record<WireAudioFormat, AudioCodec> = { pcm16: "pcm", g711_ulaw: "g711u", g711_alaw: "g711a" };

/** pcm16's sample rate is not on the wire: it is fixed per server. */
export const PCM16_RATE: Record<RealtimeFlavour, number> = { volcengine: 16000, openai: 24000 };

/** The fewest milliseconds of input OpenAI commits; smaller buffers are an error. */
export const MIN_COMMIT_MS = 100;

/** The Volcengine gateway closes a session after this long without a client message (seed 001). */
export const GATEWAY_IDLE_MS = 120_000;

export { C, S } from "./names";

/** One decoded event: `type` plus whatever top-level fields it carries. */
export interface WireEvent {
  type: string;
  event_id?: string;
  [field: string]: unknown;
}

export function newEventId(): string {
  return `evt_${randomUUID().replace(/-/g, "").slice(0, 20)}`;
}

export function encodeEvent(type: string, fields: Record<string, unknown> = {}, eventId: string = newEventId()): string {
  return JSON.stringify({ ...fields, type, event_id: eventId });
}

export type Decoded = { ok: true; event: WireEvent } | { ok: false; reason: string };

/** Parses one WebSocket message; never throws. */
export function decodeEvent(raw: Buffer | string, isBinary: boolean): Decoded {
  const frame = decodeJsonFrame(raw, isBinary);
  if (!frame.ok) return frame;
  const obj = frame.fields;
  if (typeof obj.type !== "string" || obj.type.length === 0) return { ok: false, reason: "missing type" };
  if (obj.type.length > MAX_ID) return { ok: false, reason: `type longer than ${MAX_ID} characters` };
  return { ok: true, event: obj as WireEvent };
}

/** Compiles decodeServerEvent's checks now, not at the first reply (primeChecks). */
export function primeServerChecks(): void {
  primeChecks(SERVER_EVENTS);
}

/**
 * decodeEvent, plus the type and size of every field talkbox reads from a server
 * event (server-events.ts): after this, translators read typed fields only.
 */
export function decodeServerEvent(raw: Buffer | string, isBinary: boolean): Decoded {
  const decoded = decodeEvent(raw, isBinary);
  if (!decoded.ok) return decoded;
  const schema = SERVER_EVENTS[decoded.event.type];
  if (!schema) return decoded;
  const check = checkFields(schema, decoded.event, "");
  return check.ok ? decoded : { ok: false, reason: `${decoded.event.type}: ${check.reason}` };
}

export function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Milliseconds of audio in `bytes` of one wire format (pcm16: 2 bytes a sample; G.711: 1). */
export function audioMs(codec: AudioCodec, sampleRate: number, bytes: number): number {
  const bytesPerSample = codec === "pcm" ? 2 : 1;
  return (bytes / bytesPerSample / sampleRate) * 1000;
}

/** An `error` event's payload. */
export interface WireError {
  type: string;
  code: string;
  message: string;
  param?: string;
  /** The client event that caused it, when the server says. */
  eventId?: string;
}

export function readError(ev: WireEvent): WireError {
  const e = obj(ev.error) ?? {};
  const code = typeof e.code === "number" ? String(e.code) : (str(e.code) ?? "");
  const out: WireError = { type: str(e.type) ?? "", code, message: str(e.message) ?? "error without a message" };
  const param = str(e.param);
  if (param) out.param = param;
  const eventId = str(e.event_id);
  if (eventId) out.eventId = eventId;
  return out;
}

/**
 * What an error means for the link:
 * - auth: the key is not accepted (the link is useless until it is fixed);
 * - cancel-not-active: a barge-in raced the end of the reply (harmless);
 * - already-active: response.create met a running response (send it again after response.done);
 * - idle: the gateway is closing the session because no client message came for a while;
 * - session-gone: the server ended the session (e.g. OpenAI's maximum session length);
 * - quota: the account's quota is used up (the link ends; retried after the long back-off);
 * - not-found: the model or agent named does not exist for this key (likewise);
 * - other: reported to the user, the link stays.
 */
export type ErrorKind = "auth" | "quota" | "not-found" | "cancel-not-active" | "already-active" | "idle" | "session-gone" | "other";

const IDLE_WORDS = /idle|inactiv|no (new )?(client )?(message|event)s?|timed? ?out/i;

export function classifyError(e: WireError): ErrorKind {
  const code = e.code.toLowerCase();
  if (code === "response_cancel_not_active") return "cancel-not-active";
  if (code === "conversation_already_has_active_response") return "already-active";
  if (code === "invalid_api_key" || e.type === "authentication_error" || /unauthori[sz]ed|invalid (api )?key|authentication/i.test(`${code} ${e.message}`)) {
    return "auth";
  }
  if (code === "insufficient_quota" || /quota (is )?(used up|exceeded|exhausted)|insufficient (balance|quota)/i.test(e.message)) return "quota";
  // Only the model's: an item or a response not found is one request's mistake, not the agent's absence.
  if (code === "model_not_found" || /model .*(does not exist|not found)/i.test(e.message)) return "not-found";
  if (code === "session_expired" || /maximum (session )?duration|session (has )?expired/i.test(e.message)) return "session-gone";
  if (IDLE_WORDS.test(code) || IDLE_WORDS.test(e.message)) return "idle";
  return "other";
}

/** What the user can do about an error. */
export function errorHint(e: WireError): string | undefined {
  const code = e.code.toLowerCase();
  if (code === "rate_limit_exceeded" || e.type === "rate_limit_error" || /rate.?limit|too many requests|qps/i.test(`${code} ${e.message}`)) {
    return "the account's rate limit was hit: wait a moment; if it keeps happening, raise the limit of the key (agent.token)";
  }
  if (code === "insufficient_quota" || /quota|balance|billing/i.test(e.message)) return "the account's quota is used up: check its billing page";
  if (e.type === "server_error") return "the service had a problem on its side; try again";
  if (code === "invalid_value" && e.param?.includes("voice")) return "agent.realtime.voice is not a voice this server offers";
  return undefined;
}
