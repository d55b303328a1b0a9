/**
 * The layers of src/, one way (README, "Architecture"): every import between two folders
 * must be an edge of ALLOWED. The table itself must have no cycle, so no cycle between
 * folders can get in. Imports are read with the TypeScript parser (static, dynamic and
 * require), from the sources, not the build. There are no exceptions.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const SRC = path.resolve(__dirname, "../../../src");

/** A layer may import itself and what is listed. `agent` alone means its ports (backend.ts, descriptor.ts, events.ts, link-settings.ts, registry/); `agent/*` anything in it. */
const ALLOWED: Record<string, readonly string[]> = {
  // Shared vocabulary: clock, media and PCM types, the codec table, back-off.
  core: [],
  // Ambient declarations for untyped packages.
  types: [],
  log: ["core"],
  // Drivers.
  codec: ["core", "log"],
  audio: ["core", "log"],
  hardware: ["core", "log"],
  input: ["core", "log"],
  system: ["core", "log"],
  state: ["core", "log"],
  control: ["core", "log"],
  vad: ["core", "log", "codec"],
  // The device's offline voice (espeak-ng), resampled to the speaker.
  voice: ["core", "log", "codec"],
  // Protocols: a backend knows no device, no GPIO, no config file.
  agent: ["core", "log"],
  tools: ["core", "log", "agent"],
  config: ["core", "log", "agent", "hardware"],
  // The conversation.
  device: ["core", "log", "agent", "audio", "codec", "vad", "tools"],
  // The emulator serves the protocols; the daemon loads it only for `agent.url: emulator`.
  emulator: ["core", "log", "agent/*", "codec", "vad", "audio"],
  // Composition roots and commands: the only places that know everything.
  doctor: ["*"],
  cli: ["*"],
  app: ["*"],
};

const AGENT_PORTS = new Set(["agent/backend.ts", "agent/descriptor.ts", "agent/events.ts", "agent/link-settings.ts", "agent/registry/index.ts"]);

interface Edge {
  from: string;
  to: string;
  /** The importing file and the specifier, for the failure message. */
  where: string;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** The layer of a file: its first folder under src/ (src/cli.ts joins `cli`). */
function layerOf(rel: string): string {
  const first = rel.split("/")[0]!;
  return first.replace(/\.ts$/, "");
}

function resolveLocal(fromFile: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = path.resolve(path.dirname(fromFile), spec.replace(/\.js$/, ""));
  for (const candidate of [`${base}.ts`, `${base}.d.ts`, path.join(base, "index.ts"), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return `${base}.ts`;
}

function edgesOf(files: string[]): Edge[] {
  const edges: Edge[] = [];
  for (const file of files) {
    const rel = path.relative(SRC, file);
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    for (const imported of info.importedFiles) {
      const target = resolveLocal(file, imported.fileName);
      if (!target) continue;
      const targetRel = path.relative(SRC, target).split(path.sep).join("/");
      if (targetRel.startsWith("..")) {
        edges.push({ from: layerOf(rel), to: `outside src (${targetRel})`, where: `${rel}: ${imported.fileName}` });
        continue;
      }
      const from = layerOf(rel);
      const to = layerOf(targetRel);
      if (from === to) continue;
      edges.push({ from, to: to === "agent" && !AGENT_PORTS.has(targetRel) ? "agent/*" : to, where: `${rel}: ${imported.fileName}` });
    }
  }
  return edges;
}

function allowed(e: Edge): boolean {
  const rule = ALLOWED[e.from];
  if (!rule) return false;
  if (rule.includes("*")) return true;
  if (e.to === "agent/*") return rule.includes("agent/*");
  return rule.includes(e.to) || (e.to === "agent" && rule.includes("agent/*"));
}

const key = (e: Edge): string => `${e.from} → ${e.to}`;

/** Imports between folders at every depth (`agent` → `agent/coze`), each with one file pair that makes it. */
function folderEdges(files: string[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files) {
    const rel = path.relative(SRC, file).split(path.sep).join("/");
    for (const imported of ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles) {
      const target = resolveLocal(file, imported.fileName);
      if (!target) continue;
      const targetRel = path.relative(SRC, target).split(path.sep).join("/");
      const from = path.posix.dirname(rel);
      const to = path.posix.dirname(targetRel);
      if (from === to || targetRel.startsWith("..")) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, `${rel} → ${targetRel}`);
    }
  }
  return graph;
}

/** One cycle in the folder graph, as the files that close it; null when there is none. */
function folderCycle(graph: Map<string, Map<string, string>>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const visit = (folder: string, trail: string[], via: string[]): string[] | null => {
    if (state.get(folder) === "done") return null;
    if (state.get(folder) === "open") return via.slice(trail.indexOf(folder));
    state.set(folder, "open");
    for (const [to, where] of graph.get(folder) ?? []) {
      const found = visit(to, [...trail, folder], [...via, where]);
      if (found) return found;
    }
    state.set(folder, "done");
    return null;
  };
  for (const folder of graph.keys()) {
    const found = visit(folder, [], []);
    if (found) return found;
  }
  return null;
}

describe("layers", () => {
  const edges = edgesOf(sourceFiles(SRC));

  test("every folder of src/ has a layer", () => {
    const layers = new Set(sourceFiles(SRC).map((f) => layerOf(path.relative(SRC, f))));
    const missing = [...layers].filter((l) => !(l in ALLOWED));
    assert.deepEqual(missing, [], `folders with no entry in ALLOWED (add one, with what they may import): ${missing.join(", ")}`);
  });

  test("the table of layers has no cycle", () => {
    // Depth-first search over the listed edges, ignoring the composition roots ("*").
    const targets = (l: string): string[] => (ALLOWED[l] ?? []).filter((t) => t !== "*").map((t) => t.replace("/*", ""));
    const state = new Map<string, "open" | "done">();
    const visit = (l: string, trail: string[]): void => {
      if (state.get(l) === "done") return;
      assert.notEqual(state.get(l), "open", `cycle in ALLOWED: ${[...trail, l].join(" → ")}`);
      state.set(l, "open");
      for (const t of targets(l)) visit(t, [...trail, l]);
      state.set(l, "done");
    };
    for (const l of Object.keys(ALLOWED)) visit(l, []);
  });

  test("no two folders import each other, sub-folders included (agent ⇄ agent/coze is a cycle too)", () => {
    const cycle = folderCycle(folderEdges(sourceFiles(SRC)));
    assert.equal(cycle, null, `an import cycle between folders: ${cycle?.join(", ")}; move what both need into a folder both may import`);
  });

  test("no import goes against the layers", () => {
    const bad = edges.filter((e) => !allowed(e));
    assert.deepEqual(
      bad.map((e) => `${key(e)}  (${e.where})`),
      [],
      "imports outside the layers (README, Architecture): depend on a port in core/ or move the code to the layer that may know both",
    );
  });
});
