import { z } from "zod";

export const EMULATOR_URL = "emulator";
export const SAMPLE_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000] as const;

/** Widened to number: consumers compute with rates, and the allowed set is enforced here. */
export const sampleRate: z.ZodType<number> = z.literal(SAMPLE_RATES);

export const boardName = z.string().min(1).default("sim");

const FREE_MODE = "free conversation is not supported yet; use push-to-talk";
const AGENT_URL = `expected "${EMULATOR_URL}" (the built-in emulator) or a ws:// or wss:// URL such as wss://ws.coze.cn/v1/chat`;

const positiveInt = () => z.int().positive();

/** Audio device defaults; they come from the board profile, so the schema is built per board. */
export interface AudioDefaults {
  input: { device: string; sample_rate: number };
  output: { device: string; sample_rate: number };
}

const agentSchema = z
  .strictObject({
    backend: z.enum(["coze"]).default("coze"),
    url: z
      .union([z.literal(EMULATOR_URL), z.url({ protocol: /^wss?$/, error: AGENT_URL })], { error: AGENT_URL })
      .default("wss://ws.coze.cn/v1/chat"),
    bot_id: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    device_id: z
      .string({ error: 'expected digits in quotes, e.g. device_id: "7351234567890" (unquoted, large numbers lose precision)' })
      .regex(/^\d+$/, "expected digits only (an int64 written as a string)")
      .optional(),
    voice_id: z.string().min(1).optional(),
    speech_rate: z.int().min(-50).max(100).default(0),
    connect_timeout_ms: positiveInt().default(10_000),
    ping_interval_ms: positiveInt().default(15_000),
    ping_timeout_ms: positiveInt().default(10_000),
    reconnect: z
      .strictObject({
        initial_ms: positiveInt().default(500),
        max_ms: positiveInt().default(30_000),
        auth_failure_ms: positiveInt().default(300_000),
      })
      .prefault({}),
  })
  .superRefine((agent, ctx) => {
    if (agent.url === EMULATOR_URL) return;
    if (agent.bot_id === undefined) {
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
        message: "required for a real agent URL: set agent.token in the config file or the TALKBOX_TOKEN environment variable",
      });
    }
  })
  .transform(({ bot_id, ...agent }) => ({ ...agent, bot_id: bot_id ?? "emulator-bot" }));

export function configSchema(audio: AudioDefaults) {
  return z.strictObject({
    board: boardName,
    agent: agentSchema.prefault({}),
    conversation: z
      .strictObject({
        mode: z
          .enum(["push-to-talk"], { error: (iss) => (iss.input === "free" ? FREE_MODE : undefined) })
          .default("push-to-talk"),
        user_id: z.string().min(1).default("talkbox"),
        conversation_id: z.string().min(1).optional(),
        // How long 'thinking' may last before it becomes an error.
        reply_timeout_ms: positiveInt().default(20_000),
        // A press held longer is taken as released: a stuck button or a client that died holding it.
        max_turn_ms: positiveInt().default(60_000),
      })
      .prefault({}),
    audio: z
      .strictObject({
        input: z
          .strictObject({
            device: z.string().min(1).default(audio.input.device),
            sample_rate: sampleRate.default(audio.input.sample_rate),
            frame_ms: z.literal(20, { error: "expected 20 (the only frame length supported so far)" }).default(20),
          })
          .prefault({}),
        output: z
          .strictObject({
            device: z.string().min(1).default(audio.output.device),
            sample_rate: sampleRate.default(audio.output.sample_rate),
          })
          .prefault({}),
      })
      .prefault({}),
    control: z.strictObject({ socket: z.string().min(1).default("/run/talkbox/control.sock") }).prefault({}),
    log: z
      .strictObject({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
        format: z.enum(["auto", "json", "pretty"]).default("auto"),
      })
      .prefault({}),
  });
}

/** The effective config: every default filled in. */
export type Config = z.output<ReturnType<typeof configSchema>>;

