/**
 * Where the agent token comes from, and whether the config file guards it well enough.
 * Nothing here ever puts a secret's value into a message.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "./errors.js";

/** Where a secret's value came from. */
export type SecretSource =
  | { kind: "file"; file: string }
  | { kind: "env"; variable: string }
  | { kind: "credential"; file: string };

export function describeSource(source: SecretSource): string {
  switch (source.kind) {
    case "file":
      return `the config file ${source.file}`;
    case "env":
      return `the environment variable ${source.variable}`;
    case "credential":
      return `the systemd credential ${source.file}`;
  }
}

/** The systemd credential name (LoadCredential=token:/etc/talkbox/token) that holds agent.token. */
export const TOKEN_CREDENTIAL = "token";

/**
 * Reads a credential systemd passed in $CREDENTIALS_DIRECTORY; null when there is none.
 * The trailing newline an editor leaves is not part of the token.
 */
export function readCredential(env: NodeJS.ProcessEnv, name: string): { value: string; file: string } | null {
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) return null;
  const file = path.join(dir, name);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    throw new ConfigError(file, [`cannot read the systemd credential (${code ?? String(err)}); check LoadCredential=${name}:… in the service unit`]);
  }
  const value = text.replace(/\s+$/, "");
  if (value === "") {
    throw new ConfigError(file, [`the systemd credential '${name}' is empty; put the token in the file LoadCredential=${name}:… names (e.g. /etc/talkbox/token)`]);
  }
  return { value, file };
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

/**
 * Warnings about a config file others can read (when it holds a token) or change (always:
 * whoever can edit agent.url can have the device send its token to them).
 */
export function permissionWarnings(file: string, holdsToken: boolean): string[] {
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch {
    // It was just read; a file gone since then has no permissions to complain about.
    return [];
  }
  const fix = `fix: chmod 640 ${file} && chown root:talkbox ${file}`;
  const warnings: string[] = [];
  if (holdsToken && mode & 0o004) {
    warnings.push(
      `${file} holds agent.token and every user on this machine can read it (mode ${octal(mode)}); ${fix} ` +
        `(or move the token to /etc/talkbox/token, mode 600, passed with LoadCredential=token:/etc/talkbox/token)`,
    );
  }
  const writers = [mode & 0o020 ? "its group" : "", mode & 0o002 ? "every user" : ""].filter(Boolean);
  if (writers.length > 0) {
    warnings.push(
      `${file} can be changed by ${writers.join(" and ")} (mode ${octal(mode)}), who could point agent.url elsewhere and receive the token; ${fix}`,
    );
  }
  return warnings;
}

/** A copy of a JSON-like value (a control reply) with every string in it passed through `scrub`. */
export function scrubStrings<T>(value: T, scrub: (s: string) => string): T {
  if (typeof value === "string") return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubStrings(v, scrub)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubStrings(v, scrub)])) as T;
  }
  return value;
}

/**
 * The secrets known before a config file is read (TALKBOX_TOKEN, the systemd
 * credential): what a config error or an early crash must not print.
 */
export function secretsFromEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.TALKBOX_TOKEN) out.push(env.TALKBOX_TOKEN);
  try {
    const credential = readCredential(env, TOKEN_CREDENTIAL);
    if (credential) out.push(credential.value);
  } catch {
    // An unreadable credential is reported by loadConfig; there is nothing to scrub.
  }
  return out;
}
