/**
 * The reply's wire format from the effective `output_audio`, and the reply PCM cut into
 * frames and encoded: one `conversation.audio.delta` per frame (for Opus, one raw packet).
 */
import type { ChatUpdateData, LimitConfig } from "../agent/coze/protocol";
import type { AudioCodec } from "../core/media";
import { createEncoder } from "../codec/registry";
import { DEFAULT_FRAME_SIZE_MS, DEFAULT_OPUS_FRAME_MS, DEFAULT_OPUS_RATE, DEFAULT_RATE } from "./chat-config";
import { splitFrames } from "./pacer";

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
