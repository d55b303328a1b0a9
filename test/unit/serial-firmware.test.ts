import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { EventEmitter } from "node:events";
import { SerialPanel } from "../../src/hardware/serial/panel";
import { LogCapture, next, PtyPair } from "./serial-pty";
import { within } from "../support/within";

const FIRMWARE = resolve(__dirname, "../../../firmware/panel");

/** Builds firmware/panel/panel.ino for Linux with the host shim (g++ is in setup.sh's packages). */
async function buildFirmware(dir: string): Promise<string> {
  const out = join(dir, "panel-host");
  await promisify(execFile)("g++", [
    "-std=c++11", "-Wall", "-Wextra", "-Werror",
    "-include", "Arduino.h", "-I", join(FIRMWARE, "host"),
    "-x", "c++", join(FIRMWARE, "panel.ino"),
    "-x", "none", join(FIRMWARE, "host", "host.cpp"),
    "-o", out,
  ]);
  return out;
}

describe("reference firmware (panel.ino built for Linux) against SerialPanel", () => {
  test("HELLO, buttons, LED states and keep-alive work end to end", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-firmware-"));
    const binary = await within(buildFirmware(dir), 60_000, "g++ to build panel.ino");
    const pty = await PtyPair.start(dir);
    const log = new LogCapture();
    const panel = new SerialPanel({ path: pty.a, logger: log.logger, version: "9.9.9", buttonNames: ["talk", "passenger"], pingIntervalMs: 100, pongTimeoutMs: 250 });
    const fw = spawn(binary, [pty.b], { stdio: ["pipe", "pipe", "inherit"] });
    const leds = new EventEmitter();
    const ledLines: string[] = [];
    createInterface({ input: fw.stdout! }).on("line", (l) => {
      ledLines.push(l);
      leds.emit("line", l);
    });
    /** Resolves when the firmware's LED output is `want` (now or later). */
    const ledBecomes = (want: string): Promise<void> => {
      const reached = new Promise<void>((res) => {
        if (ledLines[ledLines.length - 1] === want) return res();
        const onLine = (l: string): void => {
          if (l !== want) return;
          leds.off("line", onLine);
          res();
        };
        leds.on("line", onLine);
      });
      return within(reached, 5000, `the firmware's LED to become "${want}" (saw ${JSON.stringify(ledLines.slice(-5))})`);
    };
    const disconnects: string[] = [];
    panel.on("disconnected", (r) => disconnects.push(r));
    try {
      // The firmware answers the device's HELLO with its own.
      const hello = next<[{ firmware: string; version: string }]>(panel, "hello");
      panel.start();
      const [info] = await hello;
      assert.deepEqual(info, { firmware: "talkbox-panel", version: "1.0.0" });
      await ledBecomes("rgb 0 0 255"); // connecting: blue blink

      panel.setState("listening");
      await ledBecomes("rgb 0 255 0");
      panel.setState("muted");
      await ledBecomes("rgb 255 0 160");

      const down = next<[string]>(panel, "down");
      fw.stdin!.write("press 2\n");
      assert.deepEqual(await down, ["talk"]);
      const up = next<[string]>(panel, "up");
      fw.stdin!.write("release 2\n");
      assert.deepEqual(await up, ["talk"]);
      const down3 = next<[string]>(panel, "down");
      fw.stdin!.write("press 3\n");
      assert.deepEqual(await down3, ["passenger"]);

      // PING periods adding up to more than the PONG timeout: the firmware keeps answering.
      let pongs = 0;
      const sixPongs = new Promise<void>((res) => panel.on("pong", () => ++pongs === 6 && res()));
      await within(sixPongs, 5000, "six PONGs");
      assert.deepEqual(disconnects, []);
      assert.equal(log.warnings(/./).length, 0, JSON.stringify(log.warnings(/./)));
    } finally {
      fw.stdin!.end();
      await new Promise((r) => (fw.exitCode !== null ? r(null) : fw.once("exit", r)));
      await panel.close();
      await pty.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
