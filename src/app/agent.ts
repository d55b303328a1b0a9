/**
 * The agent backend the config asks for, built through its descriptor: its settings
 * section, the shared link keys, the conversation's settings. With `agent.url: emulator`
 * the built-in emulator is started first (loaded only then) and the backend pointed at
 * its endpoint for this protocol.
 */
import type { AgentBackend, Credentials } from "../agent/backend";
import type { BackendDescriptor, BackendContext } from "../agent/descriptor";
import type { LinkSettings } from "../agent/link-settings";
import { backendNamed, backends } from "../agent/registry";
import type { Config } from "../config/schema";
import { EMULATOR_URL, sectionOf } from "../config/schema";
import type { Logger } from "../log/logger";

export type AgentServices = Pick<BackendContext<unknown>, "log" | "clock" | "extraParams" | "tools" | "conversations">;

export interface OpenedAgent {
  backend: AgentBackend;
  descriptor: BackendDescriptor<unknown>;
  /** Where it connects (the emulator's endpoint for `agent.url: emulator`). */
  url: string;
  /** The emulator started for it, if any. */
  emulator: { close(): Promise<void> } | null;
  /** The credentials to hand the running backend from a re-read config (reload). */
  credentials(next: Config): Credentials | null;
}

export async function openAgent(config: Config, services: AgentServices, link: Partial<Omit<LinkSettings, "url">> = {}): Promise<OpenedAgent> {
  const descriptor = descriptorOf(config);
  const settings = sectionOf(config.agent, descriptor.name);
  let url = config.agent.url;
  let token = config.agent.token ?? "";
  let emulator: OpenedAgent["emulator"] = null;
  if (url === EMULATOR_URL) {
    const started = await startBuiltInEmulator(services.log);
    emulator = started;
    url = descriptor.emulator.url(started.base, settings);
    token = "emulator";
    services.log.info({ url }, "using the built-in emulator (echo agent)");
  }
  const c = config.conversation;
  const a = config.audio;
  try {
    const backend = descriptor.create({
      ...services,
      settings,
      url,
      token,
      link: { ...linkSettings(config.agent), ...link },
      session: {
        mode: c.mode,
        userId: c.user_id,
        ...(c.conversation_id ? { conversationId: c.conversation_id } : {}),
        vad: { prefixPaddingMs: c.vad.prefix_padding_ms, silenceDurationMs: c.vad.silence_duration_ms },
        input: { codec: a.uplink_codec, sampleRate: a.uplink_rate, channels: 1 },
        output: { codec: a.downlink_codec, sampleRate: a.downlink_rate, channels: 1 },
      },
    });
    const credentials = (next: Config): Credentials | null => {
      // The emulator takes any token: a reload keeps the one it was given.
      const nextToken = next.agent.url === EMULATOR_URL ? token : next.agent.token;
      if (nextToken === undefined) return null;
      // A reload does not switch backends (that needs a restart): the running one's section applies.
      return { token: nextToken, ...descriptor.credentials(sectionOf(next.agent, descriptor.name)) };
    };
    return { backend, descriptor, url, emulator, credentials };
  } catch (err) {
    await emulator?.close();
    throw err;
  }
}

function descriptorOf(config: Config): BackendDescriptor<unknown> {
  const d = backendNamed(config.agent.backend);
  // The config schema only takes registered names: this is a programming error.
  if (!d) throw new Error(`no backend named ${config.agent.backend} is registered`);
  return d;
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

/** The emulator, with every registered backend's stand-in; imported here only, and only when asked for. */
async function startBuiltInEmulator(log: Logger): Promise<{ base: string; close(): Promise<void> }> {
  const { startEmulator } = await import("../emulator/server.js");
  return startEmulator({ log: log.child({ component: "emulator" }), backends: backends() });
}
