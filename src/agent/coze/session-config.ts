import type { AudioFormat } from "../../core/media";
import { S, type ChatUpdateData, type CozeCodec } from "./protocol";

export interface CozeSessionSettings {
  userId: string;
  conversationId?: string;
  input: AudioFormat;
  output: AudioFormat;
  /** Milliseconds per downlink frame the server should send. */
  outputFrameMs: number;
  voiceId?: string;
  speechRate: number;
  /** Reply audio per second of wall time, in seconds of audio (limit_config); 0: no limit. */
  replyPace: number;
  /** Opus replies: the server's encoder. */
  opusBitrate?: number;
  opusCbr?: boolean;
  turnDetection: { type: "client_interrupt" } | { type: "server_vad"; prefixPaddingMs: number; silenceDurationMs: number };
  /** Asked at every (re)connect: e.g. the GPS position as extra_params.latitude / longitude. */
  extraParams?: () => Record<string, string> | null;
}

/**
 * The server events the device acts on. An empty list means all of them, and then every
 * token of the reply's text (message.delta), every partial transcript and a caption per
 * sentence arrive too: one WebSocket message each, parsed and thrown away. The vendor's
 * hardware samples subscribe the same way. chat.updated and error are named although
 * the server may send them regardless: the link cannot work without them.
 */
export const SUBSCRIBED_EVENTS: readonly string[] = [
  S.chatCreated,
  S.chatUpdated,
  S.error,
  S.bufferCompleted,
  S.speechStarted,
  S.speechStopped,
  S.transcriptCompleted,
  S.chatCreatedConv,
  S.chatCompleted,
  S.chatFailed,
  S.chatRequiresAction,
  S.chatCanceled,
  S.messageCompleted,
  S.audioDelta,
  S.conversationCleared,
];

/** The period of limit_config, in seconds (the vendor's examples use 1). */
const LIMIT_PERIOD_S = 1;

/** Builds the `chat.update` payload for one link (sent again after every reconnect). */
export function buildChatUpdate(s: CozeSessionSettings): ChatUpdateData {
  const chat_config: NonNullable<ChatUpdateData["chat_config"]> = { user_id: s.userId, auto_save_history: true };
  // The vendor's docs: leave conversation_id out rather than sending it empty.
  if (s.conversationId) chat_config.conversation_id = s.conversationId;
  const extra = s.extraParams?.();
  if (extra) chat_config.extra_params = extra;
  const codec: CozeCodec = s.output.codec;
  const output_audio: NonNullable<ChatUpdateData["output_audio"]> = { codec, speech_rate: s.speechRate };
  // The server paces the reply as the vendor's hardware samples ask it to: a little faster than it plays.
  const limit = s.replyPace > 0 ? { limit_config: { period: LIMIT_PERIOD_S, max_frame_num: Math.ceil(((LIMIT_PERIOD_S * 1000) / s.outputFrameMs) * s.replyPace - 1e-9) } } : {};
  if (codec === "opus") {
    output_audio.opus_config = {
      sample_rate: s.output.sampleRate,
      frame_size_ms: s.outputFrameMs,
      ...(s.opusBitrate !== undefined ? { bitrate: s.opusBitrate } : {}),
      ...(s.opusCbr !== undefined ? { use_cbr: s.opusCbr } : {}),
      ...limit,
    };
  } else {
    output_audio.pcm_config = { sample_rate: s.output.sampleRate, frame_size_ms: s.outputFrameMs, ...limit };
  }
  if (s.voiceId) output_audio.voice_id = s.voiceId;
  return {
    chat_config,
    input_audio: { format: "pcm", codec: s.input.codec, sample_rate: s.input.sampleRate, channel: 1, bit_depth: 16 },
    output_audio,
    turn_detection:
      s.turnDetection.type === "server_vad"
        ? { type: "server_vad", prefix_padding_ms: s.turnDetection.prefixPaddingMs, silence_duration_ms: s.turnDetection.silenceDurationMs }
        : { type: "client_interrupt" },
    event_subscriptions: [...SUBSCRIBED_EVENTS],
  };
}

/** Reads the effective formats back from `chat.updated`, falling back to what we asked for. */
export function formatsFromChatUpdated(
  data: Record<string, unknown> | undefined,
  asked: { input: AudioFormat; output: AudioFormat },
): { input: AudioFormat; output: AudioFormat } {
  const input = obj(data?.input_audio);
  const output = obj(data?.output_audio);
  const pcm = obj(output?.pcm_config) ?? obj(output?.opus_config);
  return {
    input: {
      codec: codecOr(input?.codec, asked.input.codec),
      sampleRate: numOr(input?.sample_rate, asked.input.sampleRate),
      channels: 1,
    },
    output: {
      codec: codecOr(output?.codec, asked.output.codec),
      sampleRate: numOr(pcm?.sample_rate, asked.output.sampleRate),
      channels: 1,
    },
  };
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function numOr(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback;
}

function codecOr(v: unknown, fallback: CozeCodec): CozeCodec {
  return v === "pcm" || v === "opus" || v === "g711a" || v === "g711u" ? v : fallback;
}
