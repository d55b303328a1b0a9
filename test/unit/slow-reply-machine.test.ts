/**
 * The slow-reply phrase in the state machine (seed 004's "延迟安抚"), with a fake clock: said
 * once per turn after announce.slow_reply_ms of thinking, stopped when the wait ends, whichever
 * way it ends; never while the answer already plays.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DeviceStateMachine, type DeviceInput, type Effect } from "../../src/device/state-machine";
import { FakeClock } from "../support/fake-clock";

function machine(slowReplyMs = 2000) {
  const clock = new FakeClock();
  const effects: Effect[] = [];
  const m = new DeviceStateMachine({ clock, mode: "push-to-talk", replyTimeoutMs: 10_000, errorHoldMs: 3000, maxTurnMs: 60_000, slowReplyMs }, (e) => effects.push(e));
  const send = (...inputs: DeviceInput[]): void => inputs.forEach((i) => m.dispatch(i));
  const fillers = (): string[] => effects.splice(0).filter((e) => e.type.startsWith("filler.")).map((e) => e.type);
  return { m, clock, send, fillers };
}

const ready: DeviceInput = { type: "link.ready" };
const press: DeviceInput = { type: "button.down", userId: "u1" };
const release: DeviceInput = { type: "button.up" };

describe("the slow-reply phrase", () => {
  test("after slow_reply_ms of thinking it starts, once; the answer's first audio stops it", () => {
    const { m, clock, send, fillers } = machine();
    send(ready, press, release);
    clock.advance(1999);
    assert.deepEqual(fillers(), []);
    clock.advance(1);
    assert.deepEqual(fillers(), ["filler.start"]);
    assert.equal(m.state, "thinking", "the phrase is not the answer: the device still waits");
    send({ type: "reply.started" });
    clock.advance(5000);
    assert.deepEqual(fillers(), [], "said twice in one turn");
    send({ type: "reply.audio" });
    assert.equal(m.state, "speaking");
    assert.deepEqual(fillers(), ["filler.stop"]);
  });

  test("a fast answer: never said; the next turn waits afresh", () => {
    const { clock, send, fillers } = machine();
    send(ready, press, release);
    clock.advance(500);
    send({ type: "reply.started" }, { type: "reply.audio" }, { type: "reply.done", status: "completed" }, { type: "playback.drained" });
    clock.advance(10_000);
    assert.deepEqual(fillers(), []);
    send(press, release);
    clock.advance(2000);
    assert.deepEqual(fillers(), ["filler.start"]);
  });

  test("the wait ends otherwise (a press, the reply timeout, the link lost, an answer without audio): it stops", () => {
    const ends: [string, (s: (...i: DeviceInput[]) => void, c: FakeClock) => void][] = [
      ["a press (barge-in)", (s) => s(press)],
      ["the reply timeout", (_s, c) => c.advance(10_000)],
      // Once the agent has the turn (before, the turn is held for the link to come back, and the wait goes on).
      ["the link lost", (s) => s({ type: "turn.acknowledged" }, { type: "link.down", problem: "network", message: "gone" })],
      ["an answer without audio", (s) => s({ type: "reply.done", status: "completed" })],
    ];
    for (const [what, end] of ends) {
      const { m, clock, send, fillers } = machine();
      send(ready, press, release);
      clock.advance(2000);
      assert.deepEqual(fillers(), ["filler.start"], what);
      end(send, clock);
      assert.notEqual(m.state, "thinking", what);
      assert.deepEqual(fillers(), ["filler.stop"], what);
    }
  });

  test("off (0): never", () => {
    const { clock, send, fillers } = machine(0);
    send(ready, press, release);
    clock.advance(9000);
    assert.deepEqual(fillers(), []);
  });
});
