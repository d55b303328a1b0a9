/**
 * The production daemon carries no emulator: it is imported only when `agent.url: emulator`
 * asks for it (app/agents/factory.ts) or by `talkbox emulator`. Checked in a fresh process, by the
 * modules loading the daemon, the doctor and the CLI's commands pulls in.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";

const SRC = path.resolve(__dirname, "../../src");

test("loading the daemon, the doctor and the CLI's commands loads no emulator module", () => {
  const modules = ["app/daemon.js", "app/service.js", "doctor/doctor.js", "cli/emulator.js", "cli/status.js", "app/agents/factory.js"].map((m) => path.join(SRC, m));
  const script = `for (const m of ${JSON.stringify(modules)}) require(m); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const loaded = JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" })) as string[];
  assert.ok(loaded.some((f) => f.endsWith(path.join("src", "app", "agents", "factory.js"))), "the modules were loaded");
  const emulator = loaded.filter((f) => f.includes(`${path.sep}src${path.sep}emulator${path.sep}`));
  assert.deepEqual(emulator, [], "statically imported");
});
