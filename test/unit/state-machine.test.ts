import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ConversationMode } from "../../src/core/device-state";
import { DeviceStateMachine, type DeviceInput, type Effect } from "../../src/device/state-machine";
import { FakeClock } from "../support/fake-clock";

function machine(opts: { replyTimeoutMs?: number; errorHoldMs?: number; maxTurnMs?: number; mode?: ConversationMode } = {}) {
  const clock = new FakeClock();
  const effects: Effect[] = [];
  const m = new DeviceStateMachine(
    { clock, mode: opts.mode ?? "push-to-talk", replyTimeoutMs: opts.replyTimeoutMs ?? 10_000, errorHoldMs: opts.errorHoldMs ?? 3000, maxTurnMs: opts.maxTurnMs ?? 60_000 },
    (e) => effects.push(e),
  );
  const send = (...inputs: DeviceInput[]): void => inputs.forEach((i) => m.dispatch(i));
  const took = (): string[] => effects.splice(0).map((e) => e.type);
  return { m, clock, send, took, effects };
}

const ready: DeviceInput = { type: "link.ready" };
const down: DeviceInput = { type: "button.down", userId: "u1" };
const up: DeviceInput = { type: "button.up" };

describe("device state machine: push-to-talk", () => {
  test("starts connecting, becomes idle when the link is ready", () => {
    const { m, send } = machine();
    assert.equal(m.state, "connecting");
    send(ready);
    assert.equal(m.state, "idle");
  });

  test("a push-to-talk turn: listening → thinking → speaking → idle after reply and drain", () => {
    const { m, send, took, effects } = machine();
    send(ready, down);
    assert.equal(m.state, "listening");
    assert.deepEqual(effects[0], { type: "turn.begin", userId: "u1" });
    took();
    send(up);
    assert.equal(m.state, "thinking");
    assert.deepEqual(took(), ["turn.commit"]);
    send({ type: "reply.started" }, { type: "reply.audio" });
    assert.equal(m.state, "speaking");
    // The playback queue may run dry between deltas: not the end while the reply goes on.
    send({ type: "playback.drained" });
    assert.equal(m.state, "speaking");
    send({ type: "reply.audio" }, { type: "reply.done", status: "completed" });
    assert.equal(m.state, "speaking", "audio still playing");
    send({ type: "playback.drained" });
    assert.equal(m.state, "idle");
    assert.deepEqual(took(), []);
  });

  test("an agent error in place of the reply ends thinking at once: cancel, error, then idle", () => {
    const { m, send, took, clock, effects } = machine({ replyTimeoutMs: 20_000, errorHoldMs: 3000 });
    send(ready, down, up);
    took();
    send({ type: "agent.error", message: "a chat is already running (4016)" });
    assert.equal(m.state, "error");
    assert.deepEqual(effects.map((e) => e.type), ["reply.cancel", "notice"]);
    assert.match((effects[1] as { message: string }).message, /answered with an error: a chat is already running/);
    clock.advance(3000);
    assert.equal(m.state, "idle");
  });

  test("an agent error while listening or speaking does not end the turn", () => {
    const { m, send } = machine();
    send(ready, down, { type: "agent.error", message: "x" });
    assert.equal(m.state, "listening");
    send(up, { type: "reply.audio" }, { type: "agent.error", message: "x" });
    assert.equal(m.state, "speaking");
  });

  test("a speaker that fails during a reply: the reply is stopped and flushed, error shown once, then idle", () => {
    const { m, send, took, clock } = machine({ errorHoldMs: 3000 });
    send(ready, down, up, { type: "reply.audio" });
    took();
    send({ type: "playback.failed", message: "speaker 'x' failed (EIO)" });
    assert.equal(m.state, "error");
    assert.deepEqual(took(), ["reply.cancel", "playback.flush", "notice"]);
    send({ type: "playback.failed", message: "speaker 'x' failed (EIO)" });
    assert.deepEqual(took(), [], "every later failed write changes nothing");
    clock.advance(3000);
    assert.equal(m.state, "idle");
    send({ type: "playback.failed", message: "x" });
    assert.equal(m.state, "idle", "outside a reply there is nothing to stop");
  });

  test("the link dies as the turn ends, before the agent has it: the turn goes again on the new link, still thinking; given up if the link fails again", () => {
    const { m, send, took } = machine();
    const linkDown: DeviceInput = { type: "link.down", problem: "network", message: "gone" };
    send(ready, down, up);
    took();
    send(linkDown);
    assert.equal(m.state, "thinking");
    assert.deepEqual(took(), ["turn.resend", "link.wake"]);
    send(ready, { type: "turn.acknowledged" }, { type: "reply.audio" });
    assert.equal(m.state, "speaking");

    // Acknowledged: nothing to send again, the answer is lost with the link.
    const b = machine();
    b.send(ready, down, up, { type: "turn.acknowledged" }, linkDown);
    assert.equal(b.m.state, "offline");
    assert.ok(!b.took().includes("turn.resend"));

    // The new link fails too: the held turn is dropped, and the user told.
    const c = machine();
    c.send(ready, down, up, linkDown);
    c.took();
    c.send(linkDown);
    assert.equal(c.m.state, "offline");
    assert.deepEqual(c.took(), ["turn.abort", "notice"]);
  });

  test("a new conversation confirmed or not is said (info / warn) in any state and changes no state", () => {
    const { m, send, effects } = machine();
    send(ready, down);
    effects.splice(0);
    send({ type: "conversation.reset", ok: true, message: "started a new conversation" });
    send({ type: "conversation.reset", ok: false, message: "not confirmed" });
    assert.equal(m.state, "listening");
    assert.deepEqual(effects, [
      { type: "notice", level: "info", message: "started a new conversation" },
      { type: "notice", level: "warn", message: "not confirmed" },
    ]);
  });

  for (const end of ["playback.drained", "playback.starved"] as const) {
    test(`audio that stops without reply.done (${end}): speaking ends after reply_timeout_ms; more audio restarts the wait`, () => {
      const { m, send, took, clock } = machine({ replyTimeoutMs: 5000 });
      send(ready, down, up, { type: "reply.audio" }, { type: end });
      took();
      clock.advance(4000);
      send({ type: "reply.audio" }, { type: end });
      clock.advance(4000);
      assert.equal(m.state, "speaking", "the wait starts over with new audio");
      clock.advance(1000);
      assert.equal(m.state, "idle");
      assert.deepEqual(took(), ["reply.cancel", "notice"]);
    });
  }

  test("a reply that is done before the queue drains ends at the drain", () => {
    const { m, send } = machine();
    send(ready, down, up, { type: "reply.audio" }, { type: "playback.drained" }, { type: "reply.done", status: "completed" });
    assert.equal(m.state, "idle");
  });

  test("barge-in while speaking cancels, flushes and starts the new turn in one dispatch", () => {
    const { m, send, took } = machine();
    send(ready, down, up, { type: "reply.started" }, { type: "reply.audio" });
    took();
    send(down);
    assert.deepEqual(took(), ["playback.flush", "reply.cancel", "turn.begin"]);
    assert.equal(m.state, "listening");
  });

  test("each input runs to completion: a backend that ends the reply inside cancelReply is handled after the barge-in", () => {
    const clock = new FakeClock();
    const effects: string[] = [];
    const changes: string[] = [];
    let m: DeviceStateMachine;
    m = new DeviceStateMachine(
      { clock, mode: "push-to-talk", replyTimeoutMs: 10_000, errorHoldMs: 3000, maxTurnMs: 60_000 },
      (e) => {
        effects.push(e.type);
        // As a backend that has no reply running answers a cancel at once.
        if (e.type === "reply.cancel") m.dispatch({ type: "reply.done", status: "canceled" });
      },
      (c) => changes.push(`${c.from}→${c.to} (${c.cause})`),
    );
    for (const i of [ready, down, up, { type: "reply.started" }, { type: "reply.audio" }] as DeviceInput[]) m.dispatch(i);
    effects.length = 0;
    changes.length = 0;
    m.dispatch(down);
    assert.deepEqual(effects, ["playback.flush", "reply.cancel", "turn.begin"], "the barge-in's effects, whole and in order");
    assert.deepEqual(changes, ["speaking→listening (button.down)"], "the reply's end did not cut into the barge-in");
    assert.equal(m.state, "listening");
  });

  test("barge-in after the server finished sending only flushes", () => {
    const { m, send, took } = machine();
    send(ready, down, up, { type: "reply.audio" }, { type: "reply.done", status: "completed" });
    took();
    send(down);
    assert.deepEqual(took(), ["playback.flush", "turn.begin"]);
    assert.equal(m.state, "listening");
  });

  test("barge-in while thinking cancels the pending reply", () => {
    const { send, took } = machine();
    send(ready, down, up);
    took();
    send(down);
    assert.deepEqual(took(), ["playback.flush", "reply.cancel", "turn.begin"]);
  });

  test("a too-short press aborts without committing", () => {
    const { m, send, took } = machine();
    send(ready, down);
    took();
    send({ type: "button.up", empty: true });
    assert.deepEqual(took(), ["turn.abort", "notice"]);
    assert.equal(m.state, "idle");
  });

  test("a turn the backend declined to commit (too short) returns to idle at once, with the reason", () => {
    const { m, send, took, clock, effects } = machine();
    send(ready, down, up);
    took();
    send({ type: "turn.empty", message: "too short" });
    assert.equal(m.state, "idle");
    assert.deepEqual(effects.splice(0), [{ type: "notice", level: "info", message: "too short" }]);
    clock.advance(60_000);
    assert.equal(m.state, "idle", "no reply timeout fires later");
    assert.deepEqual(took(), []);
  });

  test("no answer within the reply timeout: cancel, error, then idle after the hold", () => {
    const { m, clock, send, took } = machine({ replyTimeoutMs: 5000, errorHoldMs: 2000 });
    send(ready, down, up);
    took();
    clock.advance(4999);
    assert.equal(m.state, "thinking");
    clock.advance(1);
    assert.equal(m.state, "error");
    assert.deepEqual(took(), ["reply.cancel", "notice"]);
    clock.advance(1999);
    assert.equal(m.state, "error");
    clock.advance(1);
    assert.equal(m.state, "idle");
  });

  test("reply.started re-arms the timeout; audio disarms it", () => {
    const { m, clock, send } = machine({ replyTimeoutMs: 5000 });
    send(ready, down, up);
    clock.advance(4000);
    send({ type: "reply.started" });
    clock.advance(4000);
    assert.equal(m.state, "thinking");
    send({ type: "reply.audio" });
    clock.advance(60_000);
    assert.equal(m.state, "speaking");
  });

  test("a failed reply shows error, then returns to idle after the hold", () => {
    const { m, clock, send, took } = machine({ errorHoldMs: 3000 });
    send(ready, down, up);
    took();
    send({ type: "reply.done", status: "failed", message: "quota" });
    assert.equal(m.state, "error");
    assert.deepEqual(took(), ["notice"]);
    clock.advance(3000);
    assert.equal(m.state, "idle");
  });

  test("the user may try again at once from error", () => {
    const { m, send } = machine();
    send(ready, down, up, { type: "reply.done", status: "failed" }, down);
    assert.equal(m.state, "listening");
  });

  test("a server-side cancel flushes what is queued", () => {
    const { m, send, took } = machine();
    send(ready, down, up, { type: "reply.audio" });
    took();
    send({ type: "reply.done", status: "canceled" });
    assert.deepEqual(took(), ["playback.flush"]);
    assert.equal(m.state, "idle");
  });

  test("the link dropping mid-turn holds the turn and wakes the link; ready carries it on", () => {
    const { m, send, took } = machine();
    send(ready, down);
    took();
    send({ type: "link.down", problem: "network", message: "gone" });
    assert.equal(m.state, "listening", "the user goes on talking");
    assert.deepEqual(took(), ["turn.hold", "link.wake"]);
    send({ type: "link.connecting" }, ready);
    assert.equal(m.state, "listening");
    send(up);
    assert.deepEqual(took(), ["turn.commit"]);
    assert.equal(m.state, "thinking");
  });

  test("a drop mid-turn with rejected credentials, or whose first reconnect fails, aborts it with a notice", () => {
    const { m, send, took } = machine();
    send(ready, down);
    took();
    send({ type: "link.down", problem: "auth", message: "401" });
    assert.equal(m.state, "offline");
    assert.deepEqual(took(), ["turn.abort", "notice"]);
    const late = machine();
    late.send(ready, down, { type: "link.down", problem: "network", message: "gone" });
    late.took();
    late.send({ type: "link.connecting" }, { type: "link.down", problem: "network", message: "still gone" });
    assert.equal(late.m.state, "offline");
    assert.deepEqual(late.took(), ["turn.abort", "notice"]);
    late.send(ready);
    assert.equal(late.m.state, "idle");
  });

  test("a press while the link is coming back from a blip is held: the turn runs and is committed", () => {
    const { m, send, took, clock } = machine();
    send(ready, { type: "link.down", problem: "server", message: "idle close" });
    clock.advance(200);
    send({ type: "link.connecting" });
    took();
    send(down);
    assert.equal(m.state, "listening");
    assert.deepEqual(took(), ["turn.begin"]);
    send(up);
    assert.equal(m.state, "thinking");
    assert.deepEqual(took(), ["turn.commit"]);
    send(ready);
    assert.equal(m.state, "thinking", "the held turn goes on when the link is back");
    send({ type: "reply.started" }, { type: "reply.audio" }, { type: "reply.done", status: "completed" }, { type: "playback.drained" });
    assert.equal(m.state, "idle");
  });

  test("a held turn whose reconnect fails is aborted with a notice", () => {
    const { m, send, took } = machine();
    send(ready, { type: "link.down", problem: "network", message: "gone" }, { type: "link.connecting" });
    took();
    send(down);
    took();
    send({ type: "link.down", problem: "network", message: "still gone" });
    assert.equal(m.state, "offline");
    assert.deepEqual(took(), ["turn.abort", "notice"]);
  });

  test("a press just after a drop, before the retry, wakes the link and is held", () => {
    const { m, send, took } = machine();
    send(ready, { type: "link.down", problem: "server", message: "closed" });
    took();
    send(down);
    assert.equal(m.state, "listening");
    assert.deepEqual(took(), ["link.wake", "turn.begin"]);
  });

  test("long after the drop, or when the credentials were rejected, a press is refused as offline", () => {
    const { m, send, took, clock } = machine();
    send(ready, { type: "link.down", problem: "network", message: "gone" });
    took();
    clock.advance(DeviceStateMachine.HOLD_WINDOW_MS + 1);
    send({ type: "link.connecting" }, down);
    assert.deepEqual(took(), ["link.wake", "notice"], "the drop was too long ago");
    assert.equal(m.state, "offline");
    const auth = machine();
    auth.send(ready, { type: "link.down", problem: "auth", message: "401" });
    auth.took();
    auth.send(down);
    assert.deepEqual(auth.took(), ["link.wake", "notice"]);
    assert.equal(auth.m.state, "offline");
  });

  test("a press while offline is reported and wakes the link, never silently dropped", () => {
    const { m, send, effects, clock } = machine();
    send(ready, { type: "link.down", problem: "network", message: "gone" });
    clock.advance(DeviceStateMachine.HOLD_WINDOW_MS + 1);
    effects.length = 0;
    send(down);
    assert.equal(m.state, "offline");
    assert.deepEqual(effects.map((e) => e.type), ["link.wake", "notice"]);
    assert.match((effects[1] as { message: string }).message, /offline/);
  });

  test("a press while first connecting says so and stays connecting", () => {
    const { m, send, effects } = machine();
    send(down);
    assert.equal(m.state, "connecting");
    assert.match((effects.find((e) => e.type === "notice") as { message: string }).message, /still connecting/);
  });

  test("a release without a press, or a second press while listening, changes nothing", () => {
    const { m, send, took } = machine();
    send(ready, up);
    assert.equal(m.state, "idle");
    send(down);
    took();
    send(down);
    assert.deepEqual(took(), []);
    assert.equal(m.state, "listening");
  });

  test("a press held past the maximum is taken as released and committed", () => {
    const { m, clock, send, took } = machine({ maxTurnMs: 60_000 });
    send(ready, down);
    took();
    clock.advance(59_999);
    assert.equal(m.state, "listening");
    clock.advance(1);
    assert.deepEqual(took(), ["notice", "turn.commit"]);
    assert.equal(m.state, "thinking");
    send(up);
    assert.equal(m.state, "thinking", "the late release changes nothing");
  });

  test("a normal release clears the stuck-button timer", () => {
    const { m, clock, send, took } = machine({ maxTurnMs: 1000, replyTimeoutMs: 100_000 });
    send(ready, down, up, { type: "reply.audio" });
    took();
    clock.advance(5000);
    assert.deepEqual(took(), []);
    assert.equal(m.state, "speaking");
  });
});

describe("device state machine: free conversation", () => {
  const free = (o: { replyTimeoutMs?: number } = {}) => machine({ mode: "free", ...o });
  const started: DeviceInput = { type: "speech.started" };
  const stopped: DeviceInput = { type: "speech.stopped" };

  test("ready → listening with the mic streaming; VAD turns drive thinking and speaking; back to listening", () => {
    const { m, send, took } = free();
    send(ready);
    assert.equal(m.state, "listening");
    assert.deepEqual(took(), ["stream.start"]);
    send(started);
    assert.equal(m.state, "listening");
    send(stopped);
    assert.equal(m.state, "thinking");
    send({ type: "reply.started" }, { type: "reply.audio" });
    assert.equal(m.state, "speaking");
    send({ type: "reply.done", status: "completed" }, { type: "playback.drained" });
    assert.equal(m.state, "listening");
    assert.deepEqual(took(), [], "no commit and no stream changes in free conversation");
  });

  test("the user speaking over the reply (server VAD) drops the queued audio without a cancel", () => {
    const { m, send, took } = free();
    send(ready, started, stopped, { type: "reply.audio" });
    took();
    send(started);
    assert.deepEqual(took(), ["reply.discard", "playback.flush"]);
    assert.equal(m.state, "listening");
  });

  test("the button interrupts a reply, and otherwise mutes and unmutes", () => {
    const { m, send, took } = free();
    send(ready, started, stopped, { type: "reply.audio" });
    took();
    send(down);
    assert.deepEqual(took(), ["playback.flush", "reply.cancel"]);
    assert.equal(m.state, "listening");
    send(up);
    assert.deepEqual(took(), [], "release means nothing in free conversation");
    send(down);
    assert.deepEqual(took(), ["stream.stop"]);
    assert.equal(m.state, "muted");
    send(started);
    assert.equal(m.state, "muted");
    send(down);
    assert.deepEqual(took(), ["stream.start"]);
    assert.equal(m.state, "listening");
  });

  test("offline stops the stream; back online restarts it, unless muted", () => {
    const { m, send, took } = free();
    send(ready);
    took();
    send({ type: "link.down", problem: "network", message: "x" });
    assert.deepEqual(took(), ["stream.stop"]);
    assert.equal(m.state, "offline");
    send(ready);
    assert.deepEqual(took(), ["stream.start"]);
    send(down);
    took();
    send({ type: "link.down", problem: "network", message: "x" }, ready);
    assert.deepEqual(took(), [], "a muted mic stays off across a reconnect");
    assert.equal(m.state, "muted");
  });

  test("no reply after the user stopped speaking: error, then listening again", () => {
    const { m, clock, send } = free({ replyTimeoutMs: 2000 });
    send(ready, started, stopped);
    clock.advance(2000);
    assert.equal(m.state, "error");
    clock.advance(3000);
    assert.equal(m.state, "listening");
  });
});

describe("device state machine: switching modes (double press)", () => {
  test("push-to-talk → free at rest: the mic starts streaming and the device listens", () => {
    const { m, send, took } = machine();
    send(ready);
    took();
    assert.equal(m.setMode("free"), true);
    assert.deepEqual(took(), ["stream.start"]);
    assert.equal(m.state, "listening");
    assert.equal(m.mode, "free");
  });

  test("the double press's second press had begun a turn: it is dropped, not sent", () => {
    const { m, send, took } = machine();
    send(ready, down);
    took();
    assert.equal(m.setMode("free"), true);
    assert.deepEqual(took(), ["turn.abort", "stream.start"]);
    assert.equal(m.state, "listening");
  });

  test("free → push-to-talk stops the stream; muted is forgotten", () => {
    const { m, send, took } = machine({ mode: "free" });
    send(ready, down);
    assert.equal(m.state, "muted");
    took();
    assert.equal(m.setMode("push-to-talk"), true);
    assert.deepEqual(took(), []);
    assert.equal(m.state, "idle");
  });

  test("not while the agent thinks or speaks", () => {
    const { m, send } = machine();
    send(ready, down, up);
    assert.equal(m.setMode("free"), false);
    assert.equal(m.mode, "push-to-talk");
  });
});


describe("device state machine: another agent takes over (agent.switch)", () => {
  const sw: DeviceInput = { type: "agent.switch" };

  test("while the agent speaks: the reply is cut, the device connects, then rests on the new link", () => {
    const { m, send, took, clock } = machine({ replyTimeoutMs: 5000 });
    send(ready, down, up, { type: "reply.started" }, { type: "reply.audio" });
    took();
    send(sw);
    assert.equal(m.state, "connecting");
    assert.deepEqual(took(), ["playback.flush", "reply.cancel"]);
    // The old reply's timers are gone: no timeout, no error while the new link opens.
    clock.advance(60_000);
    assert.equal(m.state, "connecting");
    assert.deepEqual(took(), []);
    // The old link's end is not news (the switcher drops it); the new one's first attempt keeps `connecting`.
    send({ type: "link.connecting" }, ready);
    assert.equal(m.state, "idle");
    send(down);
    assert.equal(m.state, "listening");
  });

  test("while the user holds the button: the turn is dropped, not sent to either agent", () => {
    const { m, send, took } = machine();
    send(ready, down);
    took();
    send(sw);
    assert.deepEqual(took(), ["turn.abort"]);
    assert.equal(m.state, "connecting");
    send(up, ready);
    assert.equal(m.state, "idle");
    assert.deepEqual(took(), []);
  });

  test("free conversation: the mic stream stops with the old link and starts on the new one", () => {
    const { m, send, took } = machine({ mode: "free" });
    send(ready);
    assert.deepEqual(took(), ["stream.start"]);
    send(sw);
    assert.deepEqual(took(), ["stream.stop"]);
    assert.equal(m.state, "connecting");
    send(ready);
    assert.deepEqual(took(), ["stream.start"]);
    assert.equal(m.state, "listening");
  });

  test("an announcement that waited for the interaction is not dropped: the switch ended the interaction, so it is said", () => {
    const { m, send, took } = machine();
    send(ready, down, { type: "announce.request", id: "a1", mode: 2 });
    assert.deepEqual(took(), ["turn.begin", "announce.queue"]);
    send(sw);
    assert.deepEqual(took(), ["turn.abort", "announce.speak"]);
    assert.equal(m.state, "announcing");
    // The new link comes up while it is said; the device rests once it is over.
    send(ready);
    assert.equal(m.state, "announcing");
    send({ type: "announce.done", id: "a1", ok: true });
    assert.equal(m.state, "idle");
  });

  test("a press while the new link opens is not a turn", () => {
    const { m, send, took } = machine();
    send(ready, sw);
    took();
    send(down);
    assert.notEqual(m.state, "listening");
    assert.equal(took().includes("turn.begin"), false);
  });
});
