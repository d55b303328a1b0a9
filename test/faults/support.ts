/**
 * What every fault case checks afterwards: the daemon is alive, it left the bad
 * state, it said so once, and the next push-to-talk turn completes.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import type { Device } from "../support/device";
import type { ProxyConn } from "../support/fault-proxy";
import type { LogLine } from "../support/daemon-process";
import { nextResponse } from "../support/realtime";

export const WARN = 40;

/** Press, speak for `appends` frames, release; resolves when the reply has played and the device is idle. */
export async function completeTurn(dev: Device, realtime = false, appends = 25): Promise<void> {
  const from = dev.daemon.logs.length;
  const done = realtime ? nextResponse(dev).then((r) => assert.equal(r.status, "completed", "the next turn's reply")) : dev.nextTurn().then((t) => assert.equal(t.canceled, false, "the next turn's reply"));
  assert.equal((await dev.press()).State, "listening", "the press starts a turn");
  await dev.appends(appends);
  await dev.release();
  await done;
  const speaking = await dev.daemon.waitForState("speaking", 10_000, from);
  await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.indexOf(speaking));
}

/** Warnings and errors logged since `from`, whose message matches. */
export function warnings(dev: Device, from: number, re: RegExp): LogLine[] {
  return dev.daemon.logs.slice(from).filter((l) => l.level >= WARN && re.test(l.msg));
}

/** The daemon's resident memory now, MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, "VmRSS in /proc/<pid>/status");
  return Number(m[1]) / 1024;
}

/** The process's open file descriptors. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export function assertAlive(dev: Device): void {
  assert.ok(dev.daemon.alive, `the daemon died; last lines:\n${dev.daemon.rawOutput.slice(-15).join("\n")}`);
}

/** Sends `frame` (over the protocol's limit, named `limit`): the link fails as a protocol error, comes back, RAM stays bounded, the next turn works. */
export async function oversizeFrameCase(dev: Device, frame: string, limit: string, realtime: boolean): Promise<void> {
  const before = rssMiB(dev.daemon.child.pid!);
  const from = dev.daemon.logs.length;
  dev.proxy!.latest.send(frame);
  const down = await dev.daemon.waitForLog((l) => l.msg.startsWith(`agent link down: the agent sent a frame larger than ${limit}`), 10_000, from);
  assert.equal(down.problem, "protocol");
  await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 10_000, dev.daemon.logs.indexOf(down));
  assert.ok(rssMiB(dev.daemon.child.pid!) - before < 30, "RSS stays bounded");
  await completeTurn(dev, realtime);
}

/**
 * The link stalls (TCP open, nothing moves) once the client sends `trigger`, the end of the
 * turn: the tight ping drops it within seconds; the stall swallowed the agent's
 * acknowledgment, so the turn goes again on the new link and is answered; the next turn works.
 */
export async function stalledReplyCase(dev: Device, trigger: string, realtime: boolean): Promise<void> {
  let stalled: ProxyConn | null = null;
  dev.proxy!.onClient = (conn, text) => {
    if (text.includes(`"${trigger}"`)) {
      dev.proxy!.onClient = null;
      stalled = conn;
      conn.stall();
    }
    return "pass";
  };
  const from = await talk(dev);
  const thinking = await dev.daemon.waitForState("thinking", 5000, from);
  const down = await dev.daemon.waitForLog((l) => l.msg.startsWith("agent link down: nothing from the agent within 2500 ms of a WebSocket ping"), 15_000, from);
  const ms = Number(down.time) - Number(thinking.time);
  if (Number.isFinite(ms)) assert.ok(ms < 10_000, `noticed ${ms} ms after the turn ended`);
  // The stalled connection ends at the emulator too, before anything of the next turn is looked at there.
  await closeAtEmulator(dev, stalled!, realtime);
  const ready = await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 15_000, dev.daemon.logs.indexOf(down));
  const speaking = await dev.daemon.waitForState("speaking", 15_000, dev.daemon.logs.indexOf(ready));
  await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.indexOf(speaking));
  assert.equal(warnings(dev, from, /before the answer was complete/).length, 0, "nothing was lost: nothing to press again for");
  await completeTurn(dev, realtime);
}

/** Ends a proxied connection and waits until the emulator has seen its session close. */
async function closeAtEmulator(dev: Device, conn: ProxyConn, realtime: boolean): Promise<void> {
  const sessions = realtime ? dev.emulator.realtimeSessions() : dev.emulator.sessions();
  const session = sessions[conn.index];
  if (!session?.open) return conn.drop();
  const closed = new Promise<void>((resolve) => {
    const on = (i: number): void => {
      if (i !== session.index) return;
      dev.emulator.events.off(realtime ? "realtime-close" : "close", on);
      resolve();
    };
    dev.emulator.events.on(realtime ? "realtime-close" : "close", on);
  });
  conn.drop();
  await closed;
}

/**
 * The server answers the end of a turn (the client's `trigger`, which it swallows) with
 * `errorFrame` in place of a reply: the turn ends at once (thinking → error → idle, not
 * after reply_timeout_ms), the error is said once, and the next turn works.
 */
export async function errorInPlaceCase(dev: Device, trigger: string, errorFrame: string, said: RegExp, realtime: boolean): Promise<void> {
  dev.proxy!.onClient = (conn, text) => {
    if (!text.includes(`"${trigger}"`)) return "pass";
    dev.proxy!.onClient = null;
    conn.send(errorFrame);
    return "drop";
  };
  const from = await talk(dev);
  const error = await dev.daemon.waitForState("error", 10_000, from);
  assert.ok(dev.daemon.logs.slice(from, dev.daemon.logs.indexOf(error)).some((l) => l.msg === "state thinking"), "thinking, then error");
  assert.equal(warnings(dev, from, said).length, 1, "said once");
  await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.indexOf(error));
  await completeTurn(dev, realtime);
}

/** Press, speak for 25 frames, release; returns the log index the turn started at. */
export async function talk(dev: Device): Promise<number> {
  const from = dev.daemon.logs.length;
  await dev.press();
  await dev.appends(25);
  await dev.release();
  return from;
}

/** Press, speak, release, and wait until the reply has played and the device rests; returns the log index the turn started at. */
export async function spokenTurn(dev: Device): Promise<number> {
  const from = await talk(dev);
  const speaking = await dev.daemon.waitForState("speaking", 10_000, from);
  await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.indexOf(speaking));
  return from;
}

/** The reply's end (`endMarker`, text in the frame) never comes: speaking ends reply_timeout_ms after the audio, said once; the next turn works. */
export async function neverEndingReplyCase(dev: Device, endMarker: string, realtime: boolean): Promise<void> {
  dev.proxy!.onServer = (_conn, text) => (text.includes(endMarker) ? "drop" : "pass");
  const from = await spokenTurn(dev);
  assert.equal(warnings(dev, from, /stopped without an end/).length, 1);
  dev.proxy!.onServer = null;
  await completeTurn(dev, realtime);
}

/** Runs `body` on a started device and stops it afterwards, whatever happened. */
export async function withDevice(started: Promise<Device>, body: (dev: Device) => Promise<void>): Promise<void> {
  const dev = await started;
  try {
    await body(dev);
  } finally {
    await dev.stop();
  }
}
