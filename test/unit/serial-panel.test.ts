import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPanel, type SerialPanelOptions } from "../../src/hardware/serial/panel";
import { DeviceEnd, LogCapture, next, PtyPair } from "./serial-pty";

const FAST = { initialMs: 20, maxMs: 200 };

/** A pty cable, a panel on end a, the test's panel "firmware" on end b, torn down after `body`. */
async function withPanel(
  opts: Partial<SerialPanelOptions>,
  body: (ctx: { panel: SerialPanel; dev: DeviceEnd; pty: PtyPair; log: LogCapture; dir: string }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "talkbox-panel-"));
  const log = new LogCapture();
  const pty = await PtyPair.start(dir);
  const dev = await DeviceEnd.open(pty.b);
  const panel = new SerialPanel({ path: pty.a, logger: log.logger, version: "9.9.9", pingIntervalMs: 0, backoff: FAST, ...opts });
  try {
    await body({ panel, dev, pty, log, dir });
  } finally {
    await panel.close();
    await dev.close();
    await pty.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("SerialPanel over a pty", () => {
  test("introduces itself, turns BTN lines into events and shows the state on the LED", async () => {
    await withPanel({ buttonNames: ["talk", "passenger"] }, async ({ panel, dev }) => {
      panel.start();
      await dev.waitFor("HELLO talkbox 9.9.9");
      await dev.waitFor("LED connecting");

      const down = next<[string]>(panel, "down");
      await dev.send("BTN talk DOWN\n");
      assert.deepEqual(await down, ["talk"]);
      assert.deepEqual(panel.heldButtons, ["talk"]);

      panel.setState("listening");
      await dev.waitFor("LED listening");

      // Keywords and names are case-insensitive; CRLF is accepted.
      const up = next<[string]>(panel, "up");
      await dev.send("btn TALK up\r\n");
      assert.deepEqual(await up, ["talk"]);
      assert.deepEqual(panel.heldButtons, []);

      // A panel that (re)boots says HELLO and gets the current state again.
      const hello = next<[{ firmware: string; version: string }]>(panel, "hello");
      await dev.send("HELLO dashpanel 1.2.0\n");
      assert.deepEqual(await hello, [{ firmware: "dashpanel", version: "1.2.0" }]);
      await dev.waitFor("LED listening");
    });
  });

  test("garbage, unknown buttons and overlong lines are ignored with a bounded number of warnings", async () => {
    await withPanel({ buttonNames: ["talk", "passenger"] }, async ({ panel, dev, log }) => {
      const events: string[] = [];
      panel.on("down", (n) => events.push(`down ${n}`));
      panel.on("up", (n) => events.push(`up ${n}`));
      panel.start();
      await dev.waitFor("LED connecting");

      await dev.send(Buffer.from([0x00, 0xff, 0x41, 0x0a]));
      await dev.send("FOO bar\n");
      await dev.send("BTN talk SIDEWAYS\n");
      await dev.send("BTN other DOWN\n");
      await dev.send(`${"X".repeat(300)}\n`);
      // An overlong line whose end (which looks like a command) arrives in a later write.
      await dev.send("Z".repeat(150));
      await dev.send(" BTN tail DOWN\n");
      const down = next<[string]>(panel, "down");
      await dev.send("BTN passenger DOWN\n");
      assert.deepEqual(await down, ["passenger"]);
      assert.deepEqual(events, ["down passenger"]);

      assert.equal(log.warnings(/unknown keyword/).length, 2);
      assert.equal(log.warnings(/expected BTN <name> DOWN\|UP/).length, 1);
      assert.equal(log.warnings(/unknown button "other" \(configured: talk, passenger\)/).length, 1);
      assert.equal(log.warnings(/longer than 128/).length, 1);
      assert.equal(log.warnings(/further bad lines are logged at debug level/).length, 1);
      // The sixth bad line (the overlong one split across writes) is at debug level only.
      const overlong = log.entries.filter((e) => /longer than 128/.test(e.msg));
      assert.deepEqual(
        overlong.map((e) => e.level),
        [40, 20],
      );
      assert.equal(panel.connected, true);
    });
  });

  test("unplugged with the talk button held: releases it, waits, and works again when plugged back", async () => {
    await withPanel({}, async ({ panel, dev, pty, log, dir }) => {
      panel.start();
      await dev.waitFor("LED connecting");
      const down = next<[string]>(panel, "down");
      await dev.send("BTN talk DOWN\n");
      await down;

      const up = next<[string]>(panel, "up");
      const gone = next<[string]>(panel, "disconnected");
      const mark = log.entries.length;
      await pty.stop();
      assert.deepEqual(await gone, ["unplugged"]);
      assert.deepEqual(await up, ["talk"]);
      await log.waitForWarning(/^serial panel .*\/a unplugged; waiting for it$/, mark);
      assert.equal(panel.connected, false);
      assert.deepEqual(panel.heldButtons, []);
      await dev.close();

      // Retrying while it is away is quiet: let a few attempts pass, then plug it back.
      await log.until((e) => e.slice(mark).filter((x) => /not found/.test(x.msg)).length >= 3, "three reconnect attempts");
      assert.equal(log.warnings(/not found/).length, 0);
      panel.setState("offline");

      const connected = next(panel, "connected");
      const pty2 = await PtyPair.start(dir);
      try {
        await connected;
        const dev2 = await DeviceEnd.open(pty2.b);
        try {
          // A freshly plugged panel boots and says HELLO; it gets the state set while it was away.
          await dev2.send("HELLO dashpanel 1.2.0\n");
          await dev2.waitFor("LED offline");
          const again = next<[string]>(panel, "down");
          await dev2.send("BTN talk DOWN\n");
          assert.deepEqual(await again, ["talk"]);
          panel.setState("listening");
          await dev2.waitFor("LED listening");
        } finally {
          await dev2.close();
        }
      } finally {
        await pty2.stop();
      }
    });
  });

  test("keep-alive: answered PINGs keep it; unanswered ones release held buttons and reconnect", async () => {
    await withPanel({ pingIntervalMs: 50, pongTimeoutMs: 250 }, async ({ panel, dev, log }) => {
      const disconnects: string[] = [];
      panel.on("disconnected", (r) => disconnects.push(r));
      panel.start();
      await dev.waitFor("HELLO talkbox 9.9.9");
      // Answering for longer than the PONG timeout: a lost PONG would show as a disconnect.
      const started = Date.now();
      let answered = 0;
      while (answered < 6 || Date.now() - started < 600) {
        await dev.waitFor("PING");
        await dev.send("PONG\n");
        answered++;
      }
      assert.deepEqual(disconnects, []);

      const down = next<[string]>(panel, "down");
      await dev.send("BTN talk DOWN\n");
      await down;
      // Now the "firmware" hangs: no more PONGs.
      const up = next<[string]>(panel, "up");
      const gone = next<[string]>(panel, "disconnected");
      assert.deepEqual(await gone, ["no answer to PING"]);
      assert.deepEqual(await up, ["talk"]);
      await log.waitForWarning(/no PONG within 250 ms; treating the panel as gone and reconnecting/);

      // It reopens the port by itself and introduces itself again.
      await dev.waitFor("HELLO talkbox 9.9.9");
      await dev.waitFor("LED connecting");
      await dev.waitFor("PING");
      await dev.send("PONG\n");
      assert.deepEqual(disconnects, ["no answer to PING"]);
    });
  });

  test("started before the panel exists: says so once, then connects when it appears", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-panel-"));
    const log = new LogCapture();
    const panel = new SerialPanel({ path: join(dir, "a"), logger: log.logger, version: "9.9.9", pingIntervalMs: 0, backoff: FAST });
    try {
      panel.start();
      await log.waitForWarning(/^serial panel .*\/a not found; waiting for it/);
      await log.until((e) => e.filter((x) => /not found/.test(x.msg)).length >= 3, "three open attempts");
      assert.equal(log.warnings(/not found/).length, 1);
      const connected = next(panel, "connected");
      const pty = await PtyPair.start(dir);
      try {
        await connected;
        assert.equal(panel.connected, true);
      } finally {
        await panel.close();
        await pty.stop();
      }
    } finally {
      await panel.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
