import { z } from "zod";
import { CODECS, allowedRates } from "../core/media";
import { DEVICE_RATES } from "../core/pcm";
import type { BackendDescriptor } from "../agent/descriptor";
import { BUILT_IN, backendNamed, backends } from "../agent/registry";
import { ledColor, type Rgb } from "../hardware/leds/patterns";
import { DEFAULT_PROFILE, EMULATOR_URL, inheritProfiles, PROFILE_NAME, PROFILE_NAME_HINT } from "./agent-profiles";

export { EMULATOR_URL };

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
/** An earcon: builtin, off, or a WAV file's path (absolute, or relative to the working directory). */
const earcon = () =>
  z
    .string()
    .min(1)
    .max(4096)
    .refine((v) => v === "builtin" || v === "off" || !v.includes("\0"), "expected builtin, off, or the path of a WAV file")
    .default("off");
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

const agentUrl = z.union([z.literal(EMULATOR_URL), z.url({ protocol: /^wss?$/, error: AGENT_URL })], { error: AGENT_URL }).optional();
const agentToken = z.string().min(1).optional();

/** The link's patience: the same keys for every backend. */
const linkKeys = {
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
};

/** Who a profile is for people: its name, what it says when it takes over, its LED colour. */
const profileKeys = {
  display_name: z.string().min(1).max(64).optional(),
  intro: z.string().min(1).max(300).optional(),
  led_color: ledColor.optional(),
};

/** The keys of `agent` that are not a backend's section. */
const SHARED_AGENT_KEYS: readonly string[] = ["backend", "url", "token", ...Object.keys(linkKeys), ...Object.keys(profileKeys)];

/** Each built-in backend's section, as the effective config types it. */
type BuiltInSections = { [D in (typeof BUILT_IN)[number] as D["name"]]: D extends BackendDescriptor<infer S> ? S : never };

/** The effective agent section: the shared keys (url filled in) and one section per backend. */
export type AgentConfig = {
  /** A registered backend's name. */
  backend: string;
  url: string;
  token?: string;
  display_name?: string;
  intro?: string;
  led_color?: Rgb;
} & z.output<z.ZodObject<typeof linkKeys>> &
  BuiltInSections;

/** `agent`: the shared keys and a section per registered backend (built per call: a test may register one). */
function agentSchema() {
  const all = backends();
  const names = all.map((d) => d.name) as [string, ...string[]];
  for (const name of names) if (SHARED_AGENT_KEYS.includes(name)) throw new Error(`a backend may not be named ${name}: agent.${name} is a shared key`);
  return z.strictObject({
    // Which protocol: coze (Coze realtime voice chat, /v1/chat) or realtime (OpenAI-Realtime-compatible).
    backend: z.enum(names).default(names[0]),
    url: agentUrl,
    token: agentToken,
    ...Object.fromEntries(all.map((d) => [d.name, d.settings.prefault({})])),
    ...linkKeys,
    ...profileKeys,
  });
}

/** `agents`: more agent profiles, each completed from `agent:` before validation (agent-profiles.ts). */
function agentsSchema() {
  return z
    .record(z.string(), agentSchema())
    .superRefine((m, ctx) => {
      const names = Object.keys(m);
      if (names.length > MAX_PROFILES) ctx.addIssue({ code: "custom", message: `at most ${MAX_PROFILES} agent profiles` });
      for (const name of names) {
        // (zod words a bad record key as "Invalid key in record": the user gets why instead.)
        if (name === DEFAULT_PROFILE) ctx.addIssue({ code: "custom", path: [name], message: `the agent: section is the profile ${DEFAULT_PROFILE}; give this one another name` });
        else if (!PROFILE_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: PROFILE_NAME_HINT });
      }
    })
    .default({});
}
const MAX_PROFILES = 16;

/** A backend's section of the agent config, as the config holds it. */
export function sectionOf(agent: AgentConfig, name: string): unknown {
  return (agent as unknown as Record<string, unknown>)[name];
}

export function configSchema(audio: AudioDefaults) {
  const preprocess = (raw: unknown) => inheritProfiles(raw, backends()[0]!.name, Object.keys(linkKeys));
  return z.preprocess(preprocess, z.strictObject({
    board: boardName,
    // Any board-profile key, merged over the profile (mappings merge, lists replace); validated with it.
    board_overrides: z.record(z.string(), z.unknown()).optional(),
    agent: agentSchema().prefault({}),
    // More agents on the device (profiles), switched by command, gesture or the switch_agent tool.
    agents: agentsSchema(),
    conversation: z
      .strictObject({
        // push-to-talk: the device ends the turn at key release; free: the server's VAD decides.
        mode: z.enum(["push-to-talk", "free"]).default("push-to-talk"),
        user_id: z.string().min(1).default("talkbox"),
        conversation_id: z.string().min(1).optional(),
        // After a restart: continue each user's saved conversation (true), start new ones (false),
        // or continue one whose last turn is younger than an age such as "30m" (s, m, h, d).
        continue: z
          .union([z.boolean(), z.string().regex(/^[1-9]\d{0,5}[smhd]$/, 'expected true, false or an age such as "30m", "2h", "1d" (s, m, h, d)')])
          .default("30m"),
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
    // What the device says on its own (seed 004's ExternalTextToSpeech, alerts): the offline voice.
    announce: z
      .strictObject({
        // agent: the agent's own voice when the backend has one and the link is up, else local; local: always the device's.
        voice: z.enum(["agent", "local"]).default("agent"),
        // The language of the built-in phrases (spoken alerts, the idle prompt).
        language: z.enum(["en", "zh"]).default("en"),
        // Free conversation: after this long without the user speaking, say idle_prompt (once per silence); unset: never.
        idle_prompt_ms: duration(1000, HOUR).optional(),
        idle_prompt: z.string().min(1).max(200).optional(),
        // After this long thinking, say slow_reply once per turn, until the answer's first sound; unset: never.
        slow_reply_ms: duration(300, MINUTE).optional(),
        slow_reply: z.string().min(1).max(200).optional(),
        // Spoken alerts, once per incident, never over the user; a phrase "" is not said.
        alerts: z
          .strictObject({
            enabled: z.boolean().default(true),
            offline: z.string().max(200).optional(),
            unreachable: z.string().max(200).optional(),
            auth: z.string().max(200).optional(),
            quota: z.string().max(200).optional(),
            not_found: z.string().max(200).optional(),
            bad_request: z.string().max(200).optional(),
          })
          .prefault({}),
        local_voice: z
          .strictObject({
            // espeak-ng (apt-get install espeak-ng); a full path for another build.
            command: z.string().min(1).default("espeak-ng"),
            // An espeak-ng voice ('espeak-ng --voices'), or auto: Mandarin for Chinese text, else fallback_voice.
            voice: z.string().min(1).max(64).regex(/^[A-Za-z0-9_+\/-]+$/, "expected an espeak-ng voice name such as en-us or cmn, or auto").default("auto"),
            fallback_voice: z.string().min(1).max(64).regex(/^[A-Za-z0-9_+\/-]+$/, "expected an espeak-ng voice name such as en-us").default("en-us"),
            speed_wpm: z.int().min(80).max(450).default(160),
          })
          .prefault({}),
      })
      .prefault({}),
    // Short sounds: each builtin (firmware/sounds/), off, or the path of a 16-bit PCM WAV file of at most 2 s.
    earcons: z
      .strictObject({
        listen_start: earcon(),
        listen_stop: earcon(),
        error: earcon(),
      })
      .prefault({}),
    control: z.strictObject({ socket: z.string().min(1).default("/run/talkbox/control.sock") }).prefault({}),
    // What must survive a restart (conversation ids, volume); systemd's StateDirectory= sets $STATE_DIRECTORY.
    state: z.strictObject({ dir: z.string().min(1).default(process.env.STATE_DIRECTORY ?? "/var/lib/talkbox") }).prefault({}),
    // Conversation analytics: every turn in <state.dir>/analytics.db (SQLite, WAL), `talkbox stats`,
    // and optionally a Prometheus text file for node_exporter's textfile collector.
    analytics: z
      .strictObject({
        enabled: z.boolean().default(true),
        // The oldest conversations go first beyond either bound (an SD card is not filled or worn out).
        keep_days: z.number().int().min(1).max(3650).default(90),
        max_turns: z.number().int().min(100).max(10_000_000).default(100_000),
        // e.g. /var/lib/prometheus/node-exporter/talkbox.prom; unset: none.
        prometheus_file: z.string().min(1).refine((p) => p.endsWith(".prom"), "node_exporter's textfile collector reads only files named *.prom").optional(),
      })
      .prefault({}),
    // Device tools the agent may call (set_volume, get_volume, get_device_status, set_output).
    tools: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    log: z
      .strictObject({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
        format: z.enum(["auto", "json", "pretty"]).default("auto"),
      })
      .prefault({}),
  }).transform((c, ctx) => {
    // Every profile: the `agent:` section (default) and each of `agents:`.
    const profiles = [
      { path: ["agent"], agent: c.agent as unknown as AgentConfig },
      ...Object.entries(c.agents).map(([name, agent]) => ({ path: ["agents", name], agent: agent as unknown as AgentConfig })),
    ];
    const each = profiles.map((p) => ({ ...p, d: backendNamed(p.agent.backend)! }));
    for (const { path, agent } of each) {
      if (agent.url === EMULATOR_URL || agent.token !== undefined) continue;
      const where = path.join(".");
      ctx.addIssue({
        code: "custom",
        path: [...path, "token"],
        message:
          path[0] === "agent"
            ? "required for a real agent URL: set agent.token in the config file, the TALKBOX_TOKEN environment variable or a systemd credential named token"
            : `required for a real agent URL: set ${where}.token (a profile takes agent.token only when it uses the same backend)`,
      });
    }
    // One wire format for every profile (the mic and the speaker do not change with the agent):
    // the default's, or the first profile's defaults that every profile's backend takes.
    const board = each.every((p) => p.d.wireDefaults(sectionOf(p.agent, p.d.name)).boardCodecs);
    const uplink_codec = c.audio.uplink_codec ?? (board ? audio.codecs?.uplink : undefined) ?? "pcm";
    const downlink_codec = c.audio.downlink_codec ?? (board ? audio.codecs?.downlink : undefined) ?? "pcm";
    const settled = each.map((p) => ({
      ...p,
      settings: p.d.complete(sectionOf(p.agent, p.d.name), {
        emulator: p.agent.url === EMULATOR_URL,
        urlGiven: p.agent.url !== undefined,
        uplinkCodec: uplink_codec,
        downlinkCodec: downlink_codec,
        issue: (key, message) => ctx.addIssue({ code: "custom", path: [...p.path, p.d.name, key], message }),
      }),
    }));
    const format = (codec: typeof uplink_codec, sampleRate: number) => ({ codec, sampleRate, channels: 1 as const });
    const problems = (up: number, down: number) =>
      settled.map((p) => ({ p, issues: p.d.checkFormats(p.settings, format(uplink_codec, up), format(downlink_codec, down)) }));
    const candidates = settled.map((p) => {
      const wire = p.d.wireDefaults(p.settings);
      return { up: defaultRate(uplink_codec, c.audio.uplink_rate, wire.uplinkRate), down: defaultRate(downlink_codec, c.audio.downlink_rate, wire.downlinkRate) };
    });
    const chosen = candidates.find((r) => problems(r.up, r.down).every((x) => x.issues.length === 0)) ?? candidates[0]!;
    const a = {
      ...c.audio,
      uplink_codec,
      downlink_codec,
      uplink_rate: wireRate(uplink_codec, c.audio.uplink_rate, chosen.up, "uplink_rate", ctx),
      downlink_rate: wireRate(downlink_codec, c.audio.downlink_rate, chosen.down, "downlink_rate", ctx),
    };
    for (const { p, issues } of problems(a.uplink_rate, a.downlink_rate)) {
      for (const message of issues) {
        const whose = p.path[0] === "agent" ? "" : ` (for the agent profile ${p.path[1]}: every profile shares the audio formats)`;
        ctx.addIssue({ code: "custom", path: ["audio"], message: message + whose });
      }
    }
    const effective = (p: (typeof settled)[number]) => ({ ...p.agent, [p.d.name]: p.settings, url: p.agent.url ?? p.d.defaultUrl(p.settings) }) as AgentConfig;
    const agent = effective(settled[0]!);
    const agents = Object.fromEntries(settled.slice(1).map((p) => [p.path[1]!, effective(p)]));
    return { ...c, agent, agents, audio: a };
  }));
}

/** The rate a codec runs at when the config does not say: the backend's, if the codec allows it. */
function defaultRate(codec: z.infer<typeof CODEC>, rate: number | undefined, fallback: number): number {
  const allowed = allowedRates(codec);
  return rate ?? (allowed.includes(fallback) ? fallback : allowed[0]!);
}
/** The effective config: every default filled in. */
export type Config = z.output<ReturnType<typeof configSchema>>;

