/**
 * Credentials fixed without a restart: after the agent rejected the token, the
 * daemon waits minutes before retrying; SIGHUP (systemctl reload talkbox) re-reads
 * the config and reconnects at once with the new token.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { startDevice } from "../support/device";
import { completeTurn } from "./support";

describe("fault suite: reload", () => {
  test("a rejected token, fixed in the config file, is taken on SIGHUP: ready at once, no restart", { timeout: 60_000 }, async () => {
    const dev = await startDevice({ emulator: { token: "right-token-5678" }, config: { agent: { token: "wrong-token-1234" } }, ready: "offline" });
    try {
      const down = await dev.daemon.waitForLog((l) => /agent link down/.test(l.msg) && l.problem === "auth", 10_000);
      assert.match(down.msg, /retrying in 300\.0 s/);
      const file = path.join(dev.rig.dir, "talkbox.yaml");
      const config = YAML.parse(fs.readFileSync(file, "utf8")) as { agent: Record<string, unknown>; log: Record<string, unknown> };
      config.agent.token = "right-token-5678";
      fs.writeFileSync(file, YAML.stringify(config));
      const from = dev.daemon.logs.length;
      const pid = dev.daemon.child.pid!;
      process.kill(pid, "SIGHUP");
      await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 10_000, from);
      await dev.daemon.waitForState("idle", 10_000, from);
      assert.equal(dev.daemon.child.pid, pid, "the same process");
      assert.ok(dev.daemon.logs.slice(from).some((l) => /^reload: reconnecting/.test(l.msg)));

      // A config broken by an edit: reported, and the daemon goes on with the previous one.
      fs.writeFileSync(file, "agent: [\n");
      const before = dev.daemon.logs.length;
      process.kill(pid, "SIGHUP");
      await dev.daemon.waitForLog((l) => /^reload: the config was not taken/.test(l.msg), 10_000, before);
      assert.ok(dev.daemon.alive);
      await completeTurn(dev);
    } finally {
      await dev.stop();
    }
  });
});
