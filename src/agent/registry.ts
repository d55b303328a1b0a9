/** Agent backends by name (`agent.backend`). */
import type { Config } from "../config/schema";
import type { Logger } from "../log/logger";
import type { Clock } from "../core/clock";
import type { AgentBackend } from "./backend";
import type { LinkSettings } from "./link/ws-link";
import { CozeBackend } from "./coze/client";
import { RealtimeBackend } from "./realtime/client";
import type { ToolSpec } from "../core/tool-spec";
import type { StateStore } from "../core/state-store";

export interface BackendContext {
  config: Config;
  /** The agent URL to use (the emulator's when agent.url is `emulator`). */
  url: string;
  /** The token to send; the emulator accepts any. */
  token: string;
  log: Logger;
  clock: Clock;
  /** Extra parameters for the agent at each session start (the car's GPS position). */
  extraParams?: () => Record<string, string> | null;
  /** Device tools to declare to the agent (empty when tools are disabled). */
  tools: ToolSpec[];
  /** Where the backend may keep what must survive a restart (e.g. the gateway's session id). */
  state: StateStore;
}

/** The link's patience, the same keys for every backend (url apart). */
function linkSettings(a: Config["agent"]): Omit<LinkSettings, "url"> {
  return {
    connectTimeoutMs: a.connect_timeout_ms,
    pingIntervalMs: a.ping_interval_ms,
    pingTimeoutMs: a.ping_timeout_ms,
    replyPing: { intervalMs: a.reply_ping_interval_ms, timeoutMs: a.reply_ping_timeout_ms },
    reconnect: { initialMs: a.reconnect.initial_ms, maxMs: a.reconnect.max_ms, authFailureMs: a.reconnect.auth_failure_ms },
  };
}

/** Coze may send replies 10 % faster than they play, as in its hardware examples (22 frames of 50 ms a second). */
const DEFAULT_REPLY_PACE = 1.1;

type BackendFactory = (ctx: BackendContext) => AgentBackend;

const backends: Partial<Record<Config["agent"]["backend"], BackendFactory>> & { coze: BackendFactory } = {
  coze: ({ config, url, token, log, clock, extraParams }) => {
    const a = config.agent;
    return new CozeBackend(
      {
        url,
        botId: a.bot_id,
        token,
        ...(a.device_id ? { deviceId: a.device_id } : {}),
        session: {
          userId: config.conversation.user_id,
          ...(config.conversation.conversation_id ? { conversationId: config.conversation.conversation_id } : {}),
          input: { codec: config.audio.uplink_codec, sampleRate: config.audio.uplink_rate, channels: 1 },
          output: { codec: config.audio.downlink_codec, sampleRate: config.audio.downlink_rate, channels: 1 },
          // Coze's hardware examples: 60 ms Opus packets; 40 ms chunks otherwise.
          outputFrameMs: config.audio.downlink_codec === "opus" ? 60 : 40,
          ...(a.voice_id ? { voiceId: a.voice_id } : {}),
          speechRate: a.speech_rate,
          replyPace: a.reply_pace ?? DEFAULT_REPLY_PACE,
          ...(a.opus_bitrate !== undefined ? { opusBitrate: a.opus_bitrate } : {}),
          ...(a.opus_cbr !== undefined ? { opusCbr: a.opus_cbr } : {}),
          ...(extraParams ? { extraParams } : {}),
          turnDetection:
            config.conversation.mode === "free"
              ? { type: "server_vad", prefixPaddingMs: config.conversation.vad.prefix_padding_ms, silenceDurationMs: config.conversation.vad.silence_duration_ms }
              : { type: "client_interrupt" },
        },
        vad: { prefixPaddingMs: config.conversation.vad.prefix_padding_ms, silenceDurationMs: config.conversation.vad.silence_duration_ms },
        ...linkSettings(a),
      },
      log.child({ backend: "coze" }),
      clock,
    );
  },
};

backends.realtime = ({ config, url, token, log, clock, tools, state }) => {
  const a = config.agent;
  const vad = config.conversation.vad;
  return new RealtimeBackend(
    {
      flavour: a.flavour,
      url,
      token,
      ...(a.custom_model ? { customModel: a.custom_model } : {}),
      ...(a.coze_bot_id ? { cozeBotId: a.coze_bot_id } : {}),
      session: {
        ...(a.instructions !== undefined ? { instructions: a.instructions } : {}),
        ...(a.voice !== undefined ? { voice: a.voice } : {}),
        ...(a.temperature !== undefined ? { temperature: a.temperature } : {}),
        ...(a.noise_reduction !== undefined ? { noiseReduction: a.noise_reduction } : {}),
        ...(a.transcription ? { transcriptionModel: a.transcription_model } : {}),
        tools,
        input: { codec: config.audio.uplink_codec, sampleRate: config.audio.uplink_rate, channels: 1 },
        output: { codec: config.audio.downlink_codec, sampleRate: config.audio.downlink_rate, channels: 1 },
        vad: { prefixPaddingMs: vad.prefix_padding_ms, silenceDurationMs: vad.silence_duration_ms },
      },
      mode: config.conversation.mode,
      keepaliveMs: a.keepalive_ms,
      ...linkSettings(a),
      state,
    },
    log.child({ backend: "realtime", flavour: a.flavour }),
    clock,
  );
};

export function createBackend(ctx: BackendContext): AgentBackend {
  return backends[ctx.config.agent.backend]!(ctx);
}
