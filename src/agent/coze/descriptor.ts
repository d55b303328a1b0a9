/** Coze realtime voice chat (`/v1/chat`, seed 003): `agent.backend: coze`, settings under `agent.coze`. */
import { z } from "zod";
import { defineBackend } from "../descriptor";
import { COZE_CAPABILITIES, CozeBackend } from "./client";

/** The bot id the emulator is asked for when none is configured: it accepts any. */
const EMULATOR_BOT = "emulator-bot";

/** Coze may send replies 10 % faster than they play, as in its hardware examples (22 frames of 50 ms a second). */
const DEFAULT_REPLY_PACE = 1.1;

const settings = z.strictObject({
  // The bot, published as an API service. Required for a real agent URL.
  bot_id: z.string().min(1).optional(),
  device_id: z
    .string({ error: 'expected digits in quotes, e.g. device_id: "7351234567890" (unquoted, large numbers lose precision)' })
    .regex(/^\d+$/, "expected digits only (an int64 written as a string)")
    .optional(),
  voice_id: z.string().min(1).optional(),
  speech_rate: z.int().min(-50).max(100).default(0),
  // How fast the server may send a reply, as a multiple of real time (limit_config: frames
  // per second); a little above 1 keeps the speaker fed without queueing the whole reply
  // ahead of it. 0: no limit (Coze sends as fast as it synthesises). Default 1.1.
  reply_pace: z.number().min(0).max(10).refine((v) => v === 0 || v >= 1, "expected 0 (no limit) or 1 to 10 (times real time)").optional(),
  // audio.downlink_codec opus: the server's Opus encoder (opus_config.bitrate, use_cbr).
  opus_bitrate: z.int().min(6000).max(510_000).optional(),
  opus_cbr: z.boolean().optional(),
});

export type CozeSettings = z.output<typeof settings>;

export const cozeBackend = defineBackend({
  name: "coze",
  title: "Coze",
  settings,
  complete(s, ctx) {
    if (ctx.downlinkCodec !== "opus") {
      for (const key of ["opus_bitrate", "opus_cbr"] as const) {
        if (s[key] !== undefined) ctx.issue(key, `applies to Opus replies only, and audio.downlink_codec is ${ctx.downlinkCodec}; set audio.downlink_codec: opus or remove the key`);
      }
    }
    if (s.bot_id !== undefined) return s;
    if (!ctx.emulator) ctx.issue("bot_id", "required for a real agent URL: set agent.coze.bot_id in the config file or the TALKBOX_BOT_ID environment variable");
    return { ...s, bot_id: EMULATOR_BOT };
  },
  defaultUrl: () => "wss://ws.coze.cn/v1/chat",
  // Coze takes every codec; the board's choice (Opus on a slow link) is the default.
  wireDefaults: () => ({ uplinkRate: 16000, downlinkRate: 24000, boardCodecs: true }),
  checkFormats: () => [],
  credentialKeys: ["bot_id"],
  credentials: (s) => ({ botId: s.bot_id ?? EMULATOR_BOT }),
  capabilities: () => COZE_CAPABILITIES,
  create: ({ settings: s, url, token, link, session, log, clock, extraParams, conversations }) =>
    new CozeBackend(
      {
        url,
        botId: s.bot_id ?? EMULATOR_BOT,
        token,
        ...(s.device_id ? { deviceId: s.device_id } : {}),
        session: {
          userId: session.userId,
          ...(session.conversationId ? { conversationId: session.conversationId } : {}),
          input: session.input,
          output: session.output,
          // Coze's hardware examples: 60 ms Opus packets; 40 ms chunks otherwise.
          outputFrameMs: session.output.codec === "opus" ? 60 : 40,
          ...(s.voice_id ? { voiceId: s.voice_id } : {}),
          speechRate: s.speech_rate,
          replyPace: s.reply_pace ?? DEFAULT_REPLY_PACE,
          ...(s.opus_bitrate !== undefined ? { opusBitrate: s.opus_bitrate } : {}),
          ...(s.opus_cbr !== undefined ? { opusCbr: s.opus_cbr } : {}),
          ...(extraParams ? { extraParams } : {}),
          turnDetection:
            session.mode === "free"
              ? { type: "server_vad", prefixPaddingMs: session.vad.prefixPaddingMs, silenceDurationMs: session.vad.silenceDurationMs }
              : { type: "client_interrupt" },
        },
        vad: session.vad,
        conversations,
        ...link,
      },
      log.child({ backend: "coze" }),
      clock,
    ),
  emulator: { path: "/v1/chat", url: (base) => `${base}/v1/chat` },
});
