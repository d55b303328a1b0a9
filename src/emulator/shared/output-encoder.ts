/**
 * The reply's wire format from the effective `output_audio`, and the reply PCM cut into
 * frames and encoded: one `conversation.audio.delta` per frame (for Opus, one raw packet).
 */
import type { ChatUpdateData, LimitConfig } from "../../agent/coze/protocol";
import type { AudioCodec } from "../../core/media";
import { createEncoder } from "../../codec/registry";
import { splitFrames } from "./pacer";

/** The defaults of every emulated stream (Coze's, which the Realtime stand-in shares). */
/** pcm_config.frame_size_ms. */
export const DEFAULT_FRAME_SIZE_MS = 40;
/** Coze's default rate for input_audio and pcm_config. */
export const DEFAULT_RATE = 24000;
/** The docs give no default for opus_config.sample_rate; Coze's general default is used. */
export const DEFAULT_OPUS_RATE = DEFAULT_RATE;
/** The hardware examples' Opus frame. */
export const DEFAULT_OPUS_FRAME_MS = 60;

export interface OutputPlan {
  codec: AudioCodec;
  rate: number;
  frameMs: number;
  /** From the config block that applies to the codec: opus_config for Opus, pcm_config otherwise. */
  limit?: LimitConfig;
}

export interface ReplyFrame {
  /** The PCM this frame carries, at the output rate. */
  pcm: Buffer;
  /** What goes on the wire, base64 in the delta's content. */
  payload: Buffer;
}

/** `output` is the validated effective config, so its fields are present and legal. */
export function outputPlan(output: NonNullable<ChatUpdateData["output_audio"]>): OutputPlan {
  const codec = output.codec;
  if (codec === "opus") {
    const o = output.opus_config ?? {};
    return { codec, rate: o.sample_rate ?? DEFAULT_OPUS_RATE, frameMs: o.frame_size_ms ?? DEFAULT_OPUS_FRAME_MS, limit: o.limit_config };
  }
  const p = output.pcm_config;
  return { codec, rate: p?.sample_rate ?? DEFAULT_RATE, frameMs: p?.frame_size_ms ?? DEFAULT_FRAME_SIZE_MS, limit: p?.limit_config };
}

/**
 * Encodes the whole reply up front (Opus with a fresh encoder per reply). Opus needs whole
 * frames, so its last frame is padded with silence; PCM and G.711 may end on a short frame.
 */
export function encodeReply(pcm: Buffer, plan: OutputPlan): ReplyFrame[] {
  const encoder = createEncoder({ codec: plan.codec, sampleRate: plan.rate, channels: 1 }, plan.frameMs);
  const frameBytes = encoder.frameSamples * 2;
  return splitFrames(pcm, plan.rate, plan.frameMs).map((frame) => {
    const whole = encoder.acceptsPartialFrames || frame.length === frameBytes ? frame : Buffer.concat([frame, Buffer.alloc(frameBytes - frame.length)]);
    return { pcm: whole, payload: encoder.encode(whole) };
  });
}
