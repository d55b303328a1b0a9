import { z } from "zod";
import { CODECS, allowedRates } from "../core/media";
import { DEVICE_RATES } from "../core/pcm";
import { PCM16_RATE } from "../agent/realtime/protocol";
import { checkFormats } from "../agent/realtime/session-config";

export const EMULATOR_URL = "emulator";

/** Widened to number: consumers compute with rates, and the allowed set is enforced here. */
export const sampleRate: z.ZodType<number> = z.literal(DEVICE_RATES);

export const boardName = z.string().min(1).default("sim");

const AGENT_URL = `expected "${EMULATOR_URL}" (the built-in emulator) or a ws:// or wss:// URL such as wss://ws.coze.cn/v1/chat`;

/**
 * A duration key: a whole number of milliseconds between `min` and `max`. Every one
 * has a ceiling: Node fires a timer above 2^31−1 ms after 1 ms, so an unbounded
 * `auth_failure_ms: 3000000000` would be a reconnect loop, not a long wait.
 */
const duration = (min: number, max: number) => z.int().min(min).max(Math.min(max, 2 ** 31 - 1));
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Audio device defaults; they come from the board profile, so the schema is built per board. */
export interface AudioDefaults {
  input: DeviceDefaults;
  output: DeviceDefaults;
  /** The board cancels the speaker's echo in hardware. */
  aec: boolean;
  /** The codecs that suit the board's CPU and link (Coze only: Realtime servers take pcm and G.711). */
  codecs?: { uplink?: z.infer<typeof CODEC>; downlink?: z.infer<typeof CODEC> };
}

interface DeviceDefaults {
  device: string;
  sample_rate: number;
  channels: number;
  format: "S16_LE" | "S32_LE";
}

const CODEC = z.enum(CODECS);

function device(d: DeviceDefaults) {
  return z
    .strictObject({
      device: z.string().min(1).default(d.device),
      sample_rate: sampleRate.default(d.sample_rate),
      channels: z.int().min(1).max(8).default(d.channels),
      format: z.enum(["S16_LE", "S32_LE"]).default(d.format),
    })
    .prefault({});
}

/** The wire rate for a codec: g711 is always 8000 Hz; otherwise the given or default rate, if the codec allows it. */
function wireRate(codec: z.infer<typeof CODEC>, rate: number | undefined, fallback: number, key: string, ctx: z.RefinementCtx<unknown>): number {
  const allowed = allowedRates(codec);
  const effective = rate ?? (allowed.includes(fallback) ? fallback : allowed[0]!);
  if (!allowed.includes(effective)) {
    ctx.addIssue({ code: "custom", path: ["audio", key], message: `${codec} runs at ${allowed.join(", ")} Hz; leave ${key} out or pick one of those` });
  }
  return effective;
}

/** Where each backend lives unless agent.url says otherwise. */
export const DEFAULT_AGENT_URLS = {
  coze: "wss://ws.coze.cn/v1/chat",
  volcengine: "wss://ai-gateway.vei.volces.com/v1/realtime?model=AG-voice-chat-agent",
  openai: "wss://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview",
} as const;

const agentSchema = z
  .strictObject({
    // coze: Coze realtime voice chat (/v1/chat). realtime: OpenAI-Realtime-compatible (Volcengine AI gateway, OpenAI).
    backend: z.enum(["coze", "realtime"]).default("coze"),
    // realtime only: which server speaks the protocol.
    flavour: z.enum(["volcengine", "openai"]).default("volcengine"),
    url: z.union([z.literal(EMULATOR_URL), z.url({ protocol: /^wss?$/, error: AGENT_URL })], { error: AGENT_URL }).optional(),
    bot_id: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    device_id: z
      .string({ error: 'expected digits in quotes, e.g. device_id: "7351234567890" (unquoted, large numbers lose precision)' })
      .regex(/^\d+$/, "expected digits only (an int64 written as a string)")
      .optional(),
    voice_id: z.string().min(1).optional(),
    speech_rate: z.int().min(-50).max(100).default(0),
    // coze: how fast the server may send a reply, as a multiple of real time (limit_config:
    // frames per second); a little above 1 keeps the speaker fed without queueing the whole
    // reply ahead of it. 0: no limit (Coze sends as fast as it synthesises). Default 1.1.
    reply_pace: z.number().min(0).max(10).refine((v) => v === 0 || v >= 1, "expected 0 (no limit) or 1 to 10 (times real time)").optional(),
    // coze, audio.downlink_codec opus: the server's Opus encoder (opus_config.bitrate, use_cbr).
    opus_bitrate: z.int().min(6000).max(510_000).optional(),
    opus_cbr: z.boolean().optional(),
    // realtime: the system prompt, the voice, sampling temperature, and transcripts of the user's speech.
    instructions: z.string().min(1).optional(),
    voice: z.string().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    // realtime/openai: the model cleans the mic before it hears it; near_field for a mic a
    // hand's width from the mouth (a car, a headset), far_field across a room (a smart speaker).
    noise_reduction: z.enum(["near_field", "far_field"]).optional(),
    transcription: z.boolean().default(false),
    transcription_model: z.string().min(1).default("whisper-1"),
    // realtime/volcengine: a model behind the gateway (ag-custom-model), or a Coze bot (ag-coze-bot-id).
    custom_model: z.string().min(1).optional(),
    coze_bot_id: z.string().min(1).optional(),
    // realtime: a harmless client message after this long without one, so the gateway's
    // 120 s idle close never drops the session (0: let it close and reconnect at once).
    keepalive_ms: z.int().min(0).max(110_000).default(100_000),
    connect_timeout_ms: duration(100, 2 * MINUTE).default(10_000),
    // Between turns: a ping this often, and the link is dead if its pong takes longer than the timeout.
    ping_interval_ms: duration(100, 10 * MINUTE).default(15_000),
    ping_timeout_ms: duration(100, 2 * MINUTE).default(10_000),
    // While a reply is expected (after the end of a turn, until the reply is over): a dead link is
    // noticed within interval + timeout, not 25 s. Raise both on a slow cellular link, where a
    // pong can take seconds; anything heard from the agent also counts as alive.
    reply_ping_interval_ms: duration(100, 10 * MINUTE).default(1500),
    reply_ping_timeout_ms: duration(100, 2 * MINUTE).default(2500),
    reconnect: z
      .strictObject({
        initial_ms: duration(10, HOUR).default(500),
        max_ms: duration(100, HOUR).default(30_000),
        // After the server rejected the credentials or the account's quota is used up.
        auth_failure_ms: duration(1000, 24 * HOUR).default(300_000),
      })
      .prefault({}),
  })
  .superRefine((agent, ctx) => {
    if (agent.backend === "realtime" && agent.flavour === "openai") {
      // OpenAI's beta Realtime API takes 0.6–1.2 and refuses the session otherwise: say so now, not at connect.
      if (agent.temperature !== undefined && (agent.temperature < 0.6 || agent.temperature > 1.2)) {
        ctx.addIssue({ code: "custom", path: ["temperature"], message: `OpenAI's Realtime API takes 0.6 to 1.2 (0.8 is its default); got ${agent.temperature}` });
      }
    } else if (agent.noise_reduction !== undefined) {
      ctx.addIssue({ code: "custom", path: ["noise_reduction"], message: "only the OpenAI Realtime API has it (agent.backend: realtime, agent.flavour: openai); remove the key" });
    }
    if (agent.backend !== "coze") {
      for (const key of ["reply_pace", "opus_bitrate", "opus_cbr"] as const) {
        if (agent[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "only Coze takes it (agent.backend: coze); remove the key" });
      }
    }
    if (agent.url === EMULATOR_URL) return;
    if (agent.backend === "coze" && agent.bot_id === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["bot_id"],
        message: "required for a real agent URL: set agent.bot_id in the config file or the TALKBOX_BOT_ID environment variable",
      });
    }
    if (agent.token === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["token"],
        message: "required for a real agent URL: set agent.token in the config file, the TALKBOX_TOKEN environment variable or a systemd credential named token",
      });
    }
  })
  .transform(({ bot_id, url, ...agent }) => ({
    ...agent,
    url: url ?? (agent.backend === "coze" ? DEFAULT_AGENT_URLS.coze : DEFAULT_AGENT_URLS[agent.flavour]),
    bot_id: bot_id ?? "emulator-bot",
  }));

export function configSchema(audio: AudioDefaults) {
  return z.strictObject({
    board: boardName,
    // Any board-profile key, merged over the profile (mappings merge, lists replace); validated with it.
    board_overrides: z.record(z.string(), z.unknown()).optional(),
    agent: agentSchema.prefault({}),
    conversation: z
      .strictObject({
        // push-to-talk: the device ends the turn at key release; free: the server's VAD decides.
        mode: z.enum(["push-to-talk", "free"]).default("push-to-talk"),
        user_id: z.string().min(1).default("talkbox"),
        conversation_id: z.string().min(1).optional(),
        // How long 'thinking' may last before it becomes an error.
        reply_timeout_ms: duration(100, 10 * MINUTE).default(20_000),
        // A press held longer is taken as released: a stuck button or a client that died holding it.
        max_turn_ms: duration(100, HOUR).default(60_000),
        // Server VAD (free conversation): audio kept before speech starts, silence that ends a turn.
        vad: z
          .strictObject({
            prefix_padding_ms: z.int().min(0).max(5000).default(600),
            silence_duration_ms: z.int().min(100).max(10_000).default(500),
          })
          .prefault({}),
      })
      .prefault({}),
    audio: z
      .strictObject({
        input: device(audio.input),
        output: device(audio.output),
        uplink_codec: CODEC.optional(),
        uplink_rate: sampleRate.optional(),
        downlink_codec: CODEC.optional(),
        downlink_rate: sampleRate.optional(),
        opus_frame_ms: z.union([z.literal(20), z.literal(40)], { error: "expected 20 or 40" }).default(20),
        // Audio per mic read. Unset: 40 ms in push-to-talk (a release loses at most that),
        // 80 ms in free conversation (half the wake-ups; the turn's end waits on the VAD's
        // silence window anyway). Follows a double-press mode switch unless set.
        capture_period_ms: z.int().min(10).max(200).optional(),
        // gate: the mic sends silence while the speaker plays (+ tail), so the agent never hears itself.
        // none: full duplex, for boards with acoustic echo cancellation.
        echo: z.enum(["gate", "none"]).default(audio.aec ? "none" : "gate"),
        echo_tail_ms: z.int().min(0).max(5000).default(300),
        // The most reply audio kept ahead of the speaker: a server that sends more at once than
        // this gets it played and the rest dropped (one warning; the reply is stopped).
        reply_buffer_ms: duration(5 * SECOND, 10 * MINUTE).default(60_000),
        // The speaker volume the agent's set_volume tool and the control socket change.
        volume: z
          .strictObject({
            // software: a gain on the reply audio; alsa-mixer: the card's mixer control (amixer).
            driver: z.enum(["software", "alsa-mixer"]).default("software"),
            mixer_control: z.string().min(1).default("PCM"),
            mixer_card: z.string().min(1).optional(),
            // Until the user or the agent changes it (then the saved value wins).
            initial_percent: z.int().min(0).max(100).default(100),
          })
          .prefault({}),
      })
      .prefault({}),
    control: z.strictObject({ socket: z.string().min(1).default("/run/talkbox/control.sock") }).prefault({}),
    // What must survive a restart (conversation ids, volume); systemd's StateDirectory= sets $STATE_DIRECTORY.
    state: z.strictObject({ dir: z.string().min(1).default(process.env.STATE_DIRECTORY ?? "/var/lib/talkbox") }).prefault({}),
    // Device tools the agent may call (set_volume, get_volume, get_device_status, set_output).
    tools: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    log: z
      .strictObject({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
        format: z.enum(["auto", "json", "pretty"]).default("auto"),
      })
      .prefault({}),
  }).transform((c, ctx) => {
    // The wire rates default to what the chosen backend takes.
    const coze = c.agent.backend === "coze";
    const defaults = coze ? { up: 16000, down: 24000 } : { up: PCM16_RATE[c.agent.flavour], down: PCM16_RATE[c.agent.flavour] };
    // The board's codecs are the defaults on Coze; Realtime servers take pcm (or G.711) only.
    const uplink_codec = c.audio.uplink_codec ?? (coze ? audio.codecs?.uplink : undefined) ?? "pcm";
    const downlink_codec = c.audio.downlink_codec ?? (coze ? audio.codecs?.downlink : undefined) ?? "pcm";
    const a = {
      ...c.audio,
      uplink_codec,
      downlink_codec,
      uplink_rate: wireRate(uplink_codec, c.audio.uplink_rate, defaults.up, "uplink_rate", ctx),
      downlink_rate: wireRate(downlink_codec, c.audio.downlink_rate, defaults.down, "downlink_rate", ctx),
    };
    if (a.downlink_codec !== "opus") {
      for (const key of ["opus_bitrate", "opus_cbr"] as const) {
        if (c.agent[key] !== undefined) ctx.addIssue({ code: "custom", path: ["agent", key], message: `applies to Opus replies only, and audio.downlink_codec is ${a.downlink_codec}; set audio.downlink_codec: opus or remove the key` });
      }
    }
    if (c.agent.backend === "realtime") {
      const issues = checkFormats(
        c.agent.flavour,
        { codec: a.uplink_codec, sampleRate: a.uplink_rate, channels: 1 },
        { codec: a.downlink_codec, sampleRate: a.downlink_rate, channels: 1 },
      );
      for (const message of issues) ctx.addIssue({ code: "custom", path: ["audio"], message });
    }
    return { ...c, audio: a };
  });
}

/** The effective config: every default filled in. */
export type Config = z.output<ReturnType<typeof configSchema>>;

