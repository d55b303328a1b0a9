/**
 * The compiled daemon as systemd sees it: a real $NOTIFY_SOCKET gets READY=1 once the control
 * socket serves, a STATUS= line per state, watchdog pets that stop while the process is
 * frozen, and STOPPING=1 on SIGTERM.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { openControlConnection, type ControlConnection } from "../../src/control/client";
import { startEmulator } from "../../src/emulator/server";
import { startDevice } from "../support/device";
import { DaemonProcess } from "../support/daemon-process";
import { startRig } from "../rig/rig";
import { NotifyListener } from "../support/notify-listener";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-notify-int-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** WatchdogSec=0.4s: a pet every 200 ms. */
const WATCHDOG_USEC = 400_000;
const PET_MS = WATCHDOG_USEC / 2000;

describe("systemd notifications from the daemon", { timeout: 60_000 }, () => {
  test("READY=1 after the control socket listens, STATUS per state, ≥3 pets, none while frozen, STOPPING=1 on SIGTERM", async () => {
    const listener = await NotifyListener.open(fs.mkdtempSync(path.join(root, "sd-")));
    const emulator = await startEmulator();
    const rig = await startRig({ micRate: 16000 });
    const socket = path.join(rig.dir, "control.sock");
    // Looked at the moment READY arrives.
    const ready = listener.next("READY=1", 0, 30_000).then((m) => ({ ...m, socketExisted: fs.existsSync(socket) }));
    const daemon = DaemonProcess.run(
      rig.dir,
      {
        agent: { url: emulator.url, bot_id: "7000000000000000001", token: "test-token-1234" },
        audio: { input: { device: rig.micDevice }, output: { device: rig.spkDevice } },
        control: { socket },
        log: { level: "debug", format: "json" },
      },
      { ...rig.env, NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: String(WATCHDOG_USEC) },
    );
    let control: ControlConnection | null = null;
    try {
      const r = await ready;
      assert.equal(r.socketExisted, true, "READY=1 only once the control socket exists");
      // Ready means serving, not connected: the link to the agent comes up (or not) afterwards.
      assert.deepEqual(r.text.split("\n"), ["READY=1", "STATUS=connecting"]);
      await listener.next("STATUS=idle", r.index);

      const pets = listener.messages.length;
      await listener.next("WATCHDOG=1", pets);
      await listener.next("WATCHDOG=1", pets + 1);
      const third = await listener.next("WATCHDOG=1", pets + 2);
      const petTimes = listener.messages.filter((m) => m.text === "WATCHDOG=1").map((m) => m.at);
      const gaps = petTimes.slice(1).map((t, i) => t - petTimes[i]!);
      assert.ok(gaps.every((g) => g < WATCHDOG_USEC / 1000), `every gap below WATCHDOG_USEC: ${gaps.map(Math.round).join(", ")} ms`);

      const from = third.index + 1;
      control = await openControlConnection(socket);
      await control.request({ Command: "Button", Name: "talk", Action: "down" });
      const listening = await listener.next("STATUS=listening", from);
      // Released before any audio went out: an empty turn, straight back to idle.
      await control.request({ Command: "Button", Name: "talk", Action: "up" });
      await listener.next("STATUS=idle", listening.index + 1);

      // Frozen (as a hung event loop would be): systemd must hear nothing.
      process.kill(daemon.child.pid!, "SIGSTOP");
      const frozenAt = performance.now();
      await new Promise((r) => setTimeout(r, 4 * PET_MS));
      const frozenUntil = performance.now();
      process.kill(daemon.child.pid!, "SIGCONT");
      const resumed = await listener.next("WATCHDOG=1", listener.messages.length);
      // A datagram sent just before the stop may be read a moment later: allow one in flight.
      const during = listener.messages.filter((m) => m.text === "WATCHDOG=1" && m.at > frozenAt + 50 && m.at < frozenUntil);
      assert.equal(during.length, 0, "no pets while the daemon was frozen");
      assert.ok(resumed.at >= frozenUntil);

      await control.close();
      control = null;
      const beforeStop = listener.messages.length;
      assert.equal(await daemon.stop(), 0);
      const stopping = await listener.next("STOPPING=1", beforeStop);
      assert.deepEqual(stopping.text.split("\n"), ["STOPPING=1", "STATUS=stopping"]);
      assert.equal(listener.lines().filter((l) => l.includes("READY=1")).length, 1, "READY=1 once");
    } finally {
      await control?.close();
      await daemon.stop();
      await rig.close();
      await emulator.close();
      listener.close();
    }
    assert.ok(!daemon.rawOutput.some((l) => l.includes("cannot notify systemd")), "every notification was delivered");
  });

  test("a NOTIFY_SOCKET nobody listens on: one warning, and the device works", async () => {
    const dead = path.join(fs.mkdtempSync(path.join(root, "dead-")), "notify.sock");
    const dev = await startDevice({ env: { NOTIFY_SOCKET: dead, WATCHDOG_USEC: String(WATCHDOG_USEC) } });
    try {
      await dev.daemon.waitForLog((l) => l.msg.startsWith("cannot notify systemd"));
      // Several more pets fail meanwhile; they are debug lines, not more warnings.
      await dev.daemon.waitForLog((l) => l.msg === "systemd notification not sent" && l.level === 20);
      await dev.daemon.waitForLog((l) => l.msg === "systemd notification not sent", 15_000, dev.daemon.logs.length);
      assert.equal(dev.daemon.logs.filter((l) => l.msg.startsWith("cannot notify systemd")).length, 1);
      assert.equal((await dev.status()).State, "idle");
    } finally {
      assert.equal(await dev.stop(), 0);
    }
  });
});
