/**
 * The session configuration a `chat.update` builds: partial updates merge into what the
 * client asked for before, defaults fill the rest, and the whole result is checked so a
 * client bug shows up here instead of as silence or noise on a real device.
 */
import type { ChatUpdateData } from "../../agent/coze/protocol";
import type { AudioCodec } from "../../core/media";
import { CODECS, allowedRates } from "../../core/media";
import { DEFAULT_FRAME_SIZE_MS, DEFAULT_OPUS_FRAME_MS, DEFAULT_OPUS_RATE, DEFAULT_RATE } from "../shared/output-encoder";

type Obj = Record<string, unknown>;

const TURN_DETECTION = ["client_interrupt", "server_vad"];
const OBJECT_FIELDS = ["chat_config", "input_audio", "output_audio", "turn_detection"];
/** Whole-millisecond frame durations libopus encodes (2.5 and 5 ms are legal too, but not whole). */
const OPUS_FRAME_MS = [10, 20, 40, 60, 80, 100, 120];
/** libopus' bitrate range, bits per second. */
const OPUS_BITRATE = { min: 6000, max: 510000 };

export const DEFAULT_PREFIX_PADDING_MS = 600;
export const DEFAULT_SILENCE_DURATION_MS = 500;

export type ConfigResult = { ok: true; requested: Obj; effective: ChatUpdateData } | { ok: false; msg: string };

/** Merges `patch` into `requested` and validates the effective config; `requested` is not modified. */
export function applyChatUpdate(requested: Obj, patch: Obj, fallbackConversationId: string): ConfigResult {
  for (const field of OBJECT_FIELDS) {
    if (patch[field] !== undefined && !isObj(patch[field])) return { ok: false, msg: `${field} must be an object` };
  }
  const merged = deepMerge(requested, patch);
  const effective = withDefaults(merged, fallbackConversationId);
  const problem = validate(effective);
  if (problem) return { ok: false, msg: problem };
  return { ok: true, requested: merged, effective: effective as ChatUpdateData };
}

function isG711(codec: unknown): boolean {
  return codec === "g711a" || codec === "g711u";
}

function withDefaults(req: Obj, fallbackConversationId: string): Obj {
  const input = obj(req.input_audio) ?? {};
  const output = obj(req.output_audio) ?? {};
  const inputCodec = input.codec ?? "pcm";
  const outputCodec = output.codec ?? "pcm";
  const effOutput: Obj = { codec: outputCodec, speech_rate: 0, ...output };
  if (outputCodec === "opus") {
    effOutput.opus_config = withBlockDefaults(output.opus_config, { sample_rate: DEFAULT_OPUS_RATE, frame_size_ms: DEFAULT_OPUS_FRAME_MS });
  } else {
    effOutput.pcm_config = withBlockDefaults(output.pcm_config, { sample_rate: isG711(outputCodec) ? 8000 : DEFAULT_RATE, frame_size_ms: DEFAULT_FRAME_SIZE_MS });
  }
  const td = obj(req.turn_detection) ?? {};
  const vadDefaults = td.type === "server_vad" ? { prefix_padding_ms: DEFAULT_PREFIX_PADDING_MS, silence_duration_ms: DEFAULT_SILENCE_DURATION_MS } : {};
  return {
    ...req,
    chat_config: { ...(obj(req.chat_config) ?? {}), conversation_id: obj(req.chat_config)?.conversation_id ?? fallbackConversationId },
    input_audio: {
      format: "pcm",
      codec: inputCodec,
      sample_rate: isG711(inputCodec) ? 8000 : DEFAULT_RATE,
      channel: 1,
      bit_depth: 16,
      ...input,
    },
    output_audio: effOutput,
    turn_detection: { type: "client_interrupt", ...vadDefaults, ...td },
  };
}

/** A config block with defaults filled in; anything but an object is left as given, for validate() to refuse. */
function withBlockDefaults(given: unknown, defaults: Obj): unknown {
  return given === undefined || isObj(given) ? { ...defaults, ...(given ?? {}) } : given;
}

function validate(eff: Obj): string | null {
  const chat = obj(eff.chat_config) ?? {};
  if (chat.conversation_id !== undefined && (typeof chat.conversation_id !== "string" || chat.conversation_id === "")) {
    return "chat_config.conversation_id must be a non-empty string (leave it out to start a new conversation)";
  }
  if (chat.user_id !== undefined && typeof chat.user_id !== "string") return "chat_config.user_id must be a string";
  if (chat.meta_data !== undefined && !isStringMap(chat.meta_data)) return "chat_config.meta_data must be an object of string values";
  if (eff.need_play_prologue !== undefined && typeof eff.need_play_prologue !== "boolean") {
    return `need_play_prologue must be true or false; got ${show(eff.need_play_prologue)}`;
  }

  const input = obj(eff.input_audio) ?? {};
  if (input.format !== "pcm") return `input_audio.format must be "pcm"; got ${show(input.format)}`;
  const codecProblem = checkCodec("input_audio", input.codec, input.sample_rate, "input_audio.sample_rate");
  if (codecProblem) return codecProblem;
  if (input.channel !== 1) return `input_audio.channel must be 1 (mono); got ${show(input.channel)}`;
  if (input.bit_depth !== 16) return `input_audio.bit_depth must be 16; got ${show(input.bit_depth)}`;

  const output = obj(eff.output_audio) ?? {};
  if (output.pcm_config !== undefined && !isObj(output.pcm_config)) return "output_audio.pcm_config must be an object";
  if (output.opus_config !== undefined && !isObj(output.opus_config)) return "output_audio.opus_config must be an object";
  const pcm = obj(output.pcm_config);
  const opus = obj(output.opus_config);
  if (output.codec === "opus") {
    const p = checkCodec("output_audio", output.codec, opus?.sample_rate, "output_audio.opus_config.sample_rate");
    if (p) return p;
  } else {
    const p = checkCodec("output_audio", output.codec, pcm?.sample_rate, "output_audio.pcm_config.sample_rate");
    if (p) return p;
  }
  for (const [name, cfg] of [["pcm_config", pcm], ["opus_config", opus]] as const) {
    if (!cfg) continue;
    const p = checkFrameSize(`output_audio.${name}`, cfg.frame_size_ms) ?? checkLimit(`output_audio.${name}.limit_config`, cfg.limit_config);
    if (p) return p;
  }
  if (opus) {
    const p = checkOpusConfig(opus);
    if (p) return p;
  }
  const rate = output.speech_rate;
  if (typeof rate !== "number" || !Number.isFinite(rate) || rate < -50 || rate > 100) {
    return `output_audio.speech_rate must be a number from -50 to 100; got ${show(rate)}`;
  }
  if (output.voice_id !== undefined && typeof output.voice_id !== "string") return "output_audio.voice_id must be a string";

  const td = obj(eff.turn_detection) ?? {};
  if (!TURN_DETECTION.includes(td.type as string)) {
    return `turn_detection.type must be one of ${TURN_DETECTION.join(", ")}; got ${show(td.type)}`;
  }
  for (const f of ["prefix_padding_ms", "silence_duration_ms"]) {
    const v = td[f];
    if (v !== undefined && (typeof v !== "number" || !(v >= 0))) return `turn_detection.${f} must be a number >= 0; got ${show(v)}`;
  }

  const subs = eff.event_subscriptions;
  if (subs !== undefined && (!Array.isArray(subs) || subs.some((s) => typeof s !== "string"))) {
    return "event_subscriptions must be an array of event names";
  }
  return null;
}

// The codec layer's rates, so the emulator refuses whatever the device could not encode or decode.
function checkCodec(prefix: string, codec: unknown, sampleRate: unknown, rateField: string): string | null {
  if (!CODECS.includes(codec as AudioCodec)) return `${prefix}.codec must be one of ${CODECS.join(", ")}; got ${show(codec)}`;
  if (isG711(codec)) return sampleRate === 8000 ? null : `${rateField} must be 8000 for ${String(codec)}; got ${show(sampleRate)}`;
  const rates = allowedRates(codec as AudioCodec);
  return rates.includes(sampleRate as number) ? null : `${rateField} must be one of ${rates.join(", ")} for ${String(codec)}; got ${show(sampleRate)}`;
}

function checkOpusConfig(opus: Obj): string | null {
  if (opus.frame_size_ms !== undefined && !OPUS_FRAME_MS.includes(opus.frame_size_ms as number)) {
    return `output_audio.opus_config.frame_size_ms must be an Opus frame length: one of ${OPUS_FRAME_MS.join(", ")}; got ${show(opus.frame_size_ms)}`;
  }
  const b = opus.bitrate;
  if (b !== undefined && (!Number.isInteger(b) || (b as number) < OPUS_BITRATE.min || (b as number) > OPUS_BITRATE.max)) {
    return `output_audio.opus_config.bitrate must be a whole number of bits per second from ${OPUS_BITRATE.min} to ${OPUS_BITRATE.max}; got ${show(b)}`;
  }
  if (opus.use_cbr !== undefined && typeof opus.use_cbr !== "boolean") return `output_audio.opus_config.use_cbr must be true or false; got ${show(opus.use_cbr)}`;
  return null;
}

function checkFrameSize(prefix: string, v: unknown): string | null {
  if (v === undefined) return null;
  return Number.isInteger(v) && (v as number) >= 10 && (v as number) <= 1000
    ? null
    : `${prefix}.frame_size_ms must be a whole number of milliseconds from 10 to 1000; got ${show(v)}`;
}

function checkLimit(prefix: string, v: unknown): string | null {
  if (v === undefined) return null;
  const l = obj(v);
  if (!l) return `${prefix} must be an object {period, max_frame_num}`;
  if (typeof l.period !== "number" || !(l.period > 0)) return `${prefix}.period must be a number of seconds > 0; got ${show(l.period)}`;
  if (!Number.isInteger(l.max_frame_num) || (l.max_frame_num as number) < 1) {
    return `${prefix}.max_frame_num must be a whole number >= 1; got ${show(l.max_frame_num)}`;
  }
  return null;
}

function deepMerge(base: Obj, patch: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    // JSON.parse makes "__proto__" an own key; assigning it would swap the prototype.
    if (k === "__proto__") continue;
    const prev = out[k];
    out[k] = isObj(prev) && isObj(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isStringMap(v: unknown): boolean {
  return isObj(v) && Object.values(v).every((x) => typeof x === "string");
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}

function show(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
