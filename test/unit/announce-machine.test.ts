/**
 * The state machine's announcement rules (seed 004), with a fake clock: mode 1 ends what
 * goes on and speaks now, mode 2 waits for the interaction to end (in order; dropped by a
 * voice interruption), mode 3 gives way; a press cuts an announcement like a reply.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ConversationMode } from "../../src/core/device-state";
import type { InterruptMode } from "../../src/core/announcement";
import { DeviceStateMachine, MAX_WAITING_ANNOUNCEMENTS, type DeviceInput, type Effect } from "../../src/device/state-machine";
import { FakeClock } from "../support/fake-clock";

function machine(mode: ConversationMode = "push-to-talk") {
  const clock = new FakeClock();
  const effects: Effect[] = [];
  const m = new DeviceStateMachine({ clock, mode, replyTimeoutMs: 10_000, errorHoldMs: 3000, maxTurnMs: 60_000, announceTimeoutMs: 30_000 }, (e) => effects.push(e));
  const send = (...inputs: DeviceInput[]): void => inputs.forEach((i) => m.dispatch(i));
  const took = (): string[] => effects.splice(0).map((e) => (e.type.startsWith("announce.") ? `${e.type}:${(e as { id: string }).id}` : e.type));
  const ask = (id: string, mode: InterruptMode): void => send({ type: "announce.request", id, mode });
  const done = (id: string): void => send({ type: "announce.done", id, ok: true });
  return { m, clock, send, took, ask, done, effects };
}

const ready: DeviceInput = { type: "link.ready" };
const press: DeviceInput = { type: "button.down", userId: "u1" };
const release: DeviceInput = { type: "button.up" };
const replying: DeviceInput[] = [press, release, { type: "reply.started" }, { type: "reply.audio" }];

describe("announcements: priorities (seed 004)", () => {
  test("idle: every mode speaks at once; the device is `announcing` until it is heard, then idle", () => {
    for (const mode of [1, 2, 3] as const) {
      const { m, send, took, ask, done } = machine();
      send(ready);
      ask("a", mode);
      assert.equal(m.state, "announcing", `mode ${mode}`);
      assert.deepEqual(took(), ["announce.speak:a"]);
      done("a");
      assert.equal(m.state, "idle");
    }
  });

  test("mode 1 during a reply: the reply is cancelled and flushed, then the announcement speaks", () => {
    const { m, send, took, ask } = machine();
    send(ready, ...replying);
    assert.equal(m.state, "speaking");
    took();
    ask("a", 1);
    assert.deepEqual(took(), ["playback.flush", "reply.cancel", "announce.speak:a"]);
    assert.equal(m.state, "announcing");
    // The cancelled reply's end and its drained playback change nothing.
    send({ type: "reply.done", status: "canceled" }, { type: "playback.drained" });
    assert.equal(m.state, "announcing");
  });

  test("mode 1 while the user holds the talk button: the held turn is dropped; the later release does nothing", () => {
    const { m, send, took, ask, done } = machine();
    send(ready, press);
    took();
    ask("a", 1);
    assert.deepEqual(took(), ["turn.abort", "announce.speak:a"]);
    send(release);
    assert.equal(m.state, "announcing");
    assert.deepEqual(took(), []);
    done("a");
    assert.equal(m.state, "idle");
  });

  test("mode 1 during an announcement cuts it (flushed) and speaks the new one", () => {
    const { m, send, took, ask } = machine();
    send(ready);
    ask("a", 2);
    took();
    ask("b", 1);
    assert.deepEqual(took(), ["announce.stop:a", "playback.flush", "announce.speak:b"]);
    assert.equal(m.state, "announcing");
    // The cut one's late end is not the new one's.
    send({ type: "announce.done", id: "a", ok: true });
    assert.equal(m.state, "announcing");
  });

  test("mode 2 during a reply waits, in order, and each is spoken after the one before", () => {
    const { m, send, took, ask, done } = machine();
    send(ready, ...replying);
    took();
    ask("a", 2);
    ask("b", 2);
    assert.deepEqual(took(), ["announce.queue:a", "announce.queue:b"]);
    assert.deepEqual(
      [...m["waiting"]],
      ["a", "b"],
    );
    send({ type: "reply.done", status: "completed" }, { type: "playback.drained" });
    assert.equal(m.state, "announcing");
    assert.deepEqual(took(), ["announce.speak:a"]);
    done("a");
    assert.equal(m.state, "announcing");
    assert.deepEqual(took(), ["announce.speak:b"]);
    done("b");
    assert.equal(m.state, "idle");
    assert.deepEqual(took(), []);
  });

  test("mode 2 queued while thinking is spoken after a reply that failed, once the error has been shown", () => {
    const { m, send, took, ask, clock } = machine();
    send(ready, press, release);
    ask("a", 2);
    took();
    send({ type: "reply.done", status: "failed", message: "boom" });
    assert.equal(m.state, "error");
    assert.ok(!took().includes("announce.speak:a"));
    clock.advance(3000);
    assert.equal(m.state, "announcing");
  });

  test("mode 3 is dropped while listening, thinking, speaking or announcing, and spoken when idle", () => {
    const { m, send, took, ask, done } = machine();
    send(ready, press);
    took();
    ask("l", 3);
    send(release);
    ask("t", 3);
    send({ type: "reply.started" }, { type: "reply.audio" });
    ask("s", 3);
    const drops = took().filter((t) => t.startsWith("announce."));
    assert.deepEqual(drops, ["announce.drop:l", "announce.drop:t", "announce.drop:s"]);
    send({ type: "reply.done", status: "completed" }, { type: "playback.drained" });
    assert.equal(m.state, "idle");
    ask("x", 2);
    ask("y", 3);
    assert.deepEqual(took(), ["announce.speak:x", "announce.drop:y"]);
    done("x");
    ask("z", 3);
    assert.deepEqual(took(), ["announce.speak:z"]);
    assert.equal(m.state, "announcing");
  });

  test("the talk button during an announcement cuts it and starts the turn", () => {
    const { m, send, took, ask } = machine();
    send(ready);
    ask("a", 3);
    took();
    send(press);
    assert.deepEqual(took(), ["announce.stop:a", "playback.flush", "turn.begin"]);
    assert.equal(m.state, "listening");
  });

  test("free conversation: a press during an announcement cuts it without muting the mic", () => {
    const { m, send, took, ask } = machine("free");
    send(ready);
    assert.equal(m.state, "listening");
    took();
    ask("a", 3);
    assert.equal(m.state, "announcing");
    took();
    send(press);
    assert.deepEqual(took(), ["announce.stop:a", "playback.flush"]);
    assert.equal(m.state, "listening");
  });

  test("free conversation: a voice interruption drops what waited (Q1) and cuts an announcement (Q3)", () => {
    const { m, send, took, ask } = machine("free");
    send(ready, { type: "speech.started" }, { type: "speech.stopped" }, { type: "reply.started" }, { type: "reply.audio" });
    assert.equal(m.state, "speaking");
    took();
    ask("a", 2);
    send({ type: "speech.started" });
    const t = took();
    assert.ok(t.includes("announce.drop:a"), t.join(","));
    assert.equal(m.state, "listening");
    // The user talking makes the device busy: mode 3 is dropped, mode 2 waits for the turn.
    ask("b", 3);
    ask("c", 2);
    assert.deepEqual(took(), ["announce.drop:b", "announce.queue:c"]);
    send({ type: "speech.stopped" });
    assert.equal(m.state, "thinking");
    send({ type: "reply.started" }, { type: "reply.audio" }, { type: "reply.done", status: "completed" }, { type: "playback.drained" });
    assert.equal(m.state, "announcing");
    took();
    send({ type: "speech.started" });
    assert.deepEqual(took(), ["announce.stop:c", "playback.flush"]);
    assert.equal(m.state, "listening");
  });

  test("the link dropping during an announcement leaves it speaking; the device shows offline when it ends", () => {
    const { m, send, took, ask, done } = machine();
    send(ready);
    ask("a", 2);
    took();
    send({ type: "link.down", problem: "network", message: "gone" });
    assert.equal(m.state, "announcing");
    done("a");
    assert.equal(m.state, "offline");
  });

  test("offline or still connecting, an announcement is spoken (by the device's own voice)", () => {
    const { m, send, took, ask, done } = machine();
    ask("a", 3);
    assert.equal(m.state, "announcing");
    done("a");
    assert.equal(m.state, "connecting");
    send(ready, { type: "link.down", problem: "network", message: "gone" });
    took();
    ask("b", 2);
    assert.deepEqual(took(), ["announce.speak:b"]);
    done("b");
    assert.equal(m.state, "offline");
  });

  test("an announcement that never ends is cut after announceTimeoutMs; one that failed says so", () => {
    const { m, send, took, ask, clock, effects } = machine();
    send(ready);
    ask("a", 1);
    took();
    clock.advance(30_000);
    assert.deepEqual(took(), ["notice", "announce.stop:a", "playback.flush"]);
    assert.equal(m.state, "idle");
    ask("b", 1);
    effects.length = 0;
    send({ type: "announce.done", id: "b", ok: false, message: "espeak-ng is not installed" });
    assert.equal(m.state, "idle");
    assert.match((effects[0] as { message: string }).message, /could not be spoken: espeak-ng is not installed/);
  });

  test(`no more than ${MAX_WAITING_ANNOUNCEMENTS} wait; the rest are dropped with the reason`, () => {
    const { send, took, ask, effects } = machine();
    send(ready, ...replying);
    took();
    for (let i = 0; i <= MAX_WAITING_ANNOUNCEMENTS; i++) ask(`a${i}`, 2);
    const last = effects.at(-1) as Effect & { reason?: string };
    assert.equal(last.type, "announce.drop");
    assert.match(last.reason!, /already waiting/);
    assert.equal(effects.filter((e) => e.type === "announce.queue").length, MAX_WAITING_ANNOUNCEMENTS);
  });

  test("no mode switch while announcing", () => {
    const { m, send, ask } = machine();
    send(ready);
    ask("a", 2);
    assert.equal(m.setMode("free"), false);
  });
});
