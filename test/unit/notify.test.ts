/** systemd notifications over a real AF_UNIX datagram socket, and the watchdog's timing. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createLogger, type Logger } from "../../src/log/logger";
import { realClock } from "../../src/core/clock";
import { formatNotification, openNotifier } from "../../src/system/notify";
import { SystemdService } from "../../src/system/systemd";
import { Watchdog, watchdogSetting } from "../../src/system/watchdog";
import { FakeClock } from "../support/fake-clock";
import { NotifyListener } from "../support/notify-listener";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-notify-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const freshDir = (): string => fs.mkdtempSync(path.join(root, "c-"));

interface Line {
  level: number;
  msg: string;
}

function captureLogger(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger({ level: "debug", destination: { write: (s: string) => void lines.push(JSON.parse(s) as Line) } });
  return { log, lines };
}

const WARN = 40;
const DEBUG = 20;

describe("formatNotification", () => {
  test("one KEY=VALUE line per field; a newline in a value cannot start another assignment", () => {
    assert.equal(formatNotification({ READY: "1", STATUS: "idle" }), "READY=1\nSTATUS=idle");
    assert.equal(formatNotification({ STATUS: "line one\nWATCHDOG=trigger\r\n" }), "STATUS=line one WATCHDOG=trigger ");
  });
});

describe("openNotifier", () => {
  test("without NOTIFY_SOCKET: disabled, every call a no-op", () => {
    const { log, lines } = captureLogger();
    const n = openNotifier(undefined, log);
    assert.equal(n.enabled, false);
    n.notify({ READY: "1" });
    n.close();
    assert.deepEqual(lines, []);
  });

  test("sends one datagram per notification to the socket", async () => {
    const listener = await NotifyListener.open(freshDir());
    const { log, lines } = captureLogger();
    const n = openNotifier(listener.path, log);
    try {
      assert.equal(n.enabled, true);
      n.notify({ READY: "1", STATUS: "idle" });
      n.notify({ WATCHDOG: "1" });
      await listener.next("WATCHDOG=1");
      assert.deepEqual(listener.lines(), [["READY=1", "STATUS=idle"], ["WATCHDOG=1"]]);
      assert.deepEqual(lines, []);
    } finally {
      n.close();
      listener.close();
    }
  });

  test("a socket nobody listens on: warned about once, later failures at debug, nothing thrown", () => {
    const { log, lines } = captureLogger();
    const n = openNotifier(path.join(freshDir(), "no-such.sock"), log);
    for (let i = 0; i < 5; i++) n.notify({ WATCHDOG: "1" });
    n.close();
    n.notify({ WATCHDOG: "1" });
    assert.deepEqual(
      lines.map((l) => l.level),
      [WARN, DEBUG, DEBUG, DEBUG, DEBUG],
    );
    assert.match(lines[0]!.msg, /cannot notify systemd through .*no-such\.sock \(ENOENT\)/);
  });

  test("an abstract socket (@name): disabled with a warning that says so", () => {
    const { log, lines } = captureLogger();
    const n = openNotifier("@talkbox-test", log);
    assert.equal(n.enabled, false);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /abstract socket \(@talkbox-test\).*notifications are off/);
  });
});

describe("watchdogSetting", () => {
  const cases: Array<[string, NodeJS.ProcessEnv, number | null, RegExp | null]> = [
    ["unset", {}, null, null],
    ["half of WATCHDOG_USEC", { WATCHDOG_USEC: "20000000" }, 10_000, null],
    ["for this pid", { WATCHDOG_USEC: "400000", WATCHDOG_PID: "4242" }, 200, null],
    ["for another pid", { WATCHDOG_USEC: "400000", WATCHDOG_PID: "1" }, null, null],
    ["garbage", { WATCHDOG_USEC: "soon" }, null, /not a positive whole number/],
    ["zero", { WATCHDOG_USEC: "0" }, null, /not a positive whole number/],
    ["below 2 ms", { WATCHDOG_USEC: "1" }, 1, null],
  ];
  for (const [name, env, interval, problem] of cases) {
    test(name, () => {
      const s = watchdogSetting(env, 4242);
      assert.equal(s.intervalMs, interval);
      const p = "problem" in s ? s.problem : undefined;
      if (problem) assert.match(p ?? "", problem);
      else assert.equal(p, undefined);
    });
  }
});

describe("Watchdog", () => {
  test("pets at start and then only when its timer fires, once per interval", () => {
    const clock = new FakeClock();
    let pets = 0;
    const w = new Watchdog(200, () => pets++, clock);
    w.start();
    assert.equal(pets, 1);
    clock.advance(199);
    assert.equal(pets, 1, "nothing between timer firings");
    clock.advance(1);
    assert.equal(pets, 2);
    clock.advance(600);
    assert.equal(pets, 5);
    w.start();
    assert.equal(pets, 5, "a second start() changes nothing");
    w.stop();
    clock.advance(1000);
    assert.equal(pets, 5);
    assert.equal(clock.pending, 0, "no timer left behind");
  });

  test("on the real event loop: a blocked loop sends no pets; they resume when it turns again", async () => {
    const times: number[] = [];
    let resumed: () => void = () => {};
    const w = new Watchdog(20, () => {
      times.push(performance.now());
      if (times.length === 6) resumed();
    }, realClock);
    w.start();
    const blockedFrom = performance.now();
    // The hang a watchdog exists for: synchronous code that never yields.
    while (performance.now() - blockedFrom < 300) {
      /* spin */
    }
    const blockedUntil = performance.now();
    // The guard timer also keeps the loop alive: realClock's timers are unref'd.
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`only ${times.length} pets after the block`)), 5000);
      resumed = () => {
        clearTimeout(guard);
        resolve();
      };
      if (times.length >= 6) resumed();
    });
    w.stop();
    assert.equal(times.filter((t) => t > blockedFrom && t < blockedUntil).length, 0, "no pet while the loop was blocked");
    assert.ok(times.slice(1).every((t) => t >= blockedUntil), "every later pet came after the block");
  });
});

describe("SystemdService", () => {
  test("READY with the state, STATUS, STOPPING; watchdog pets from the clock; systemd's variables removed from the environment", async () => {
    const listener = await NotifyListener.open(freshDir());
    const clock = new FakeClock();
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: "1000000", WATCHDOG_PID: "77", PATH: "/bin" };
    const { log } = captureLogger();
    const sd = SystemdService.start({ env, log, clock, pid: 77 });
    try {
      assert.deepEqual(env, { PATH: "/bin" }, "children must not inherit NOTIFY_SOCKET / WATCHDOG_*");
      assert.equal(sd.enabled, true);
      sd.ready("idle");
      clock.advance(500);
      sd.status("listening");
      clock.advance(500);
      sd.stopping();
      sd.close();
      clock.advance(5000);
      await listener.next("STOPPING=1");
      assert.deepEqual(listener.lines(), [
        ["WATCHDOG=1"],
        ["READY=1", "STATUS=idle"],
        ["WATCHDOG=1"],
        ["STATUS=listening"],
        ["WATCHDOG=1"],
        ["STOPPING=1", "STATUS=stopping"],
      ]);
      assert.equal(clock.pending, 0, "close() stops the watchdog");
    } finally {
      listener.close();
    }
  });

  test("WATCHDOG_USEC meant for another process: notifications yes, pets no", async () => {
    const listener = await NotifyListener.open(freshDir());
    const clock = new FakeClock();
    const { log } = captureLogger();
    const sd = SystemdService.start({ env: { NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: "1000000", WATCHDOG_PID: "1" }, log, clock, pid: 77 });
    try {
      clock.advance(5000);
      sd.ready("idle");
      await listener.next("READY=1");
      assert.deepEqual(listener.lines(), [["READY=1", "STATUS=idle"]]);
      assert.equal(clock.pending, 0);
    } finally {
      sd.close();
      listener.close();
    }
  });

  test("outside systemd: disabled and silent", () => {
    const clock = new FakeClock();
    const { log, lines } = captureLogger();
    const sd = SystemdService.start({ env: {}, log, clock });
    sd.ready("idle");
    sd.stopping();
    sd.close();
    assert.equal(sd.enabled, false);
    assert.equal(clock.pending, 0);
    assert.deepEqual(lines, []);
  });
});
