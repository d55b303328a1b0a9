/**
 * What every fault case checks afterwards: the daemon is alive, it left the bad
 * state, it said so once, and the next push-to-talk turn completes.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import type { Device } from "../support/device";
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
