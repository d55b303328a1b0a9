/** A typed question in the state machine, with a fake clock: sent like a press and a release at once, or refused with the reason. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DeviceStateMachine, type DeviceInput } from "../../src/device/state-machine";
import { FakeClock } from "../support/fake-clock";

function machine() {
  const effects: string[] = [];
  const m = new DeviceStateMachine({ clock: new FakeClock(), mode: "push-to-talk", replyTimeoutMs: 10_000, errorHoldMs: 3000, maxTurnMs: 60_000 }, (e) => effects.push(e.type));
  const send = (...inputs: DeviceInput[]): void => inputs.forEach((i) => m.dispatch(i));
  return { m, send, took: () => effects.splice(0) };
}

const ready: DeviceInput = { type: "link.ready" };
const press: DeviceInput = { type: "button.down", userId: "u1" };
const text = (id: string, userId = "u1"): DeviceInput => ({ type: "text.turn", id, userId });

describe("a typed question (text.turn)", () => {
  test("without a link: refused", () => {
    const { m, send, took } = machine();
    send(text("t0"));
    assert.deepEqual(took(), ["text.refuse"]);
    assert.equal(m.state, "connecting");
  });

  test("idle: sent, and the device waits for the answer as after a release", () => {
    const { m, send, took } = machine();
    send(ready, text("t1"));
    assert.deepEqual(took(), ["text.send"]);
    assert.equal(m.state, "thinking");
    send({ type: "reply.started" }, { type: "reply.audio" });
    assert.equal(m.state, "speaking");
  });

  test("while the agent speaks: its reply is interrupted first, as by a press", () => {
    const { m, send, took } = machine();
    send(ready, text("t1"), { type: "reply.started" }, { type: "reply.audio" });
    took();
    send(text("t2", "u2"));
    assert.deepEqual(took(), ["playback.flush", "reply.cancel", "text.send"]);
    assert.equal(m.state, "thinking");
  });

  test("while the talk button is held: refused, the spoken question goes first", () => {
    const { m, send, took } = machine();
    send(ready, press);
    took();
    send(text("t3"));
    assert.deepEqual(took(), ["text.refuse"]);
    assert.equal(m.state, "listening");
  });
});
