/**
 * The state stream (`Subscribe`) over a real control socket: a snapshot first, frames in
 * order to every subscriber, and a subscriber that stops reading dropped without holding
 * the others back.
 */
import { controlCommands } from "../../src/app/commands";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { once } from "node:events";
import os from "node:os";
import path from "node:path";
import { silentLogger } from "../../src/log/logger";
import { encodeFrame } from "../../src/control/framing";
import { startControlServer, type ControlServer } from "../../src/control/server";
import { openControlConnection, type ControlConnection, type ControlReply } from "../../src/control/client";
import { StateStream, toFrame, type StreamLimits } from "../../src/control/state-stream";
import { describeFrame, statusCommand } from "../../src/cli/status";
import type { DeviceActivity } from "../../src/core/activity";

let dir: string;
let n = 0;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-stream-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Served {
  server: ControlServer;
  stream: StateStream;
  socket: string;
}

async function serve(o: { limits?: StreamLimits; scrub?: (f: Record<string, unknown>) => Record<string, unknown>; idleMs?: number } = {}): Promise<Served> {
  const socket = path.join(dir, `s${++n}.sock`);
  const stream = new StateStream({ snapshot: () => ({ State: "idle", Mode: "push-to-talk", Volume: 70 }), log: silentLogger(), ...o });
  const deadlines = o.idleMs ? { normal: { requestMs: o.idleMs, idleMs: o.idleMs }, reserve: { requestMs: o.idleMs, idleMs: o.idleMs } } : undefined;
  const server = await startControlServer({ path: socket, commands: controlCommands, handler: () => ({}), log: silentLogger(), stream, ...(deadlines ? { deadlines } : {}) });
  return { server, stream, socket };
}

/** A subscriber: its Subscribe reply, and every frame after it. */
async function subscribe(socket: string): Promise<{ conn: ControlConnection; reply: ControlReply; frames: ControlReply[]; next: (k: number) => Promise<ControlReply[]> }> {
  const conn = await openControlConnection(socket);
  const frames: ControlReply[] = [];
  let waiter: { count: number; resolve: () => void } | null = null;
  conn.onEvent((f) => {
    frames.push(f);
    if (waiter && frames.length >= waiter.count) waiter.resolve();
  });
  const reply = await conn.request({ Command: "Subscribe" });
  const next = (k: number): Promise<ControlReply[]> =>
    frames.length >= k ? Promise.resolve(frames.slice(0, k)) : new Promise((resolve) => (waiter = { count: k, resolve: () => resolve(frames.slice(0, k)) }));
  return { conn, reply, frames, next };
}

const state = (to: "listening" | "thinking" | "idle", from: string): DeviceActivity => ({ kind: "state", state: to, from: from as "idle", cause: "button.down", mode: "push-to-talk" });

describe("state stream", { timeout: 20_000 }, () => {
  test("two subscribers: each gets the snapshot first, then every frame in order", async () => {
    const s = await serve();
    const a = await subscribe(s.socket);
    const b = await subscribe(s.socket);
    assert.deepEqual(a.reply, { Ok: true, Subscribed: true, Snapshot: { State: "idle", Mode: "push-to-talk", Volume: 70 } });
    assert.deepEqual(b.reply, a.reply);
    assert.equal(s.stream.count, 2);
    s.stream.publish(state("listening", "idle"));
    s.stream.publish({ kind: "transcript", text: "what time is it" });
    s.stream.publish(state("thinking", "listening"));
    s.stream.publish({ kind: "reply", text: "ten past nine" });
    s.stream.publish({ kind: "notice", level: "error", message: "no answer" });
    s.stream.publish({ kind: "volume", percent: 40 });
    for (const sub of [a, b]) {
      const got = await sub.next(6);
      assert.deepEqual(
        got.map((f) => [f.Event, f.State ?? f.Text ?? f.Message ?? f.Volume]),
        [["State", "listening"], ["Transcript", "what time is it"], ["State", "thinking"], ["Reply", "ten past nine"], ["Error", "no answer"], ["Volume", 40]],
      );
      assert.ok(got.every((f) => typeof f.At === "string" && !Number.isNaN(Date.parse(f.At as string))));
    }
    // Requests still work on a subscribed connection, and their replies are not taken for frames.
    assert.deepEqual(await a.conn.request({ Command: "Status" }), { Ok: true });
    await a.conn.close();
    await b.conn.close();
    await s.server.close();
  });

  test("a subscriber that stops reading is dropped; the other gets every frame and the publisher never waits", async () => {
    const s = await serve();
    const fast = await subscribe(s.socket);
    // The slow one subscribes, reads its snapshot, then stops reading: the kernel's buffer, then the daemon's, fill up.
    const slow = net.createConnection(s.socket);
    await once(slow, "connect");
    slow.write(encodeFrame({ Command: "Subscribe" }));
    await once(slow, "data");
    slow.pause();
    assert.equal(s.stream.count, 2);
    const N = 3000;
    for (let i = 0; i < N; i++) {
      s.stream.publish({ kind: "transcript", text: `frame ${i} ${"x".repeat(100)}` });
      // Frames come with the device's events, a few at a time: the loop turns between them.
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    assert.equal(s.stream.count, 1, "the slow subscriber is gone once its backlog passed the bound");
    const got = await fast.next(N);
    assert.equal(got.length, N);
    assert.equal(got[N - 1]!.Text, `frame ${N - 1} ${"x".repeat(100)}`);
    // What the slow one still gets when it reads again: what was buffered, then the end.
    let bytes = 0;
    slow.on("data", (c: Buffer) => (bytes += c.length));
    slow.resume();
    await once(slow, "close");
    const frameBytes = encodeFrame(toFrame({ kind: "transcript", text: `frame ${N - 1} ${"x".repeat(100)}` })).length;
    assert.ok(bytes < (N / 2) * frameBytes, `the dropped subscriber got ${bytes} bytes, not all ${N} frames`);
    await fast.conn.close();
    await s.server.close();
  });

  test("at the subscriber limit, Subscribe is refused with the reason; Status still answers", async () => {
    const s = await serve({ limits: { subscribers: 1, backlogBytes: 64 * 1024 } });
    const a = await subscribe(s.socket);
    const b = await subscribe(s.socket);
    assert.equal(b.reply.Ok, false);
    assert.match(String(b.reply.Error), /too many subscribers \(limit 1\)/);
    assert.deepEqual(await b.conn.request({ Command: "Status" }), { Ok: true });
    await a.conn.close();
    await b.conn.close();
    await s.server.close();
  });

  test("a subscriber keeps its connection past the idle deadline", async () => {
    const s = await serve({ idleMs: 100 });
    const a = await subscribe(s.socket);
    const idle = await openControlConnection(s.socket);
    const idleClosed = new Promise<void>((resolve) => idle.onClose(() => resolve()));
    // The idle client is closed by its deadline; the subscriber, idle as long, is not.
    await idleClosed;
    s.stream.publish({ kind: "volume", percent: 10 });
    assert.deepEqual((await a.next(1)).map((f) => f.Volume), [10]);
    await a.conn.close();
    await s.server.close();
  });

  test("frames are scrubbed like replies", async () => {
    const s = await serve({ scrub: (f) => JSON.parse(JSON.stringify(f).replaceAll("sk-secret", "[redacted]")) as Record<string, unknown> });
    const a = await subscribe(s.socket);
    s.stream.publish({ kind: "notice", level: "warn", message: "the server said: bad token sk-secret" });
    const [f] = await a.next(1);
    assert.equal(f!.Message, "the server said: bad token [redacted]");
    await a.conn.close();
    await s.server.close();
  });

  test("talkbox status --follow prints the snapshot, then a line per frame, until stopped", async () => {
    const s = await serve();
    const lines: string[] = [];
    const stop = new AbortController();
    let seen: () => void = () => {};
    const printed = new Promise<void>((resolve) => (seen = resolve));
    const run = statusCommand({
      socket: s.socket,
      follow: true,
      stop: stop.signal,
      out: (l) => {
        lines.push(l);
        if (l.includes("agent: hello")) seen();
        if (l.startsWith("---")) {
          s.stream.publish(state("listening", "idle"));
          s.stream.publish({ kind: "reply", text: "hello" });
        }
      },
    });
    await printed;
    stop.abort();
    assert.equal(await run, 0);
    assert.deepEqual(lines.slice(0, 3), ["State:  idle", "Mode:   push-to-talk", "Volume: 70"]);
    assert.match(lines[4]!, /^\d\d:\d\d:\d\d state listening \(idle → listening: button\.down; push-to-talk\)$/);
    assert.match(lines[5]!, /^\d\d:\d\d:\d\d agent: hello$/);
    await s.server.close();
  });

  test("talkbox status --follow says so and exits 1 when the daemon goes away", async () => {
    const s = await serve();
    const errors: string[] = [];
    let subscribed: () => void = () => {};
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    const run = statusCommand({ socket: s.socket, follow: true, stop: new AbortController().signal, out: (l) => l.startsWith("---") && subscribed(), err: (l) => errors.push(l) });
    await ready;
    await s.server.close();
    assert.equal(await run, 1);
    assert.match(errors.join("\n"), /the daemon ended the stream/);
  });

  test("every activity has a frame and a line", () => {
    const at = new Date("2026-12-05T10:11:12Z");
    const all: DeviceActivity[] = [
      state("listening", "idle"),
      { kind: "link", state: "down", problem: "network", message: "connection refused", retryInMs: 1500 },
      { kind: "transcript", text: "hi" },
      { kind: "reply", text: "hello" },
      { kind: "notice", level: "error", message: "boom" },
      { kind: "notice", level: "info", message: "hold the button" },
      { kind: "volume", percent: 55 },
    ];
    const frames = all.map((a) => toFrame(a, at));
    assert.deepEqual(frames.map((f) => f.Event), ["State", "Link", "Transcript", "Reply", "Error", "Notice", "Volume"]);
    assert.deepEqual(frames[1], { Event: "Link", State: "down", Problem: "network", Message: "connection refused", RetryInMs: 1500, At: "2026-12-05T10:11:12.000Z" });
    const lines = frames.map((f) => describeFrame(f).slice(9));
    assert.deepEqual(lines, [
      "state listening (idle → listening: button.down; push-to-talk)",
      "link down: connection refused; retrying in 1.5 s",
      "user: hi",
      "agent: hello",
      "error: boom",
      "info: hold the button",
      "volume 55 %",
    ]);
    assert.match(describeFrame({ Event: "Future", X: 1, At: at.toISOString() }), /\{"Event":"Future","X":1\}$/);
  });
});
