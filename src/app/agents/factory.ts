/**
 * Builds an agent profile's backend through its descriptor: its settings section, the shared
 * link keys, the conversation's settings. When any profile has `url: emulator` the built-in
 * emulator is started once (loaded only then) and those profiles pointed at its endpoint for
 * their protocol.
 */
import type { AgentBackend, Credentials } from "../../agent/backend";
import type { BackendContext } from "../../agent/descriptor";
import type { LinkSettings } from "../../agent/link-settings";
import { backends } from "../../agent/registry";
import { DEFAULT_PROFILE } from "../../config/agent-profiles";
import type { ConversationBook } from "../../core/conversations";
import type { AgentConfig, Config } from "../../config/schema";
import { EMULATOR_URL, sectionOf } from "../../config/schema";
import type { Logger } from "../../log/logger";
import { profilesOf, type AgentProfile } from "./profiles";

export interface AgentServices extends Pick<BackendContext<unknown>, "log" | "clock" | "extraParams" | "tools"> {
  /** The saved conversations of `profile`'s agent `scope` (the descriptor's scope, e.g. `coze.<bot id>`). */
  conversations(profile: string, scope: string): ConversationBook;
}

export class AgentFactory {
  readonly profiles: readonly AgentProfile[];

  private constructor(
    private readonly config: Config,
    private readonly services: AgentServices,
    private readonly link: Partial<Omit<LinkSettings, "url">>,
    /** The emulator's `ws://host:port`, when a profile uses it. */
    private readonly emulatorBase: string | null,
    private readonly emulator: { close(): Promise<void> } | null,
  ) {
    this.profiles = profilesOf(config);
  }

  static async open(config: Config, services: AgentServices, link: Partial<Omit<LinkSettings, "url">> = {}): Promise<AgentFactory> {
    const emulated = profilesOf(config).some((p) => p.agent.url === EMULATOR_URL);
    const emulator = emulated ? await startBuiltInEmulator(services.log) : null;
    const factory = new AgentFactory(config, services, link, emulator?.base ?? null, emulator);
    const urls = factory.profiles.filter((p) => p.agent.url === EMULATOR_URL).map((p) => factory.url(p));
    if (emulator) services.log.info({ url: urls[0], ...(urls.length > 1 ? { urls } : {}) }, "using the built-in emulator (echo agent)");
    return factory;
  }

  profile(name: string): AgentProfile | undefined {
    return this.profiles.find((p) => p.name === name);
  }

  /** Where `profile` connects (the emulator's endpoint for `url: emulator`). */
  url(profile: AgentProfile): string {
    const settings = sectionOf(profile.agent, profile.descriptor.name);
    if (profile.agent.url !== EMULATOR_URL) return profile.agent.url;
    return profile.descriptor.emulator.url(this.emulatorBase!, settings);
  }

  /** A new backend for `profile`, not started; `mode`: the conversation's mode now. */
  create(profile: AgentProfile, mode: Config["conversation"]["mode"] = this.config.conversation.mode): AgentBackend {
    const c = this.config.conversation;
    const a = this.config.audio;
    return profile.descriptor.create({
      log: profile.name === DEFAULT_PROFILE ? this.services.log : this.services.log.child({ agent: profile.name }),
      clock: this.services.clock,
      tools: this.services.tools,
      ...(this.services.extraParams ? { extraParams: this.services.extraParams } : {}),
      conversations: (scope) => this.services.conversations(profile.name, scope),
      settings: sectionOf(profile.agent, profile.descriptor.name),
      url: this.url(profile),
      token: profile.agent.url === EMULATOR_URL ? "emulator" : (profile.agent.token ?? ""),
      link: { ...linkSettings(profile.agent), ...this.link },
      session: {
        mode,
        userId: c.user_id,
        ...(c.conversation_id && profile.name === DEFAULT_PROFILE ? { conversationId: c.conversation_id } : {}),
        vad: { prefixPaddingMs: c.vad.prefix_padding_ms, silenceDurationMs: c.vad.silence_duration_ms },
        input: { codec: a.uplink_codec, sampleRate: a.uplink_rate, channels: 1 },
        output: { codec: a.downlink_codec, sampleRate: a.downlink_rate, channels: 1 },
      },
    });
  }

  /** The credentials to hand `profile`'s running backend from a re-read config (reload); null: none there. */
  credentials(profile: AgentProfile, next: Config): Credentials | null {
    const again = profilesOf(next).find((p) => p.name === profile.name && p.descriptor === profile.descriptor);
    if (!again) return null;
    // The emulator takes any token: a reload keeps the one it was given.
    const token = again.agent.url === EMULATOR_URL ? "emulator" : again.agent.token;
    if (token === undefined) return null;
    // A reload does not switch a profile's backend (that needs a restart): the running one's section applies.
    return { token, ...profile.descriptor.credentials(sectionOf(again.agent, profile.descriptor.name)) };
  }

  /**
   * A re-read config's credentials (each profile's token and its backend's credential keys) for
   * the links opened from now on: a switch to a profile after `systemctl reload` uses its new token.
   */
  reload(next: Config): void {
    for (const p of this.profiles) {
      const again = profilesOf(next).find((x) => x.name === p.name && x.descriptor === p.descriptor);
      if (!again) continue;
      const name = p.descriptor.name;
      const section = { ...(sectionOf(p.agent, name) as Record<string, unknown>) };
      const fresh = sectionOf(again.agent, name) as Record<string, unknown>;
      for (const key of p.descriptor.credentialKeys) section[key] = fresh[key];
      p.agent = { ...p.agent, token: again.agent.token, [name]: section } as AgentConfig;
    }
  }

  async close(): Promise<void> {
    await this.emulator?.close();
  }
}

/** The link's patience, the same keys for every backend (url apart). */
function linkSettings(a: AgentConfig): Omit<LinkSettings, "url"> {
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
  const { startEmulator } = await import("../../emulator/server.js");
  return startEmulator({ log: log.child({ component: "emulator" }), backends: backends() });
}
