/**
 * A hung microphone: arecord alive but delivering nothing (stopped). The watchdog
 * notices, says so once, restarts capture, and the press that follows is heard.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { startDevice } from "../support/device";
import { speechLoop } from "../support/speech";
import { completeTurn, warnings } from "./support";

function arecordOf(pid: number): number {
  const out = execFileSync("pgrep", ["-P", String(pid), "arecord"], { encoding: "utf8" }).trim();
  const child = Number(out.split("\n")[0]);
  assert.ok(child > 0, `no arecord under ${pid}`);
  return child;
}

describe("fault suite: the microphone", () => {
  test("arecord stopped (SIGSTOP): detected, restarted within a second, and the next press is heard", { timeout: 60_000 }, async () => {
    const dev = await startDevice({ rig: { micPcm: speechLoop(60) } });
    let first: number | undefined;
    try {
      // A turn first: the mic is flowing (before its first audio arecord gets 2 s to open the card, not the stall limit).
      await completeTurn(dev);
      first = arecordOf(dev.daemon.child.pid!);
      const from = dev.daemon.logs.length;
      const stoppedAt = Date.now();
      process.kill(first, "SIGSTOP");
      const warned = await dev.daemon.waitForLog((l) => /^the microphone delivered nothing/.test(l.msg), 5000, from);
      await dev.daemon.waitForLog((l) => l.msg === "capture started", 5000, dev.daemon.logs.indexOf(warned));
      const ms = Number(warned.time) - stoppedAt;
      assert.ok(ms < 1000, `the hung mic was noticed ${ms} ms after it stopped`);
      assert.notEqual(arecordOf(dev.daemon.child.pid!), first, "a new arecord");
      await completeTurn(dev);
      assert.equal(warnings(dev, from, /microphone/).length, 1, "said once");
    } finally {
      try {
        process.kill(first!, "SIGCONT");
      } catch {
        // already replaced: the watchdog killed it
      }
      await dev.stop();
    }
  });
});
