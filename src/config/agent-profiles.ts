/**
 * Agent profiles (issue 17): `agents:` names more agents than the one in `agent:` (which is
 * the profile `default`). A profile holds the same keys as `agent:` plus who it is for people
 * (display_name, intro, led_color). What it does not set it takes from `agent:` before
 * validation, so that a tutor differing from the assistant only in its bot id is three lines:
 * - the link's patience (timeouts, pings, reconnect) always;
 * - `url` and `token` only for a profile of the same backend (a Coze token is never sent to an
 *   OpenAI server), except `url: emulator`, which every profile follows (the simulator);
 * - the backend's own section, key by key, only for the same backend.
 */
/** agent.url that starts the built-in emulator. */
export const EMULATOR_URL = "emulator";

export const DEFAULT_PROFILE = "default";
export const PROFILE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
export const PROFILE_NAME_HINT = "a profile name is 1 to 32 lower-case letters, digits, _ or -, starting with a letter";

/** Keys of a profile that say who it is; never inherited. */
export const PROFILE_OWN_KEYS = ["display_name", "intro", "led_color"] as const;

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The raw config with each profile under `agents:` completed from `agent:` as above (a copy;
 * what is not a mapping is left for validation to report). `linkKeys`: the shared patience keys.
 */
export function inheritProfiles(raw: unknown, defaultBackend: string, linkKeys: readonly string[]): unknown {
  if (!isMapping(raw) || !isMapping(raw.agents)) return raw;
  const base = isMapping(raw.agent) ? raw.agent : {};
  const baseBackend = typeof base.backend === "string" ? base.backend : defaultBackend;
  const agents: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(raw.agents)) agents[name] = isMapping(p) ? inherit(base, baseBackend, p, linkKeys) : p;
  return { ...raw, agents };
}

function inherit(base: Record<string, unknown>, baseBackend: string, p: Record<string, unknown>, linkKeys: readonly string[]): Record<string, unknown> {
  const backend = typeof p.backend === "string" ? p.backend : baseBackend;
  const same = backend === baseBackend;
  const out: Record<string, unknown> = {};
  for (const key of linkKeys) if (base[key] !== undefined) out[key] = base[key];
  if (same || base.url === EMULATOR_URL) if (base.url !== undefined) out.url = base.url;
  if (same && base.token !== undefined) out.token = base.token;
  Object.assign(out, p, { backend });
  const section = base[backend];
  if (same && isMapping(section)) out[backend] = isMapping(p[backend]) ? { ...section, ...p[backend] } : (p[backend] ?? section);
  if (isMapping(base.reconnect) && isMapping(p.reconnect)) out.reconnect = { ...base.reconnect, ...p.reconnect };
  return out;
}
