/**
 * The state file under kill -9 (issue 17): a writer killed at a random moment, 50 times over,
 * leaves a state.json that opens cleanly with a complete set of values (written together, so
 * never half of one write and half of another), and no temp files piling up. A damaged file is
 * reported, kept aside and replaced.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FileStateStore } from "../../src/state/store";
import { LogCapture } from "../unit/realtime-script";

const STORE = require.resolve("../../src/state/store");
const LOGGER = require.resolve("../../src/log/logger");

/** A child that saves (n, twice n, a conversation map with n) as fast as the store writes, saying each n it has set. */
const WRITER = `
const { FileStateStore } = require(${JSON.stringify(STORE)});
const { silentLogger } = require(${JSON.stringify(LOGGER)});
const store = new FileStateStore(process.argv[1], silentLogger());
let n = Number(store.get("n") ?? 0);
const tick = () => {
  n++;
  store.set("n", n);
  store.set("twice", 2 * n);
  store.set("conversations.coze.1", JSON.stringify({ talkbox: { id: "conv-" + n, at: n } }));
  process.stdout.write(n + "\\n");
  store.settled().then(() => setImmediate(tick));
};
tick();
`;

describe("state file under kill -9", { timeout: 120_000 }, () => {
  test("50 kills mid-write: it opens cleanly every time, each write whole, nothing left behind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-state-"));
    let last = 0;
    for (let i = 0; i < 50; i++) {
      const child = spawn(process.execPath, ["-e", WRITER, dir], { stdio: ["ignore", "pipe", "inherit"] });
      // Killed once it has set a few values: at a random point of some write.
      const target = 2 + Math.floor(Math.random() * 20);
      let seen = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on("data", (d: Buffer) => {
          seen += d.toString().split("\n").filter(Boolean).length;
          if (seen >= target) resolve();
        });
        child.once("exit", () => resolve());
      });
      child.kill("SIGKILL");
      await once(child, "exit");

      const logs = new LogCapture();
      const store = new FileStateStore(dir, logs.logger);
      assert.deepEqual(logs.warnings(), [], `kill ${i}: the file did not open cleanly`);
      const n = store.get("n") as number;
      assert.ok(Number.isInteger(n) && n >= last, `kill ${i}: n went from ${last} to ${n}`);
      assert.equal(store.get("twice"), 2 * n, `kill ${i}: half of one write and half of another`);
      assert.equal(JSON.parse(store.get("conversations.coze.1") as string).talkbox.id, `conv-${n}`);
      last = n;
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f !== "state.json"), [], `kill ${i}: files left behind`);
    }
    assert.ok(last >= 50, `only ${last} writes in 50 runs`);
  });

  test("a damaged file is reported, kept as state.json.bad, and replaced at the next save", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-state-"));
    fs.writeFileSync(path.join(dir, "state.json"), '{"volume.percent": 5');
    const logs = new LogCapture();
    const store = new FileStateStore(dir, logs.logger);
    assert.match(logs.warnings().join("\n"), /ignoring .*state\.json \(kept as .*state\.json\.bad\): .*saved volume and conversation ids start afresh/);
    assert.equal(store.get("volume.percent"), undefined);
    assert.equal(fs.readFileSync(path.join(dir, "state.json.bad"), "utf8"), '{"volume.percent": 5');
    store.set("volume.percent", 40);
    await store.settled();
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8")), { "volume.percent": 40 });
  });
});
