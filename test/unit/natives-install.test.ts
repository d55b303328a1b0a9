/**
 * What scripts/deps.sh left in this checkout's node_modules (setup.sh runs it): the patches
 * applied to the native packages' sources, and every native package built and loading.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const REPO = path.resolve(__dirname, "../../..");
const read = (p: string): string => fs.readFileSync(path.join(REPO, "node_modules", p), "utf8");

test("the patches are applied: speaker's aarch64 config and no abort on load, Opus without dead NEON files", () => {
  assert.match(read("speaker/deps/mpg123/config/linux/arm64/config.h"), /#define SIZEOF_LONG 8/);
  assert.match(read("speaker/src/binding.c"), /if \(ao\.open\(&ao\) < 0\) return -1;/);
  assert.doesNotMatch(read("@discordjs/opus/deps/binding.gyp"), /celt_neon_intr\.c/);
});

test("natives.js report: every native package of the lock file loads here", () => {
  const r = spawnSync(process.execPath, [path.join(REPO, "scripts/natives.js"), "report"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { hasInstallScript?: boolean; dev?: boolean; optional?: boolean }> };
  const natives = Object.entries(lock.packages)
    .filter(([where, e]) => where.startsWith("node_modules/") && e.hasInstallScript && !e.dev && !(e.optional && !fs.existsSync(path.join(REPO, where))))
    .map(([where]) => where.slice("node_modules/".length));
  assert.ok(natives.includes("speaker") && natives.includes("@discordjs/opus") && natives.includes("epoll"), natives.join(", "));
  for (const name of natives) assert.match(r.stderr, new RegExp(`^natives: ok +${name.replace("/", "\\/")}( \\(optional\\))?$`, "m"), r.stderr);
  assert.doesNotMatch(r.stderr, /missing/);
});
