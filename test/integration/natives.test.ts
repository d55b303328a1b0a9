/**
 * The daemon on a machine whose ALSA `default` device cannot be opened (a headless Pi whose
 * default is HDMI): with the native modules it plays through speaker; with no native module
 * loadable at all (Node's --no-addons, as when nothing could be built) it starts on the
 * fallbacks, aplay and opusscript, says why, and a push-to-talk turn is heard at the card.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { daemonPlayback, startDevice } from "../support/device";
import { until } from "../support/daemon-process";

/** A push-to-talk turn; resolves when its reply has played out and some of it was sound at the card. */
const REPO = path.resolve(__dirname, "../../..");

async function turn(device: Awaited<ReturnType<typeof startDevice>>): Promise<void> {
  const from = device.daemon.logs.length;
  await device.press();
  await device.appends(50);
  await device.release();
  await device.daemon.waitForState("speaking", 20_000, from);
  await device.daemon.waitForState("idle", 20_000, from);
  await until(() => daemonPlayback(device.rig).bytes.some((b) => b !== 0), "reply audio at the card");
}

describe("native modules and their fallbacks", { timeout: 120_000 }, () => {
  test("ALSA default cannot be opened: the daemon starts and plays through speaker", async () => {
    const device = await startDevice({ rig: { defaultPcm: false } });
    try {
      const ready = device.daemon.logs.find((l) => l.msg === "audio ready");
      assert.match(String(ready?.["speaker"]), /via speaker/);
      await turn(device);
    } finally {
      assert.equal(await device.stop(), 0);
    }
  });

  test("no native module loads: the daemon starts on aplay and opusscript and says why", async () => {
    const device = await startDevice({
      rig: { defaultPcm: false },
      env: { NODE_OPTIONS: "--no-addons" },
      config: { audio: { uplink_codec: "opus", downlink_codec: "opus" } },
    });
    try {
      const warned = device.daemon.logs.find((l) => /the native 'speaker' module cannot play 'rigspk'/.test(String(l.msg)));
      assert.ok(warned, "a warning names speaker and the device");
      assert.match(String(warned.msg), /playing through aplay instead.*bash scripts\/deps\.sh/);
      assert.ok(device.daemon.logs.some((l) => /opusscript/.test(String(l.msg))), "the Opus fallback is announced");
      const ready = device.daemon.logs.find((l) => l.msg === "audio ready");
      assert.match(String(ready?.["speaker"]), /aplay/);
      // No analytics store: said once at start, and `talkbox stats` says how to get it.
      assert.ok(device.daemon.logs.some((l) => /no conversation analytics on this device: the optional native package better-sqlite3 does not load .*bash scripts\/deps\.sh/.test(String(l.msg))));
      const stats = await device.control.request({ Command: "Stats" });
      assert.equal(stats["Ok"], false);
      assert.match(JSON.stringify(stats), /better-sqlite3 does not load.*scripts\/deps\.sh/);
      await turn(device);
    } finally {
      assert.equal(await device.stop(), 0);
    }
  });
});

describe("the device build (scripts/build.js: esbuild, no type check)", { timeout: 120_000 }, () => {
  test("what the installer compiles on the device runs a push-to-talk turn, Opus both ways", async () => {
    // The app's layout, as the installer makes it: dist/src beside boards/, package.json, node_modules.
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-device-build-"));
    try {
      for (const f of ["boards", "firmware", "package.json", "node_modules"]) fs.symlinkSync(path.join(REPO, f), path.join(app, f));
      const built = spawnSync(process.execPath, [path.join(REPO, "scripts/build.js"), path.join(app, "dist")], { encoding: "utf8" });
      assert.equal(built.status, 0, built.stderr);
      const device = await startDevice({ cli: path.join(app, "dist/src/cli.js"), config: { audio: { uplink_codec: "opus", downlink_codec: "opus" } } });
      try {
        await turn(device);
      } finally {
        assert.equal(await device.stop(), 0);
      }
    } finally {
      fs.rmSync(app, { recursive: true, force: true });
    }
  });
});
