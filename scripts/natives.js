#!/usr/bin/env node
// Builds the npm packages that compile native code, after `npm ci --ignore-scripts`
// (scripts/deps.sh runs both). Why a step of its own: a native module that fails to build
// inside `npm ci` either fails the whole install (a dependency) or is deleted by npm (an
// optional one), and npm runs a project's own scripts only after every package is built,
// too late to fix a package's sources first. Here the fixes come first (patch-package,
// scripts/patches/), then each package is built on its own:
// - a dependency that does not build stops the install with what to do;
// - an optional dependency that does not build (speaker, @discordjs/opus) is reported with
//   its compiler error and left unbuilt: talkbox then uses its fallback (talkbox doctor).
//
//   node scripts/natives.js build    apply the patches, build, report (deps.sh runs it)
//   node scripts/natives.js report   say which native packages load (npm ci's postinstall)
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const logDir = path.join(root, "node_modules", ".talkbox-natives");
const say = (line) => process.stderr.write(`natives: ${line}\n`);

const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));

/** The packages with install scripts, from the lock file (npm records `hasInstallScript`). */
function nativePackages() {
  const found = [];
  for (const [where, entry] of Object.entries(lock.packages ?? {})) {
    if (!where.startsWith("node_modules/") || !entry.hasInstallScript) continue;
    const name = where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length);
    const dir = path.join(root, where);
    // An optional package for another platform or CPU is not installed at all.
    if (!fs.existsSync(path.join(dir, "package.json"))) continue;
    found.push({ name, dir, optional: entry.optional === true, dev: entry.dev === true });
  }
  return found;
}

/** Whether a package loads, asked of a child process: a native module may abort on load. */
function loads(name) {
  const r = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(name)})`], {
    cwd: root, encoding: "utf8", timeout: 60_000,
  });
  if (r.status === 0) return { ok: true };
  const lines = `${r.stderr ?? ""}`.split("\n").map((l) => l.trim()).filter(Boolean);
  const why = lines.find((l) => /^(Error|error):|Cannot find|Could not locate|Assertion/.test(l))
    ?? (r.signal ? `killed by ${r.signal}` : lines.at(-1) ?? `exit ${r.status}`);
  return { ok: false, why };
}

/** The compiler's own error lines from a build log, the first few. */
function compilerErrors(log) {
  const lines = log.split("\n").filter((l) => /error[: ]|Error:/.test(l) && !/gyp ERR! (stack|cwd|node|System|command|not ok)/.test(l));
  return lines.slice(0, 4).map((l) => l.replace(/^npm (error|ERR!)\s*/, "").trim());
}

function npmRebuild(names) {
  // JOBS=max: node-gyp compiles on every core (a Pi has four; one core takes minutes for Opus).
  return spawnSync("npm", ["rebuild", "--foreground-scripts", ...names], {
    cwd: root, encoding: "utf8", env: { ...process.env, JOBS: process.env.JOBS ?? "max" },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function applyPatches() {
  const bin = path.join(root, "node_modules", ".bin", "patch-package");
  if (!fs.existsSync(bin)) {
    say("patch-package is not installed: run `npm ci --ignore-scripts` first (scripts/deps.sh does both).");
    process.exit(1);
  }
  const r = spawnSync(bin, ["--patch-dir", "scripts/patches"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) {
    say(`applying scripts/patches failed:\n${r.stdout}${r.stderr}`);
    say("a patch no longer fits its package: update the package's version in package.json and its patch together.");
    process.exit(1);
  }
}

function build() {
  applyPatches();
  fs.mkdirSync(logDir, { recursive: true });
  const natives = nativePackages();
  const required = natives.filter((n) => !n.optional);
  if (required.length > 0) {
    say(`building ${required.map((n) => n.name).join(", ")}`);
    const r = npmRebuild(required.map((n) => n.name));
    fs.writeFileSync(path.join(logDir, "required.log"), `${r.stdout}${r.stderr}`);
    if (r.status !== 0) {
      for (const line of compilerErrors(`${r.stdout}${r.stderr}`)) say(`  ${line}`);
      say(`building them failed (log: ${path.join(logDir, "required.log")}). Install the build tools `
        + "(sudo apt-get install g++ make python3 libasound2-dev) and run scripts/deps.sh again.");
      process.exit(1);
    }
  }
  for (const n of natives.filter((n) => n.optional)) {
    const started = Date.now();
    say(`building ${n.name} (optional)`);
    const r = npmRebuild([n.name]);
    const log = path.join(logDir, `${n.name.replace("/", "+")}.log`);
    fs.writeFileSync(log, `${r.stdout}${r.stderr}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    if (r.status === 0) {
      say(`${n.name}: built in ${seconds} s`);
      continue;
    }
    say(`${n.name}: did not build (${seconds} s). talkbox works without it, on its fallback (talkbox doctor says which).`);
    for (const line of compilerErrors(`${r.stdout}${r.stderr}`)) say(`  ${line}`);
    say(`  full log: ${log}`);
  }
  report(natives);
}

function report(natives = nativePackages()) {
  let missing = 0;
  for (const n of natives.filter((x) => !x.dev)) {
    const r = loads(n.name);
    if (!r.ok) missing += 1;
    say(`${r.ok ? "ok     " : "missing"} ${n.name}${n.optional ? " (optional)" : ""}${r.ok ? "" : `: ${r.why}`}`);
  }
  // After a plain `npm ci`, npm deleted the optional packages that did not build.
  for (const name of Object.keys(lock.packages?.[""]?.optionalDependencies ?? {})) {
    if (lock.packages?.[`node_modules/${name}`] && !natives.some((n) => n.name === name)) {
      missing += 1;
      say(`missing ${name} (optional): npm removed it because it did not build here`);
    }
  }
  if (missing > 0) {
    say("talkbox runs without these, on fallbacks. To build them with talkbox's fixes: bash scripts/deps.sh");
  }
}

const command = process.argv[2];
if (command === "build") build();
else if (command === "report") report();
else {
  say("usage: node scripts/natives.js build|report");
  process.exit(2);
}
