/**
 * The Realtime session object: each flavour's defaults (OpenAI's documented ones, the
 * Volcengine gateway's from its session.created example) and `session.update` checked
 * field by field, so a client bug shows up as an `error` naming the field rather than
 * as silence on a device.
 */
import type { AudioCodec } from "../../core/media";
import type { Flavour } from "./records";

type Obj = Record<string, unknown>;

export const AUDIO_FORMATS: Record<Flavour, readonly string[]> = {
  openai: ["pcm16", "g711_ulaw", "g711_alaw"],
  // The gateway's doc: "目前只支持 pcm16 的格式，默认为 16000Hz 的采样频率".
  volcengine: ["pcm16"],
};

const PCM16_RATE: Record<Flavour, number> = { openai: 24000, volcengine: 16000 };

export const DEFAULT_VAD = {
  type: "server_vad",
  threshold: 0.5,
  prefix_padding_ms: 300,
  silence_duration_ms: 500,
  create_response: true,
  interrupt_response: true,
} as const;

const TEMPERATURE: Record<Flavour, { min: number; max: number }> = { openai: { min: 0.6, max: 1.2 }, volcengine: { min: 0, max: 2 } };
/** Fields OpenAI takes that the emulator records but does not act on. */
const OPENAI_PASSIVE = ["input_audio_noise_reduction", "speed", "tracing"];
const READ_ONLY = ["id", "object", "model", "expires_at"];
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SESSION_LIFETIME_S = 30 * 60;

export function defaultSession(flavour: Flavour, id: string, model: string): Obj {
  const common = {
    id,
    object: "realtime.session",
    model,
    expires_at: Math.floor(Date.now() / 1000) + SESSION_LIFETIME_S,
    modalities: ["text", "audio"],
    input_audio_format: "pcm16",
    output_audio_format: "pcm16",
    input_audio_transcription: null,
    tools: [],
    tool_choice: "auto",
    temperature: 0.8,
    max_response_output_tokens: "inf",
  };
  return flavour === "openai"
    ? { ...common, instructions: "", voice: "alloy", turn_detection: { ...DEFAULT_VAD } }
    : { ...common, instructions: null, voice: "zh_female_tianmeixiaoyuan_moon_bigtts", turn_detection: null };
}

/** One field the gateway answered with an `error` and ignored while applying the rest. */
export interface Ignored {
  param: string;
  message: string;
}

export type UpdateResult = { ok: true; session: Obj; ignored: Ignored[] } | { ok: false; param: string; message: string };

/** Applies the fields present in `patch` to `current` (which is not modified). */
export function applySessionUpdate(flavour: Flavour, current: Obj, patch: unknown): UpdateResult {
  if (!isObj(patch)) return { ok: false, param: "session", message: "session.update needs a session object" };
  const next: Obj = { ...current };
  const ignored: Ignored[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const param = `session.${key}`;
    if (READ_ONLY.includes(key)) return { ok: false, param, message: `${param} is read-only: leave it out of session.update` };
    if (key === "turn_detection" && flavour === "volcengine" && value !== null) {
      ignored.push({ param, message: "the gateway has no server VAD: turn_detection must be null; commit the input audio buffer yourself. The rest of the update was applied" });
      continue;
    }
    if (flavour === "openai" && OPENAI_PASSIVE.includes(key)) {
      next[key] = value;
      continue;
    }
    const checked = checkField(flavour, key, value);
    if (typeof checked === "string") return { ok: false, param, message: `${param}: ${checked}` };
    next[key] = checked.value;
  }
  return { ok: true, session: next, ignored };
}

/** The codec and rate a session audio format means on this flavour; null for one it does not take. */
export function audioFormat(flavour: Flavour, format: unknown): { codec: AudioCodec; rate: number } | null {
  if (!AUDIO_FORMATS[flavour].includes(format as string)) return null;
  if (format === "g711_ulaw") return { codec: "g711u", rate: 8000 };
  if (format === "g711_alaw") return { codec: "g711a", rate: 8000 };
  return { codec: "pcm", rate: PCM16_RATE[flavour] };
}

/** Checks one field; returns the value to store, or what is wrong with it. */
function checkField(flavour: Flavour, key: string, v: unknown): { value: unknown } | string {
  switch (key) {
    case "modalities": {
      const ok = Array.isArray(v) && v.length > 0 && v.every((m) => m === "text" || m === "audio") && new Set(v).size === v.length;
      if (!ok) return `must be an array of "text" and/or "audio"; got ${show(v)}`;
      if (flavour === "volcengine" && !v.includes("audio")) return `the gateway takes ["text", "audio"] or ["audio"]; got ${show(v)}`;
      if (flavour === "openai" && !v.includes("text")) return `must be ["text"] or ["text", "audio"]; got ${show(v)}`;
      return { value: [...v] };
    }
    case "instructions":
      return typeof v === "string" ? { value: v } : `must be a string; got ${show(v)}`;
    case "voice":
      if (typeof v !== "string" || v === "") return `must be a voice name; got ${show(v)}`;
      if (flavour === "volcengine" && !v.startsWith("zh_")) return `the gateway only has Chinese voices whose names start with zh_ (e.g. zh_female_tianmeixiaoyuan_moon_bigtts); got ${show(v)}`;
      return { value: v };
    case "input_audio_format":
    case "output_audio_format":
      return AUDIO_FORMATS[flavour].includes(v as string) ? { value: v } : `must be one of ${AUDIO_FORMATS[flavour].join(", ")}; got ${show(v)}`;
    case "input_audio_transcription":
      if (v === null) return { value: null };
      return isObj(v) && typeof v.model === "string" && v.model !== "" ? { value: { ...v } } : `must be null or {model: string}; got ${show(v)}`;
    case "turn_detection":
      return checkTurnDetection(v);
    case "tools":
      return checkTools(v);
    case "tool_choice":
      if (v === "auto" || v === "none" || v === "required") return { value: v };
      return isObj(v) && v.type === "function" && typeof v.name === "string" ? { value: { ...v } } : `must be "auto", "none", "required" or {type: "function", name}; got ${show(v)}`;
    case "temperature": {
      const r = TEMPERATURE[flavour];
      return typeof v === "number" && v >= r.min && v <= r.max ? { value: v } : `must be a number from ${r.min} to ${r.max}; got ${show(v)}`;
    }
    case "max_response_output_tokens":
      return v === "inf" || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 4096) ? { value: v } : `must be a whole number from 1 to 4096 or "inf"; got ${show(v)}`;
    default:
      return "unknown parameter: check its spelling against the Realtime API's session fields";
  }
}

function checkTurnDetection(v: unknown): { value: unknown } | string {
  if (v === null) return { value: null };
  if (!isObj(v)) return `must be null (the client commits) or {type: "server_vad", ...}; got ${show(v)}`;
  if (v.type !== "server_vad") return `type must be "server_vad" (the emulator has no semantic_vad); got ${show(v.type)}`;
  const td: Obj = { ...DEFAULT_VAD, ...v };
  if (typeof td.threshold !== "number" || td.threshold < 0 || td.threshold > 1) return `threshold must be a number from 0 to 1; got ${show(td.threshold)}`;
  for (const f of ["prefix_padding_ms", "silence_duration_ms"]) {
    if (!Number.isInteger(td[f]) || (td[f] as number) < 0) return `${f} must be a whole number of milliseconds >= 0; got ${show(td[f])}`;
  }
  for (const f of ["create_response", "interrupt_response"]) {
    if (typeof td[f] !== "boolean") return `${f} must be true or false; got ${show(td[f])}`;
  }
  return { value: td };
}

function checkTools(v: unknown): { value: unknown } | string {
  if (!Array.isArray(v)) return `must be an array of {type: "function", name, description, parameters}; got ${show(v)}`;
  const names = new Set<string>();
  for (const [i, t] of v.entries()) {
    if (!isObj(t) || t.type !== "function") return `[${i}] must be {type: "function", name, description, parameters}`;
    if (typeof t.name !== "string" || !TOOL_NAME.test(t.name)) return `[${i}].name must be 1-64 letters, digits, _ or -; got ${show(t.name)}`;
    if (names.has(t.name)) return `[${i}].name ${t.name} is declared twice`;
    names.add(t.name);
    if (t.description !== undefined && typeof t.description !== "string") return `[${i}].description must be a string`;
    if (t.parameters !== undefined && !isObj(t.parameters)) return `[${i}].parameters must be a JSON Schema object`;
  }
  return { value: v.map((t) => ({ ...(t as Obj) })) };
}

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
