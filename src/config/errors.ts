import type { z } from "zod";

export { ConfigError, EX_CONFIG } from "../core/config-error";

const TYPE_NAMES: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a mapping (key: value lines)",
  array: "a list",
};

function kindOf(input: unknown): string {
  if (input === null) return "an empty value";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "number" && !Number.isInteger(input)) return "a fraction";
  return TYPE_NAMES[typeof input] ?? typeof input;
}

/**
 * Per-parse zod error map: plain-English messages that describe the input's kind, never its value.
 * Schema-level messages (set where a hint helps) take precedence over this.
 */
export const plainEnglish: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case "invalid_type": {
      const expected = TYPE_NAMES[iss.expected] ?? iss.expected;
      return iss.input === undefined ? `required (expected ${expected})` : `expected ${expected}, got ${kindOf(iss.input)}`;
    }
    case "too_small":
      if (iss.origin === "string" && Number(iss.minimum) === 1) return "must not be empty";
      return `expected ${iss.inclusive ? "at least" : "more than"} ${iss.minimum}`;
    case "too_big":
      return `expected ${iss.inclusive ? "at most" : "less than"} ${iss.maximum}`;
    case "invalid_value":
      return iss.values.length === 1
        ? `expected ${JSON.stringify(iss.values[0])}`
        : `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "unrecognized_keys": {
      const shape = (iss.inst as z.core.$ZodObject | undefined)?._zod.def.shape;
      return shape ? `unknown key; allowed keys here: ${Object.keys(shape).join(", ")}` : "unknown key";
    }
    default:
      return undefined;
  }
};

function dotted(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${keyName(String(p))}`;
  return out;
}

/**
 * A key as written, unless it does not look like a key at all: a token pasted where a
 * key belongs (`agent: { pat_…: }`) must not be printed in the error that points at it.
 */
function keyName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(key) ? key : `(a key of ${key.length} characters, not shown: it may be a secret pasted in the wrong place)`;
}

/**
 * One line per problem: `key.path: message`. An unknown key gets its own full path, so a typo
 * like `agent.boot_id` is named as written. `fromEnv` maps key paths to the variable that set
 * them; `renamed` maps key paths to the older spelling the file used (agent-aliases.ts).
 */
export function issueLines(
  error: z.ZodError,
  fromEnv: ReadonlyMap<string, string> = new Map(),
  renamed: ReadonlyMap<string, string> = new Map(),
): string[] {
  return error.issues.flatMap((iss) => {
    const paths = iss.code === "unrecognized_keys" ? iss.keys.map((k) => [...iss.path, k]) : [iss.path];
    return paths.map((p) => {
      const key = dotted(p);
      const env = fromEnv.get(key);
      return `${asWritten(key, renamed) || "(whole file)"}: ${iss.message}${env ? ` (value from ${env})` : ""}`;
    });
  });
}

function asWritten(key: string, renamed: ReadonlyMap<string, string>): string {
  for (const [now, old] of renamed) {
    if (key === now || key.startsWith(`${now}.`) || key.startsWith(`${now}[`)) return old + key.slice(now.length);
  }
  return key;
}
