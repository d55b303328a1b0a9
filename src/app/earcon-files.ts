/**
 * Where each earcon's WAV file is: the built-in ones ship in the package's firmware/sounds/
 * (found from here in the source tree and in dist/), a path is the user's own, off is none.
 */
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema";
import { EARCON_NAMES, type EarconName } from "../device/earcons";

export function builtinSoundsDir(): string {
  const candidates = [path.resolve(__dirname, "../../firmware/sounds"), path.resolve(__dirname, "../../../firmware/sounds")];
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[1]!;
}

export function earconFiles(c: Config["earcons"]): Partial<Record<EarconName, string>> {
  const files: Partial<Record<EarconName, string>> = {};
  for (const name of EARCON_NAMES) {
    const v = c[name];
    if (v === "off") continue;
    files[name] = v === "builtin" ? path.join(builtinSoundsDir(), `${name.replace("_", "-")}.wav`) : path.resolve(v);
  }
  return files;
}
