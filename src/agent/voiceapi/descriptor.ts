/**
 * The voice API in front of a text chat-bot platform (seed 002): `agent.backend: voiceapi`,
 * settings under `agent.voiceapi`. The API key is `agent.token` (file, environment or systemd
 * credential, scrubbed from every log line, as every backend's token); `agent.voiceapi.api_key`
 * is moved there when the config is read (config/agent-aliases.ts).
 */
import { z } from "zod";
import { defineBackend } from "../descriptor";
import { VOICEAPI_CAPABILITIES, VoiceApiBackend } from "./client";
import { OVERRIDE, PATHS } from "./names";

/** Linear16 rates a speech service takes. */
const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
const rate = () =>
  z
    .int()
    .refine((r) => (RATES as readonly number[]).includes(r), `expected one of ${RATES.join(", ")}`)
    .default(16000);

const settings = z.strictObject({
  // The platform's host (where the bot was built), e.g. voice.example.com; required for a real agent.
  host: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "expected a host name, optionally with :port, e.g. voice.example.com (no wss://, no path)")
    .optional(),
  version: z.enum(["v1", "v2"]).default("v2"),
  // The user when a button names none (v1: the connection's; v2: the default user session's).
  user_id: z.string().min(1).max(256).optional(),
  // Information for the bot's scenario about the user (name → value).
  context: z.record(z.string().min(1).max(64), z.string().max(1024)).optional(),
  // The speech recognition's and the synthesis's rates: the mic is sent at the one, the bot played at the other.
  stt_rate: rate(),
  tts_rate: rate(),
  // More of the channel's STT / bot / TTS settings for this connection, merged over the rates (seed 002's overrides).
  overrides: z.record(z.string(), z.unknown()).optional(),
  // The bot speaks first (its greeting), before the user says anything.
  trigger_bot_first: z.boolean().default(false),
  // Push-to-talk: silence sent after the release, so the server's recognition hears the turn end.
  end_silence_ms: z.int().min(100).max(5000).default(800),
  // The bot's answer is over when none of its audio has come for this long.
  reply_end_ms: z.int().min(200).max(10_000).default(1500),
});

export type VoiceApiSettings = z.output<typeof settings>;

/** The overrides sent: the rates, then the user's own keys over them (a nested object merges one level). */
export function overridesFor(s: VoiceApiSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {
    [OVERRIDE.stt.name]: { [OVERRIDE.sampleRate.name]: s.stt_rate },
    [OVERRIDE.tts.name]: { [OVERRIDE.sampleRate.name]: s.tts_rate },
  };
  for (const [k, v] of Object.entries(s.overrides ?? {})) {
    const base = out[k];
    const isMap = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
    out[k] = isMap(base) && isMap(v) ? { ...base, ...v } : v;
  }
  return out;
}

export const voiceApiBackend = defineBackend({
  name: "voiceapi",
  title: "a voice API (speech recognition → text bot → speech synthesis)",
  settings,
  complete(s, ctx) {
    if (s.host === undefined && !ctx.urlGiven) ctx.issue("host", "required: the host of the platform where the bot was built, e.g. agent.voiceapi.host: voice.example.com (or the whole agent.url)");
    for (const [key, codec] of [["stt_rate", ctx.uplinkCodec], ["tts_rate", ctx.downlinkCodec]] as const) {
      if (codec !== "pcm") ctx.issue(key, `the voice API carries linear16 only; set audio.${key === "stt_rate" ? "uplink" : "downlink"}_codec: pcm`);
    }
    return s;
  },
  defaultUrl: (s) => `wss://${s.host ?? "voice.invalid"}${PATHS[s.version]}`,
  wireDefaults: (s) => ({ uplinkRate: s.stt_rate, downlinkRate: s.tts_rate, boardCodecs: false }),
  checkFormats(s, input, output) {
    const issues: string[] = [];
    if (input.sampleRate !== s.stt_rate) issues.push(`audio.uplink_rate is ${input.sampleRate} but agent.voiceapi.stt_rate is ${s.stt_rate}: the mic goes at the recognition's rate; remove audio.uplink_rate or make them equal`);
    if (output.sampleRate !== s.tts_rate) issues.push(`audio.downlink_rate is ${output.sampleRate} but agent.voiceapi.tts_rate is ${s.tts_rate}: the bot comes at the synthesis's rate; remove audio.downlink_rate or make them equal`);
    return issues;
  },
  credentialKeys: [],
  credentials: () => ({}),
  capabilities: () => VOICEAPI_CAPABILITIES,
  create: ({ settings: s, url, token, link, session, log, clock }) =>
    new VoiceApiBackend(
      {
        url,
        version: s.version,
        token,
        userId: s.user_id ?? session.userId,
        deviceUserId: session.userId,
        ...(s.context ? { context: s.context } : {}),
        overrides: overridesFor(s),
        triggerBotFirst: s.trigger_bot_first,
        sttRate: s.stt_rate,
        ttsRate: s.tts_rate,
        endSilenceMs: s.end_silence_ms,
        replyEndMs: s.reply_end_ms,
        ...link,
      },
      log.child({ backend: "voiceapi", version: s.version }),
      clock,
    ),
  emulator: { path: PATHS.v2, url: (base, s) => `${base}${PATHS[s?.version ?? "v2"]}` },
  // Seed 002: "GET https://{host}/api/voice/v1/user-stt-bot-tts/ping", on the stream's host.
  healthUrl(_s, agentUrl) {
    const u = new URL(agentUrl);
    u.protocol = u.protocol === "ws:" ? "http:" : "https:";
    u.pathname = PATHS.ping;
    u.search = "";
    return u.toString();
  },
});
