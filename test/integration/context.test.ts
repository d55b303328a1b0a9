/**
 * What the device knows, told to the agent as it changes (issue 16): a GPS on a real pty
 * (NMEA sentences), the compiled daemon, the emulator's records of the wire. The position goes
 * again once the car has moved the board's gps.update_m (200 m), not for every metre.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startDevice, type Device, type DeviceOptions } from "../support/device";
import { until } from "../support/daemon-process";
import { DeviceEnd, PtyPair } from "../unit/serial-pty";
import { writeTestBoard } from "../support/test-board";

function sentence(body: string): string {
  let x = 0;
  for (const ch of body) x ^= ch.charCodeAt(0);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, "0")}\r\n`;
}
/** A fix at `latMinutes` minutes past 39° N (one minute of latitude is 1852 m), 116°18.35' E. */
const fix = (latMinutes: number): string => sentence(`GNRMC,083559.00,A,39${latMinutes.toFixed(6).padStart(9, "0")},N,11618.352098,E,0.004,77.52,091124,,,A,V`);
/** The daemon's decimal degrees for it. */
const lat = (latMinutes: number): string => (39 + latMinutes / 60).toFixed(7);

async function withGps(o: DeviceOptions, body: (dev: Device, gps: DeviceEnd) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "talkbox-gps-"));
  const pair = await PtyPair.start(dir);
  const boards = writeTestBoard(dir, {
    description: "rig audio and a GPS on a pty",
    buttons: [{ name: "talk", driver: "control" }],
    serial: { gps: { path: pair.a, baud: 9600 } },
  });
  const dev = await startDevice({ ...o, board: "car-test", env: { TALKBOX_BOARDS_DIR: boards } });
  const gps = await DeviceEnd.open(pair.b);
  try {
    await body(dev, gps);
  } finally {
    await gps.close().catch(() => {});
    await pair.stop().catch(() => {});
    await dev.stop().catch(() => {});
  }
}

describe("the device's position, told as the car moves", { timeout: 90_000 }, () => {
  test("the voice API v2: each user session starts with it, and gets a context update once the car has moved 200 m", async () => {
    await withGps({ voiceapi: { version: "v2" } }, async (dev, gps) => {
      await gps.send(fix(58.804308));
      await until(() => dev.daemon.logs.some((l) => /position fix acquired/.test(l.msg)), "the first fix");
      await dev.control.request({ Command: "Text", Message: "Where am I?" });
      const session = dev.emulator.voiceApiSessions()[0]!;
      await until(() => session.contexts.length >= 1, "the session's start");
      await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findIndex((l) => l.msg === "state speaking"));
      await gps.send(fix(59.804308)); // 1852 m north
      await until(() => session.contexts.length >= 2, "a context update");
      await gps.send(fix(59.814308)); // 18.5 m further: not worth telling
      await gps.send(fix(59.99)); // 343 m from the last told
      await until(() => session.contexts.length >= 3, "the next context update");
      assert.deepEqual(
        session.contexts.map((c) => [c.userId, (c.context as Record<string, string>).latitude]),
        [["talkbox", lat(58.804308)], ["talkbox", lat(59.804308)], ["talkbox", lat(59.99)]],
      );
      assert.deepEqual(session.errors, []);
    });
  });

  test("Coze: a chat.update with the position as extra_params, the same user and conversation, once the car has moved 200 m", async () => {
    await withGps({}, async (dev, gps) => {
      const updates = (): Record<string, unknown>[] =>
        dev.emulator
          .sessions()[0]!
          .received.map((r) => r.event)
          .filter((e) => e?.event_type === "chat.update")
          .map((e) => (e!.data as { chat_config?: Record<string, unknown> }).chat_config ?? {})
          .filter((c) => c.extra_params !== undefined);
      await gps.send(fix(58.804308));
      await until(() => updates().length >= 1, "the first position");
      await gps.send(fix(58.814308)); // 18.5 m
      await gps.send(fix(59.804308)); // 1852 m from the first
      await until(() => updates().length >= 2, "the position after the move");
      assert.deepEqual(
        updates().map((c) => [c.user_id, (c.extra_params as Record<string, string>).latitude]),
        [["talkbox", lat(58.804308)], ["talkbox", lat(59.804308)]],
      );
      const turns = dev.emulator.sessions()[0]!;
      assert.ok(turns.open);
    });
  });
});
