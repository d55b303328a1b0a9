/**
 * OpenAI-Realtime-compatible servers (`/v1/realtime`): the Volcengine AI gateway (seed 001)
 * and OpenAI itself. `agent.backend: realtime`, settings under `agent.realtime`.
 */
import { z } from "zod";
import { defineBackend } from "../descriptor";
import { RealtimeBackend, realtimeCapabilities } from "./client";
import { PCM16_RATE } from "./protocol";
import { checkFormats } from "./session-config";

const DEFAULT_URLS = {
  volcengine: "wss://ai-gateway.vei.volces.com/v1/realtime?model=AG-voice-chat-agent",
  openai: "wss://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview",
} as const;

/** What the emulator's endpoint asks for, as the gateway's voice chat agent. */
const EMULATOR_MODEL = "AG-voice-chat-agent";

const settings = z
  .strictObject({
    // Which server speaks the protocol.
    flavour: z.enum(["volcengine", "openai"]).default("volcengine"),
    // The system prompt, the voice, sampling temperature, and transcripts of the user's speech.
    instructions: z.string().min(1).optional(),
    voice: z.string().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    // openai: the model cleans the mic before it hears it; near_field for a mic a hand's
    // width from the mouth (a car, a headset), far_field across a room (a smart speaker).
    noise_reduction: z.enum(["near_field", "far_field"]).optional(),
    transcription: z.boolean().default(false),
    transcription_model: z.string().min(1).default("whisper-1"),
    // volcengine: a model behind the gateway (ag-custom-model), or a Coze bot (ag-coze-bot-id).
    custom_model: z.string().min(1).optional(),
    coze_bot_id: z.string().min(1).optional(),
    // A harmless client message after this long without one, so the gateway's 120 s idle
    // close never drops the session (0: let it close and reconnect at once).
    keepalive_ms: z.int().min(0).max(110_000).default(100_000),
  })
  .superRefine((s, ctx) => {
    if (s.flavour === "openai") {
      // OpenAI's beta Realtime API takes 0.6–1.2 and refuses the session otherwise: say so now, not at connect.
      if (s.temperature !== undefined && (s.temperature < 0.6 || s.temperature > 1.2)) {
        ctx.addIssue({ code: "custom", path: ["temperature"], message: `OpenAI's Realtime API takes 0.6 to 1.2 (0.8 is its default); got ${s.temperature}` });
      }
    } else if (s.noise_reduction !== undefined) {
      ctx.addIssue({ code: "custom", path: ["noise_reduction"], message: "only the OpenAI Realtime API has it (agent.backend: realtime, agent.realtime.flavour: openai); remove the key" });
    }
  });

export type RealtimeSettings = z.output<typeof settings>;

export const realtimeBackend = defineBackend({
  name: "realtime",
  title: "an OpenAI-Realtime-compatible server",
  settings,
  complete: (s) => s,
  defaultUrl: (s) => DEFAULT_URLS[s.flavour],
  // The servers take pcm16 at their own fixed rate (or G.711 on OpenAI), never the board's Opus.
  wireDefaults: (s) => ({ uplinkRate: PCM16_RATE[s.flavour], downlinkRate: PCM16_RATE[s.flavour], boardCodecs: false }),
  checkFormats: (s, input, output) => checkFormats(s.flavour, input, output),
  credentialKeys: [],
  credentials: () => ({}),
  capabilities: (s) => realtimeCapabilities(s.flavour, s.flavour === "volcengine" ? s.coze_bot_id : undefined),
  create: ({ settings: s, url, token, link, session, log, clock, tools, conversations }) =>
    new RealtimeBackend(
      {
        flavour: s.flavour,
        url,
        token,
        ...(s.custom_model ? { customModel: s.custom_model } : {}),
        ...(s.coze_bot_id ? { cozeBotId: s.coze_bot_id } : {}),
        session: {
          ...(s.instructions !== undefined ? { instructions: s.instructions } : {}),
          ...(s.voice !== undefined ? { voice: s.voice } : {}),
          ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
          ...(s.noise_reduction !== undefined ? { noiseReduction: s.noise_reduction } : {}),
          ...(s.transcription ? { transcriptionModel: s.transcription_model } : {}),
          tools,
          input: session.input,
          output: session.output,
          vad: session.vad,
        },
        mode: session.mode,
        keepaliveMs: s.keepalive_ms,
        deviceUserId: session.userId,
        ...link,
        conversations,
      },
      log.child({ backend: "realtime", flavour: s.flavour }),
      clock,
    ),
  emulator: { path: "/v1/realtime", url: (base) => `${base}/v1/realtime?model=${EMULATOR_MODEL}` },
});
