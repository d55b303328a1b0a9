/**
 * The agent keys written before each backend had its section: `agent.bot_id` is now
 * `agent.coze.bot_id`, `agent.flavour` is `agent.realtime.flavour`. A file that still uses
 * them works as before: each is moved into its section before validation, with one warning
 * naming the new keys, and an error about one names the key as the user wrote it. A backend
 * added since has only its section.
 */

/** The old flat keys, by the section they belong to now. */
const FLAT_KEYS: Readonly<Record<string, readonly string[]>> = {
  coze: ["bot_id", "device_id", "voice_id", "speech_rate", "reply_pace", "opus_bitrate", "opus_cbr"],
  realtime: ["flavour", "instructions", "voice", "temperature", "noise_reduction", "transcription", "transcription_model", "custom_model", "coze_bot_id", "keepalive_ms"],
};

/** Flat keys that were an error with another backend, and stay one (the others were ignored there). */
const REFUSED_ELSEWHERE: Readonly<Record<string, string>> = {
  reply_pace: "only Coze takes it (agent.backend: coze); remove the key",
  opus_bitrate: "only Coze takes it (agent.backend: coze); remove the key",
  opus_cbr: "only Coze takes it (agent.backend: coze); remove the key",
};

export interface MovedKeys {
  /** New key path → the path written in the file, for error messages. */
  renamed: Map<string, string>;
  warnings: string[];
  /** Problems found while moving: `key: message` lines. */
  issues: string[];
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A backend's own name for its secret, which is agent.token: the voice API calls it its API key
 * (seed 002's api_key), so `agent.voiceapi.api_key` is taken as agent.token, with everything a
 * token has (the file's permission check, TALKBOX_TOKEN and the systemd credential over it, the
 * scrubbing). Moved in place, before anything looks at agent.token.
 */
const SECRET_ALIASES: Readonly<Record<string, string>> = { voiceapi: "api_key" };

export function moveSecretAliases(raw: unknown, into: MovedKeys): void {
  if (!isMapping(raw)) return;
  // The `agent:` section, and each agent profile under `agents:` (they hold the same keys).
  const sections: Array<[string, Record<string, unknown>]> = isMapping(raw.agent) ? [["agent", raw.agent]] : [];
  if (isMapping(raw.agents)) for (const [name, p] of Object.entries(raw.agents)) if (isMapping(p)) sections.push([`agents.${name}`, p]);
  for (const [where, agent] of sections) {
    for (const [name, key] of Object.entries(SECRET_ALIASES)) {
      const section = agent[name];
      if (!isMapping(section) || !(key in section)) continue;
      const written = `${where}.${name}.${key}`;
      if (agent.token !== undefined && agent.token !== null) into.issues.push(`${written}: also set as ${where}.token; keep only one (they are the same secret)`);
      else {
        agent.token = section[key];
        into.renamed.set(`${where}.token`, written);
      }
      delete section[key];
    }
  }
}

/** Moves the flat keys of `raw.agent` into their sections, in place. */
export function moveFlatAgentKeys(raw: unknown, defaultBackend: string): MovedKeys {
  const out: MovedKeys = { renamed: new Map(), warnings: [], issues: [] };
  if (!isMapping(raw) || !isMapping(raw.agent)) return out;
  const agent = raw.agent;
  const chosen = typeof agent.backend === "string" ? agent.backend : defaultBackend;
  for (const [name, keys] of Object.entries(FLAT_KEYS)) {
    const flat = keys.filter((k) => k in agent);
    if (flat.length === 0) continue;
    // A section that is not a mapping is reported by validation; the flat keys stay where they are.
    if (agent[name] !== undefined && !isMapping(agent[name])) continue;
    const section = (agent[name] ?? {}) as Record<string, unknown>;
    for (const key of flat) {
      const old = `agent.${key}`;
      const now = `agent.${name}.${key}`;
      if (key in section) {
        out.issues.push(`${old}: also set as ${now}; keep only ${now}`);
      } else {
        section[key] = agent[key];
        out.renamed.set(now, old);
      }
      delete agent[key];
      const refused = REFUSED_ELSEWHERE[key];
      if (refused && name !== chosen) out.issues.push(`${old}: ${refused}`);
    }
    agent[name] = section;
    const moves = flat.map((k) => `agent.${k} is now agent.${name}.${k}`).join(", ");
    out.warnings.push(`deprecated: ${moves} (the old ${flat.length === 1 ? "name still works" : "names still work"}; move ${flat.length === 1 ? "it" : "them"} into agent.${name}: when you next edit the file)`);
  }
  return out;
}
