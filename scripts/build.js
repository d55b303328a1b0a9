#!/usr/bin/env node
// Compiles src/ to dist/src/ without type checking, for the device: the installer runs it
// where the app is installed (a Pi Zero 2 W has 512 MB; tsc needs over 300 MB for src/
// alone, esbuild a few MB). Type checking is the developers' and CI's job (`npm test` runs
// tsc). Output is one file per source file, as tsc writes it, so the two are interchangeable.
//
//   node scripts/build.js [OUTDIR]     default: dist (src/x.ts → OUTDIR/src/x.js)
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const outdir = path.resolve(process.argv[2] ?? path.join(root, "dist"));

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

let esbuild;
try {
  esbuild = require("esbuild");
} catch (err) {
  process.stderr.write(`build: esbuild is not installed (${err.message.split("\n")[0]}): run bash scripts/deps.sh first\n`);
  process.exit(1);
}
const started = Date.now();
const entryPoints = sources(path.join(root, "src"));
esbuild
  .build({
    entryPoints,
    outdir,
    outbase: root,
    format: "cjs",
    platform: "node",
    target: "node20",
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "warning",
  })
  .then(() => {
    process.stderr.write(`build: ${entryPoints.length} files → ${path.relative(process.cwd(), outdir) || "."}/src in ${Date.now() - started} ms\n`);
  })
  .catch(() => process.exit(1));
