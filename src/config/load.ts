import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { loadBoard } from "./board-load.js";
import type { BoardProfile } from "./board-profile.js";
import { ConfigError, issueLines, plainEnglish } from "./errors.js";
import { boardName, configSchema, type Config } from "./schema.js";
import { moveFlatAgentKeys, moveSecretAliases, type MovedKeys } from "./agent-aliases.js";
import { backends } from "../agent/registry";
import { describeSource, permissionWarnings, readCredential, TOKEN_CREDENTIAL, type SecretSource } from "./secrets.js";
import { readYaml } from "./yaml.js";

export { defaultBoardsDir } from "./board-load.js";
export { describeSource, type SecretSource } from "./secrets.js";

export interface LoadOptions {
  /** An explicit config file; it must exist. Without it, the default locations are searched. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  boardsDir?: string;
}

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read, or null when running on defaults + environment. */
  file: string | null;
  board: BoardProfile;
  /** Strings to scrub from logs. */
  secrets: string[];
  /** Where each secret in `config` came from, by key path (e.g. "agent.token"); never the value. */
  secretSources: Record<string, SecretSource>;
  /** Problems that do not stop the daemon but deserve a warning at start (e.g. config file permissions). */
  warnings: string[];
}

const SYSTEM_CONFIG = "/etc/talkbox/talkbox.yaml";

const ENV_KEYS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["TALKBOX_TOKEN", ["agent", "token"]],
  ["TALKBOX_BOT_ID", ["agent", "coze", "bot_id"]],
  ["TALKBOX_AGENT_URL", ["agent", "url"]],
  ["TALKBOX_BOARD", ["board"]],
  ["TALKBOX_CONTROL_SOCKET", ["control", "socket"]],
  ["TALKBOX_LOG_LEVEL", ["log", "level"]],
];

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Sets a key path in the raw config; false when a parent is not a mapping (e.g. `agent: 5`), which validation reports. */
function setKey(raw: unknown, keys: readonly string[], value: string): boolean {
  let node = raw;
  for (const key of keys.slice(0, -1)) {
    if (!isMapping(node)) return false;
    node[key] ??= {};
    node = node[key];
  }
  if (!isMapping(node)) return false;
  node[keys[keys.length - 1]!] = value;
  return true;
}

/** Writes env values into the raw config; returns which key paths they set, for error messages. */
function applyEnv(raw: unknown, env: NodeJS.ProcessEnv): Map<string, string> {
  const applied = new Map<string, string>();
  for (const [name, keys] of ENV_KEYS) {
    const value = env[name];
    if (value && setKey(raw, keys, value)) applied.set(keys.join("."), name);
  }
  return applied;
}

/** The file sets agent.token or a profile's token (to anything: even a mistyped value may be a real token). */
function fileHasToken(raw: unknown): boolean {
  if (!isMapping(raw)) return false;
  const has = (a: unknown) => isMapping(a) && a.token !== undefined && a.token !== null;
  return has(raw.agent) || (isMapping(raw.agents) && Object.values(raw.agents).some(has));
}

function findConfigFile(explicit: string | undefined, cwd: string): string | null {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) {
      throw new ConfigError(file, ["config file not found; fix the path, or leave it out to use ./talkbox.yaml or " + SYSTEM_CONFIG]);
    }
    return file;
  }
  return [path.resolve(cwd, "talkbox.yaml"), SYSTEM_CONFIG].find((f) => fs.existsSync(f)) ?? null;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const file = findConfigFile(opts.path, cwd);
  const searched = [path.resolve(cwd, "talkbox.yaml"), SYSTEM_CONFIG];
  const source = file ?? `no config file found (searched ${searched.join(", ")})`;
  const raw = file === null ? {} : readYaml(file);
  const env = opts.env ?? process.env;
  const aliased: MovedKeys = { renamed: new Map(), warnings: [], issues: [] };
  moveSecretAliases(raw, aliased);
  const tokenInFile = fileHasToken(raw);
  const credential = readCredential(env, TOKEN_CREDENTIAL);
  // Older flat agent keys move into their backend's section before the environment applies.
  const moved = moveFlatAgentKeys(raw, backends()[0]!.name);
  for (const [now, old] of aliased.renamed) moved.renamed.set(now, old);
  moved.issues.unshift(...aliased.issues);
  const fromEnv = applyEnv(raw, env);
  for (const key of fromEnv.keys()) moved.renamed.delete(key);
  // agent.token precedence: TALKBOX_TOKEN, then the systemd credential, then the config file.
  let tokenSource: SecretSource | null = null;
  if (fromEnv.has("agent.token")) tokenSource = { kind: "env", variable: "TALKBOX_TOKEN" };
  else if (credential && setKey(raw, ["agent", "token"], credential.value)) {
    tokenSource = { kind: "credential", file: credential.file };
    fromEnv.set("agent.token", describeSource(tokenSource));
  } else if (tokenInFile && file !== null) tokenSource = { kind: "file", file };
  const fail = (error: z.ZodError): never => {
    const hint = file === null
      ? [`create ${searched[0]} or ${SYSTEM_CONFIG} setting agent.token (and agent.coze.bot_id for Coze), or set TALKBOX_AGENT_URL=emulator to try the built-in emulator`]
      : [];
    throw new ConfigError(source, [...withMoveIssues(issueLines(error, fromEnv, moved.renamed), moved.issues), ...hint]);
  };

  // The board supplies audio defaults, so it is read before the rest is validated.
  const selected = z
    .object({ board: boardName, board_overrides: z.record(z.string(), z.unknown()).optional() })
    .safeParse(raw, { error: plainEnglish });
  if (!selected.success) return fail(selected.error);
  // TALKBOX_BOARDS_DIR: a folder of your own profiles instead of the shipped ones.
  const board = loadBoard(selected.data.board, opts.boardsDir ?? (env.TALKBOX_BOARDS_DIR || undefined), selected.data.board_overrides, file ?? undefined);

  const { capture, playback } = board.audio;
  const parsed = configSchema({
    input: { device: capture.device, sample_rate: capture.sample_rate, channels: capture.channels, format: capture.format },
    output: { device: playback.device, sample_rate: playback.sample_rate, channels: playback.channels, format: playback.format },
    aec: board.audio.aec,
    codecs: board.audio.codecs,
  }).safeParse(raw, { error: plainEnglish });
  if (!parsed.success) return fail(parsed.error);
  if (moved.issues.length > 0) throw new ConfigError(source, moved.issues);
  const config = parsed.data;

  // A relative socket path means "next to the config file"; from the environment or defaults, the cwd.
  const base = file !== null && !fromEnv.has("control.socket") ? path.dirname(file) : cwd;
  config.control.socket = path.resolve(base, config.control.socket);

  return {
    config,
    file,
    board,
    secrets: [...new Set([config.agent, ...Object.values(config.agents)].flatMap((a) => (a.token === undefined ? [] : [a.token])))],
    secretSources: {
      ...(tokenSource && config.agent.token !== undefined ? { "agent.token": tokenSource } : {}),
      ...(file === null ? {} : Object.fromEntries(profileTokensInFile(raw).map((name) => [`agents.${name}.token`, { kind: "file" as const, file }]))),
    },
    warnings: [...moved.warnings, ...(file === null ? [] : permissionWarnings(file, tokenInFile))],
  };
}

/** The issues of moving old keys that validation has not already reported for the same key. */
function withMoveIssues(lines: string[], moveIssues: string[]): string[] {
  const keyOf = (line: string): string => line.slice(0, line.indexOf(": "));
  const reported = new Set(lines.map(keyOf));
  return [...lines, ...moveIssues.filter((i) => !reported.has(keyOf(i)))];
}

/** The profiles that set a token of their own in the file. */
function profileTokensInFile(raw: unknown): string[] {
  if (!isMapping(raw) || !isMapping(raw.agents)) return [];
  return Object.entries(raw.agents).filter(([, a]) => isMapping(a) && a.token !== undefined && a.token !== null).map(([name]) => name);
}

/** A copy safe to print. */
export function maskSecrets(config: Config): Config {
  const mask = <A extends { token?: string }>(a: A): A => (a.token === undefined ? a : { ...a, token: "********" });
  return { ...config, agent: mask(config.agent), agents: Object.fromEntries(Object.entries(config.agents).map(([n, a]) => [n, mask(a)])) };
}
