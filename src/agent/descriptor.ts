/**
 * What a backend folder tells the rest of the device about itself: one descriptor per
 * protocol. The config schema composes `agent.<name>` from its settings schema, the daemon
 * and `talkbox doctor` build it through its factory, and the emulator serves it at its
 * endpoint. Adding a protocol is a folder with one of these and a line in registry.ts.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { z } from "zod";
import type WebSocket from "ws";
import type { Clock } from "../core/clock";
import type { AudioFormat } from "../core/media";
import type { ConversationBook } from "../core/conversations";
import type { ToolSpec } from "../core/tool-spec";
import type { Logger } from "../log/logger";
import type { AgentBackend, BackendCapabilities, Credentials } from "./backend";
import type { LinkSettings } from "./link-settings";

/** The conversation's settings every backend is told, already in device terms. */
export interface SessionSettings {
  mode: "push-to-talk" | "free";
  userId: string;
  /** A conversation to continue (conversation.conversation_id). */
  conversationId?: string;
  /** Voice activity detection: audio kept before speech, silence that ends a turn. */
  vad: { prefixPaddingMs: number; silenceDurationMs: number };
  /** The mic on the wire and the reply on the wire, as configured (audio.uplink_* / downlink_*). */
  input: AudioFormat;
  output: AudioFormat;
}

/** Everything a factory gets: its own settings section and the device's shared services. */
export interface BackendContext<S> {
  /** `agent.<name>`, validated and completed by the descriptor. */
  settings: S;
  /** The agent URL to use (the emulator's when agent.url is `emulator`). */
  url: string;
  /** The token to send; the emulator accepts any. */
  token: string;
  /** The link's patience (agent.connect_timeout_ms, ping, reconnect: the same keys for every backend). */
  link: Omit<LinkSettings, "url">;
  session: SessionSettings;
  log: Logger;
  clock: Clock;
  /** Extra parameters for the agent at each session start (the car's GPS position). */
  extraParams?: () => Record<string, string> | null;
  /** Device tools to declare to the agent (empty when tools are disabled). */
  tools: ToolSpec[];
  /**
   * The saved conversations of one agent (`scope` names it, e.g. `coze.<bot id>`: ids of another
   * bot are never sent), per user; `conversation.continue` decides what continues after a restart.
   */
  conversations(scope: string): ConversationBook;
}

/** What the config check knows beyond the backend's own section. */
export interface SettingsContext {
  /** agent.url is `emulator`: credentials are not needed. */
  emulator: boolean;
  /** agent.url is set (to a real agent or the emulator): the backend's own address keys are not needed. */
  urlGiven: boolean;
  uplinkCodec: AudioFormat["codec"];
  downlinkCodec: AudioFormat["codec"];
  /** Reports a problem with `agent.<name>.<key>`; the message says what to do. */
  issue(key: string, message: string): void;
}

/** One WebSocket connection to a backend's stand-in in the emulator. */
export interface EmulatorConnection {
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  log: Logger;
}

export interface EmulatorEndpoint<S> {
  /** The HTTP path the emulator serves the protocol at (e.g. /v1/chat). */
  path: string;
  /** The URL a device uses to reach it, from the emulator's `ws://host:port` (settings: the device's, when one asks). */
  url(base: string, settings?: S): string;
  /**
   * Serves one connection. The built-in protocols are served by the emulator itself
   * (it keeps records the tests read); a protocol from elsewhere brings its stand-in here.
   */
  serve?(ws: WebSocket, connection: EmulatorConnection): void;
}

export interface BackendDescriptor<S = unknown> {
  /** agent.backend, and the name of its settings section (agent.<name>). */
  readonly name: string;
  /** For people: "Coze", "an OpenAI-Realtime-compatible server". */
  readonly title: string;
  /** agent.<name>: every key with its default (an empty section is valid). */
  readonly settings: z.ZodType<S>;
  /** Completes and cross-checks the settings with what the rest of the config says (credentials needed for a real agent, codec-bound keys). */
  complete(settings: S, ctx: SettingsContext): S;
  /** Where the agent lives unless agent.url says otherwise. */
  defaultUrl(settings: S): string;
  /** The wire rates when audio.uplink_rate / downlink_rate are unset, and whether the board's preferred codecs apply. */
  wireDefaults(settings: S): { uplinkRate: number; downlinkRate: number; boardCodecs: boolean };
  /** The problems with these wire formats on this backend (audio.* keys); empty when it takes them. */
  checkFormats(settings: S, input: AudioFormat, output: AudioFormat): string[];
  /** The keys of the section a reload (SIGHUP) applies without a restart, besides agent.token. */
  readonly credentialKeys: readonly string[];
  /** What a reload hands the running backend besides the token. */
  credentials(settings: S): Omit<Credentials, "token">;
  /** What a backend with these settings can do, known before it is built (the device prepares its local VAD by it). */
  capabilities(settings: S): BackendCapabilities;
  create(ctx: BackendContext<S>): AgentBackend;
  readonly emulator: EmulatorEndpoint<S>;
  /** An HTTP endpoint that answers a plain GET while the service is up, for `talkbox doctor`; absent: none documented. */
  healthUrl?(settings: S, agentUrl: string): string;
}

/** Checks a descriptor against its settings type where it is written, keeping its name's literal type (the config types its section by it). */
export function defineBackend<S, N extends string>(descriptor: BackendDescriptor<S> & { readonly name: N }): BackendDescriptor<S> & { readonly name: N } {
  return descriptor;
}
