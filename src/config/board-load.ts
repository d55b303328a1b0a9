import fs from "node:fs";
import path from "node:path";
import { ConfigError, issueLines, plainEnglish } from "./errors.js";
import { readYaml } from "./yaml.js";
import { boardProfileSchema, type BoardProfile } from "./board-profile.js";

/**
 * The repo's boards/ directory. Compiled code sits one level deeper (dist/src/config) than the
 * source (src/config); dist/boards never exists, so the shallower candidate is tried first.
 */
export function defaultBoardsDir(): string {
  const candidates = [path.resolve(__dirname, "../../boards"), path.resolve(__dirname, "../../../boards")];
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[1]!;
}

function boardNames(dir: string): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return files.filter((f) => f.endsWith(".yaml")).map((f) => f.slice(0, -".yaml".length)).sort();
}

/** Mappings merge key by key; anything else (lists included) replaces. */
function merge(base: unknown, over: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isMap(base) || !isMap(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

export function loadBoard(name: string, dir: string = defaultBoardsDir(), overrides?: Record<string, unknown>, overridesFile?: string): BoardProfile {
  const file = path.join(dir, `${name}.yaml`);
  const names = boardNames(dir);
  // Checking against the listing also keeps names like "../x" from reaching the filesystem.
  if (!names.includes(name)) {
    throw new ConfigError(file, [
      `board: unknown board "${name}"; available boards: ${names.join(", ") || "(none)"}. ` +
        `Set board (or TALKBOX_BOARD) to one of them, or create ${name}.yaml from sim.yaml`,
    ]);
  }
  const parsed = boardProfileSchema.safeParse(overrides ? merge(readYaml(file), overrides) : readYaml(file), { error: plainEnglish });
  if (!parsed.success) {
    const where = overrides ? `${file} with board_overrides from ${overridesFile ?? "the config"}` : file;
    throw new ConfigError(where, issueLines(parsed.error));
  }
  const profile = parsed.data;
  if (profile.name !== name) {
    throw new ConfigError(file, [`name: expected "${name}" (a profile's name must match its file name)`]);
  }
  // `file:` paths are relative to the boards dir (fixtures ship with it); `dir:` stays relative to cwd.
  for (const stream of [profile.audio.capture, profile.audio.playback]) {
    if (stream.fallback?.startsWith("file:")) stream.fallback = `file:${path.resolve(dir, stream.fallback.slice(5))}`;
  }
  return profile;
}

export function listBoards(dir: string = defaultBoardsDir()): Array<{ name: string; description: string }> {
  return boardNames(dir).map((n) => {
    const { name, description } = loadBoard(n, dir);
    return { name, description };
  });
}
