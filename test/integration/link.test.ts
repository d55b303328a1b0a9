/**
 * The link to the agent on real parts: malformed server messages, drops, outages,
 * rejected credentials and a link that dies silently.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startDevice } from "../support/device";
import type { LogLine } from "../support/daemon-process";

const WARN = 40;

describe("the agent link", { timeout: 60_000 }, () => {
  test("survives every kind of malformed server message and still completes a turn", async () => {
    const dev = await startDevice();
    try {
      const bad: Array<string | Buffer> = [
        "this is not json",
        "",
        "[1,2,3]",
        "null",
        "42",
        '{"id":"x"}',
        '{"id":"x","event_type":""}',
        '{"id":"x","event_type":"totally.unknown.event","data":{}}',
        '{"id":"x","event_type":"conversation.audio.delta"}',
        '{"id":"x","event_type":"conversation.audio.delta","data":{"content":"!!not base64!!","chat_id":"c1"}}',
        '{"id":"x","event_type":"conversation.audio.delta","data":{"content":12}}',
        '{"id":"x","event_type":"conversation.audio.delta","data":"a string"}',
        '{"id":"x","event_type":"conversation.chat.created","data":{}}',
        '{"id":"x","event_type":"conversation.chat.completed","data":[1]}',
        '{"id":"x","event_type":"conversation.audio_transcript.completed","data":{"content":{"nested":true}}}',
        '{"id":"x","event_type":"conversation.message.delta","data":{"type":"answer","content_type":"text"}}',
        '{"id":"x","event_type":"error","data":{}}',
        '{"id":"x","event_type":"error","data":{"code":4000,"msg":"bad parameter"}}',
        `{"id":"x","event_type":"conversation.audio.delta","data":{"content":"${"A".repeat(200_000)}"}}`,
        Buffer.from([0xde, 0xad, 0xbe, 0xef]),
        Buffer.from('{"id":"x","event_type":"chat.updated","data":{}}'),
      ];
      const from = dev.daemon.logs.length;
      for (const m of bad) dev.emulator.inject(0, m, { binary: Buffer.isBuffer(m) });
      // Server messages are handled in order: once the marker is logged, all the above were.
      dev.emulator.inject(0, '{"id":"m","event_type":"error","data":{"code":4000,"msg":"end-marker"}}');
      await dev.daemon.waitForLog((l) => l.msg.includes("end-marker"), 10_000, from);
      assert.ok(dev.daemon.alive);
      assert.equal((await dev.status()).State, "idle");
      const warned = dev.daemon.logs.slice(from).filter((l: LogLine) => l.level >= WARN);
      // Every kind of broken message is warned about (repeats of one kind are summed up later by the
      // flood guard, not logged one by one); the unknown event type is at debug level, by design.
      const kinds = new Set(warned.map((l) => l.msg.replace(/:.*/, "")));
      for (const k of ["ignored a malformed message from the agent", "ignored an invalid event from the agent", "agent error"]) assert.ok(kinds.has(k), `no warning: ${k}`);
      assert.ok(warned.length < bad.length, warned.map((l) => l.msg).join("\n"));
      assert.ok(dev.daemon.logs.slice(from).some((l) => l.level < WARN && l.event_type === "totally.unknown.event"));

      await dev.press();
      await dev.appends(25);
      const turn = dev.nextTurn();
      await dev.release();
      assert.equal((await turn).canceled, false);
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.findIndex((l) => l.msg === "state speaking"));
      assert.equal(dev.emulator.sessions().length, 1, "malformed messages must not cost the connection");
    } finally {
      await dev.stop();
    }
  });

  test("a drop while the user talks loses nothing: the whole turn goes out again on the new link", async () => {
    const dev = await startDevice();
    try {
      await dev.press();
      await dev.appends(25);
      const firstSent = dev.emulator.sessions()[0]!.received.find((r) => r.event?.event_type === "input_audio_buffer.append")!;
      const reconnected = once(dev.emulator.events, "connection");
      dev.emulator.dropAll();
      await reconnected;
      assert.equal((await dev.status()).State, "listening", "the turn went on through the drop");
      // The held 500 ms arrive at once, then the turn goes on in real time.
      await dev.appends(50);
      const done = dev.nextTurn();
      await dev.release();
      const turn = await done;
      assert.equal(turn.canceled, false);
      // The new session got the turn from its first frame, not just what was said after the drop.
      const first = Buffer.from((firstSent.event!.data as { delta: string }).delta, "base64");
      assert.ok(turn.audio.subarray(0, first.length).equals(first), "the turn on the new link does not start where the user started");
      assert.ok(turn.audio.length >= 50 * 640, `the turn carried ${turn.audio.length / 32} ms`);
      assert.ok(turn.reply.equals(turn.audio));
    } finally {
      await dev.stop();
    }
  });

  test("a dropped connection comes back by itself and the next turn works", async () => {
    const dev = await startDevice();
    try {
      const reconnected = once(dev.emulator.events, "connection");
      dev.emulator.dropAll();
      await dev.daemon.waitForLog((l) => l.msg.startsWith("agent link down"));
      await reconnected;
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.findIndex((l) => l.msg === "state offline"));
      await dev.press();
      await dev.appends(10);
      const turn = dev.nextTurn();
      await dev.release();
      assert.equal((await turn).session, 1);
    } finally {
      await dev.stop();
    }
  });

  test("a press just after a drop wakes the link at once; if it cannot come back the turn is dropped with a notice", async () => {
    // A back-off far longer than the test: only the press can bring the link back in time.
    const dev = await startDevice({ config: { agent: { reconnect: { initial_ms: 600_000, max_ms: 600_000 } } } });
    try {
      dev.emulator.setAcceptConnections(false);
      dev.emulator.dropAll();
      const offline = await dev.daemon.waitForState("offline");
      // Moments after the drop the press is held while the link comes back (here it cannot).
      assert.equal((await dev.press()).State, "listening");
      const from = dev.daemon.logs.indexOf(offline);
      await dev.daemon.waitForLog((l) => l.msg === "button pressed while offline: reconnecting now", 5000, from);
      await dev.daemon.waitForLog((l) => l.level >= WARN && l.msg.startsWith("the link dropped while you were talking"), 5000, from);
      await dev.daemon.waitForState("offline", 5000, dev.daemon.logs.findIndex((l, i) => i > from && l.msg === "state listening"));
      const status = await dev.status();
      assert.equal((status.Link as Record<string, unknown>).state, "down");
      await dev.release();

      dev.emulator.setAcceptConnections(true);
      const reconnected = once(dev.emulator.events, "connection");
      await dev.press();
      await reconnected;
      await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 10_000, dev.daemon.logs.findIndex((l) => l.msg === "state offline"));
      await dev.release();
    } finally {
      await dev.stop();
    }
  });

  test("rejected credentials back off for minutes and say how to fix them", async () => {
    const dev = await startDevice({ emulator: { token: "the-right-token" }, ready: "offline" });
    try {
      const down = await dev.daemon.waitForLog((l) => l.msg.startsWith("agent link down"));
      assert.match(down.msg, /HTTP 401/);
      assert.match(down.msg, /agent\.token|TALKBOX_TOKEN/);
      assert.match(down.msg, /retrying in 300\.0 s/);
      const link = (await dev.status()).Link as Record<string, unknown>;
      assert.equal(link.problem, "auth");
      assert.equal(link.retryInMs, 300_000);
      // A press must not turn into a hammering of the server with a bad token.
      assert.equal((await dev.press()).State, "offline");
      await dev.daemon.waitForLog((l) => l.msg.startsWith("not reconnecting on button press"));
      assert.equal(dev.daemon.logs.filter((l) => l.msg === "connecting to agent").length, 1);
      assert.ok(!dev.daemon.rawOutput.some((line) => line.includes("test-token-1234")), "the token appeared in the log");
    } finally {
      await dev.stop();
    }
  });

  test("a link that dies silently is found by WebSocket pings and re-opened", async () => {
    const dev = await startDevice({ config: { agent: { ping_interval_ms: 200, ping_timeout_ms: 300 } } });
    try {
      const reconnected = once(dev.emulator.events, "connection");
      dev.emulator.freezeAll();
      const down = await dev.daemon.waitForLog((l) => l.msg.startsWith("agent link down"));
      assert.match(down.msg, /nothing from the agent within 300 ms of a WebSocket ping/);
      await reconnected;
      await dev.daemon.waitForLog((l) => l.msg === "agent link ready", 10_000, dev.daemon.logs.indexOf(down));
    } finally {
      await dev.stop();
    }
  });
});
