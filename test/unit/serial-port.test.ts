import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { BoundedLineParser } from "../../src/hardware/serial/line-parser";
import { classifyOpenError, openProblemMessage } from "../../src/hardware/serial/open-error";
import { guardHangup } from "../../src/hardware/serial/hangup-guard";
import { ReconnectingPort } from "../../src/hardware/serial/reconnecting-port";
import { realClock, type Clock } from "../../src/core/clock";
import { DeviceEnd, LogCapture, next, PtyPair } from "./serial-pty";
import { within } from "../support/within";

/** Feeds chunks through a parser and returns the lines and the overlong reports. */
async function parse(chunks: (string | Buffer)[], maxLength = 16): Promise<{ lines: string[]; overlong: number[] }> {
  const overlong: number[] = [];
  const lines: string[] = [];
  const parser = new BoundedLineParser({ maxLength, onOverlong: (n) => overlong.push(n) });
  parser.on("data", (l: string) => lines.push(l));
  const ended = new Promise((resolve) => parser.on("end", resolve));
  for (const c of chunks) parser.write(c);
  parser.end();
  await ended;
  return { lines, overlong };
}

describe("BoundedLineParser", () => {
  test("splits lines across chunks, accepts CRLF, skips empty lines", async () => {
    assert.deepEqual((await parse(["BTN a", " DOWN\nPO", "NG\r\n", "\n\r\nx\n"])).lines, ["BTN a DOWN", "PONG", "x"]);
  });

  test("a line of exactly maxLength passes; one byte more is dropped and reported", async () => {
    const r = await parse([`${"a".repeat(16)}\n${"b".repeat(17)}\nok\n`]);
    assert.deepEqual(r.lines, ["a".repeat(16), "ok"]);
    assert.deepEqual(r.overlong, [17]);
  });

  test("an overlong line is dropped up to its newline even when its end comes later, once reported", async () => {
    const r = await parse(["x".repeat(10), "y".repeat(10), "z".repeat(30), " BTN talk DOWN\nafter\n"]);
    assert.deepEqual(r.lines, ["after"]);
    assert.equal(r.overlong.length, 1);
    assert.ok((r.overlong[0] as number) > 16);
  });

  test("a partial line left at the end is not passed on as a line", async () => {
    assert.deepEqual((await parse(["one\ntw"])).lines, ["one"]);
  });
});

describe("open errors", () => {
  // Messages as serialport's native binding produces them (measured on Linux).
  test("are told apart from the binding's messages", () => {
    assert.equal(classifyOpenError(new Error("Error: No such file or directory, cannot open /dev/ttyUSB0")), "missing");
    assert.equal(classifyOpenError(new Error("Error: Permission denied, cannot open /dev/ttyUSB0")), "permission");
    assert.equal(classifyOpenError(new Error("Error Resource temporarily unavailable Cannot lock port")), "busy");
    assert.equal(classifyOpenError(Object.assign(new Error("x"), { code: "EACCES" })), "permission");
    assert.equal(classifyOpenError(new Error("Error: Input/output error, cannot open /dev/ttyS0")), "other");
  });

  test("say what to do", () => {
    const err = new Error("e");
    assert.match(openProblemMessage("serial panel", "/dev/ttyUSB0", "permission", err), /EACCES: add the talkbox user to the dialout group/);
    assert.match(openProblemMessage("serial panel", "/dev/ttyUSB0", "missing", err), /^serial panel \/dev\/ttyUSB0 not found; waiting for it/);
  });

  test("a port held by another program is reported as busy, and opens once it is free", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-serial-"));
    const pty = await PtyPair.start(dir);
    const log = new LogCapture();
    const holder = await DeviceEnd.open(pty.a);
    const port = new ReconnectingPort({ path: pty.a, baudRate: 115200, label: "GPS", logger: log.logger, maxLineLength: 64, backoff: { initialMs: 20, maxMs: 100 } });
    try {
      const opened = next(port, "open");
      port.start();
      await log.waitForWarning(/^GPS .*\/a is in use by another program/);
      assert.equal(port.write("x"), false, "nothing to write to while not open");
      await holder.close();
      await opened;
      assert.equal(port.write("x"), true);
    } finally {
      await port.close();
      await holder.close();
      await pty.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ReconnectingPort", () => {
  test("retries a missing device with a doubling delay up to the maximum", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-serial-"));
    const log = new LogCapture();
    const delays: number[] = [];
    const clock: Clock = {
      now: () => realClock.now(),
      setTimeout: (fn, ms) => {
        delays.push(ms);
        return realClock.setTimeout(fn, ms);
      },
      clearTimeout: (t) => realClock.clearTimeout(t),
    };
    const port = new ReconnectingPort({ path: join(dir, "gps"), baudRate: 9600, label: "GPS", logger: log.logger, maxLineLength: 64, backoff: { initialMs: 10, maxMs: 80 }, clock });
    try {
      port.start();
      await log.until((e) => e.filter((x) => /not found/.test(x.msg)).length >= 7, "seven open attempts");
      assert.deepEqual(delays.slice(0, 6), [10, 20, 40, 80, 80, 80]);
      assert.equal(log.warnings(/not found/).length, 1);
    } finally {
      await port.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("guardHangup", () => {
  test("a port that reads only after its device hung up reports the disconnect instead of spinning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-serial-"));
    const pty = await PtyPair.start(dir);
    const port = new SerialPort({ path: pty.a, baudRate: 115200, autoOpen: false });
    port.on("error", () => {});
    try {
      port.once("open", () => assert.equal(guardHangup(port.port), true));
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      // Nothing reads yet, so no poll is pending when the device goes away:
      // the first read meets the hung-up tty (0 bytes), the case serialport loops on.
      await pty.stop();
      const closed = new Promise<(Error & { disconnected?: boolean }) | null>((resolve) => port.once("close", resolve));
      port.on("data", () => {});
      const err = await within(closed, 5000, "the port to close after the hangup");
      assert.equal(err?.disconnected, true);
    } finally {
      if (port.isOpen) await new Promise((resolve) => port.close(resolve));
      await pty.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
