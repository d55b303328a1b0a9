/**
 * The one `session.update` a link sends (first message on every connection) and
 * the check of the `session.updated` that answers it.
 */
import { jsonType } from "../wire/fields";
import type { AudioFormat } from "../../core/media";
import type { ToolSpec } from "../../core/tool-spec";
import { obj, PCM16_RATE, str, WIRE_AUDIO_FORMATS, type RealtimeFlavour, type WireAudioFormat } from "./protocol";

export type TurnMode = "push-to-talk" | "free";

export interface RealtimeSessionSettings {
  flavour: RealtimeFlavour;
  instructions?: string;
  voice?: string;
  temperature?: number;
  /** OpenAI: input_audio_noise_reduction for this kind of microphone. */
  noiseReduction?: "near_field" | "far_field";
  /** Transcribe the user's speech with this model; undefined: no transcripts. */
  transcriptionModel?: string;
  tools: ToolSpec[];
  input: AudioFormat;
  output: AudioFormat;
  /** Server VAD settings (OpenAI, free conversation). */
  vad: { prefixPaddingMs: number; silenceDurationMs: number };
}

export interface TurnDetection {
  type: "server_vad";
  prefix_padding_ms: number;
  silence_duration_ms: number;
}

/** Which audio each flavour takes, as the user configures it (audio.uplink_* / downlink_*). */
export function checkFormats(flavour: RealtimeFlavour, input: AudioFormat, output: AudioFormat): string[] {
  const issues: string[] = [];
  const check = (f: AudioFormat, dir: "uplink" | "downlink"): void => {
    if (wireFormat(flavour, f)) return;
    const keys = `audio.${dir}_codec / audio.${dir}_rate`;
    issues.push(
      flavour === "volcengine"
        ? `${keys}: the Volcengine gateway takes only pcm at 16000 Hz (got ${f.codec} at ${f.sampleRate} Hz); set ${dir}_codec: pcm and ${dir}_rate: 16000`
        : `${keys}: OpenAI Realtime takes pcm at 24000 Hz or g711u / g711a at 8000 Hz (got ${f.codec} at ${f.sampleRate} Hz)`,
    );
  };
  check(input, "uplink");
  check(output, "downlink");
  return issues;
}

/** The wire name of a format, or null when this flavour cannot carry it. */
export function wireFormat(flavour: RealtimeFlavour, f: AudioFormat): WireAudioFormat | null {
  if (f.codec === "pcm") return f.sampleRate === PCM16_RATE[flavour] ? "pcm16" : null;
  if (flavour !== "openai" || f.sampleRate !== 8000) return null;
  if (f.codec === "g711u") return "g711_ulaw";
  if (f.codec === "g711a") return "g711_alaw";
  return null;
}

export function formatFromWire(flavour: RealtimeFlavour, wire: string): AudioFormat | null {
  const codec = WIRE_AUDIO_FORMATS[wire as WireAudioFormat];
  if (!codec) return null;
  return { codec, sampleRate: codec === "pcm" ? PCM16_RATE[flavour] : 8000, channels: 1 };
}

/**
 * null: the client commits each turn. The Volcengine gateway has no server VAD at
 * all, so it always gets null and free conversation runs on a VAD on the device.
 */
export function turnDetection(s: Pick<RealtimeSessionSettings, "flavour" | "vad">, mode: TurnMode): TurnDetection | null {
  if (s.flavour !== "openai" || mode !== "free") return null;
  return { type: "server_vad", prefix_padding_ms: s.vad.prefixPaddingMs, silence_duration_ms: s.vad.silenceDurationMs };
}

export function buildSession(s: RealtimeSessionSettings, mode: TurnMode): Record<string, unknown> {
  const session: Record<string, unknown> = {
    modalities: ["audio", "text"],
    input_audio_format: wireFormat(s.flavour, s.input),
    output_audio_format: wireFormat(s.flavour, s.output),
    turn_detection: turnDetection(s, mode),
    tools: s.tools.map((t) => ({ type: "function", name: t.name, description: t.description, parameters: t.parameters })),
    tool_choice: "auto",
  };
  if (s.instructions !== undefined) session.instructions = s.instructions;
  if (s.voice !== undefined) session.voice = s.voice;
  if (s.temperature !== undefined) session.temperature = s.temperature;
  if (s.noiseReduction !== undefined) session.input_audio_noise_reduction = { type: s.noiseReduction };
  if (s.transcriptionModel !== undefined) session.input_audio_transcription = { model: s.transcriptionModel };
  return session;
}

export type SessionCheck =
  | { ok: true; input: AudioFormat; output: AudioFormat; sessionId?: string; warnings: string[] }
  | { ok: false; message: string };

/**
 * Reads the effective config back from `session.updated`. Where the server is
 * silent, what we asked for stands; a format we cannot play is a failure.
 */
export function checkSessionUpdated(ev: Record<string, unknown>, asked: RealtimeSessionSettings, mode: TurnMode): SessionCheck {
  const session = obj(ev.session);
  if (!session) return { ok: false, message: "session.updated without a session object" };
  const formats: AudioFormat[] = [];
  for (const [key, fallback] of [
    ["input_audio_format", asked.input],
    ["output_audio_format", asked.output],
  ] as const) {
    const wire = session[key];
    if (wire === undefined || wire === null) {
      formats.push(fallback);
      continue;
    }
    const f = typeof wire === "string" ? formatFromWire(asked.flavour, wire) : null;
    if (!f) return { ok: false, message: `the server set ${key} to ${typeof wire === "string" ? JSON.stringify(wire) : `a JSON ${jsonType(wire)}`}, which talkbox cannot use; check agent.realtime.flavour` };
    formats.push(f);
  }
  const warnings: string[] = [];
  const wantVad = turnDetection(asked, mode) !== null;
  const td = obj(session.turn_detection);
  if (session.turn_detection !== undefined && (td !== undefined) !== wantVad) {
    warnings.push(`the server ${td ? `kept turn detection ${str(td.type) ?? "on"}` : "turned server VAD off"}; turns may not end as expected`);
  }
  const tools = Array.isArray(session.tools) ? session.tools.length : undefined;
  if (tools !== undefined && tools < asked.tools.length) warnings.push(`the server took ${tools} of ${asked.tools.length} device tools`);
  const sessionId = str(session.id);
  return { ok: true, input: formats[0]!, output: formats[1]!, ...(sessionId ? { sessionId } : {}), warnings };
}
