/**
 * A serial button panel (a microcontroller in a car dash) over a real pty pair with
 * the real serialport package: its button drives a push-to-talk turn against the
 * emulator, its LED follows the device state, and unplugging it releases a held
 * button; plugged back, it works again.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { writeTestBoard } from "../support/test-board";
import { startDevice, type Device } from "../support/device";
import { childProcesses } from "../support/procs";
import { DeviceEnd, PtyPair } from "../unit/serial-pty";

function writeBoard(dir: string, panelPath: string, debounceMs = 30): string {
  return writeTestBoard(dir, {
    description: "rig audio and a serial panel on a pty",
    buttons: [
      { name: "talk", driver: "serial", key: "talk", user_id: "driver", debounce_ms: debounceMs },
      { name: "talk", driver: "control" },
    ],
    serial: { panel: { path: panelPath, baud: 115200 } },
  });
}

/** The daemon's arecords and the periods they were given (µs). */
function mics(dev: Device): Array<{ pid: number; periodUs: number }> {
  return childProcesses(dev.daemon.child.pid!, "arecord").map((p) => ({
    pid: p.pid,
    periodUs: Number(p.args.find((a) => a.startsWith("--period-time="))?.split("=")[1]),
  }));
}

describe("serial button panel", { timeout: 60_000 }, () => {
  test("a panel button drives a turn; unplugged mid-press it releases; replugged it works again", async () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "talkbox-panel-"));
    let pair = await PtyPair.start(dir);
    const boards = writeBoard(dir, pair.a);
    const dev = await startDevice({ board: "car-test", env: { TALKBOX_BOARDS_DIR: boards } });
    let panel = await DeviceEnd.open(pair.b);
    try {
      await panel.send("HELLO dash-panel 1.0\n");
      await panel.waitFor("LED idle");

      await panel.send("BTN talk DOWN\n");
      await panel.waitFor("LED listening");
      await dev.appends(40);
      const first = dev.nextTurn();
      await panel.send("BTN talk UP\n");
      await panel.waitFor("LED thinking");
      assert.equal((await first).canceled, false);
      await panel.waitFor("LED speaking");
      await panel.waitFor("LED idle");
      assert.equal((await dev.status()).State, "idle");

      // Unplugged with the button held: the daemon must not keep listening forever.
      await panel.send("BTN talk DOWN\n");
      await panel.waitFor("LED listening");
      await dev.appends(25);
      const second = dev.nextTurn();
      await panel.close();
      await pair.stop();
      assert.ok((await second).audio.length > 0, "the held turn was committed when the panel vanished");
      await dev.daemon.waitForLog((l) => /serial panel .* unplugged|disconnected/i.test(l.msg));

      pair = await PtyPair.start(dir);
      panel = await DeviceEnd.open(pair.b);
      await panel.send("HELLO dash-panel 1.0\n");
      await panel.waitFor(/^LED (idle|speaking|thinking)$/, 10_000);
      await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findLastIndex((l) => l.msg === "state speaking"));
      await panel.send("BTN talk DOWN\n");
      await panel.waitFor("LED listening");
      await dev.appends(20);
      const third = dev.nextTurn();
      await panel.send("BTN talk UP\n");
      assert.equal((await third).canceled, false);
    } finally {
      await panel.close().catch(() => {});
      await dev.stop().catch(() => {});
      await pair.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a double press switches to free conversation and back; the mic's period follows the mode", async () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "talkbox-panel-"));
    const pair = await PtyPair.start(dir);
    // No debounce: the four edges of a double press can then arrive in one write.
    const boards = writeBoard(dir, pair.a, 0);
    const dev = await startDevice({ board: "car-test", env: { TALKBOX_BOARDS_DIR: boards } });
    const panel = await DeviceEnd.open(pair.b);
    const doublePress = async (to: string): Promise<void> => {
      const from = dev.daemon.logs.length;
      await panel.send("BTN talk DOWN\nBTN talk UP\nBTN talk DOWN\nBTN talk UP\n");
      await dev.daemon.waitForLog((l) => l.msg === `switched to ${to}`, 10_000, from);
      // The new arecord starts once the old one has exited.
      await dev.daemon.waitForLog((l) => l.msg === "capture started", 10_000, from);
    };
    try {
      await panel.send("HELLO dash-panel 1.0\n");
      await panel.waitFor("LED idle");
      const [ptt, ...others] = mics(dev);
      assert.deepEqual([ptt?.periodUs, others.length], [40_000, 0]);

      await doublePress("free conversation");
      assert.equal((await dev.status()).Mode, "free");
      // One arecord at a time: the device may be one only a single process can open.
      const [free, ...twice] = mics(dev);
      assert.ok(free && free.pid !== ptt!.pid && twice.length === 0, `not one new arecord: ${JSON.stringify(mics(dev))}`);
      assert.equal(free.periodUs, 80_000);
      // The mic streams again: free conversation sends it all the time.
      await dev.appends(25);

      await doublePress("push-to-talk");
      const status = await dev.status();
      assert.deepEqual([status.Mode, status.State], ["push-to-talk", "idle"]);
      const [back, ...again] = mics(dev);
      assert.ok(back && back.pid !== free.pid && again.length === 0, `not one new arecord: ${JSON.stringify(mics(dev))}`);
      assert.equal(back.periodUs, 40_000);
      // And a push-to-talk turn still works on the restarted mic.
      await panel.send("BTN talk DOWN\n");
      await panel.waitFor("LED listening");
      await dev.appends(20);
      const turn = dev.nextTurn();
      await panel.send("BTN talk UP\n");
      assert.ok((await turn).audio.length > 0);
    } finally {
      await panel.close().catch(() => {});
      await dev.stop().catch(() => {});
      await pair.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
