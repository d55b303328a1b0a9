/**
 * The turn buffer alone, against a recording fake backend: a turn is never lost to a
 * link that is down when it starts, drops mid-turn, or dies as the turn ends.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TurnBuffer } from "../../src/device/turn-buffer";
import { silentLogger } from "../../src/log/logger";

function rig(linkUp = true) {
  const calls: string[] = [];
  const link = { up: linkUp };
  const sent: number[] = [];
  const backend = {
    beginTurn: (t: { userId: string }) => (calls.push(`begin ${t.userId}`), link.up),
    appendAudio: (frame: Buffer) => (calls.push(`append ${frame[0]}`), link.up),
    commitTurn: () => (calls.push("commit"), link.up),
  };
  const turns = new TurnBuffer({ backend, stats: { sent: (n) => void sent.push(n) }, log: silentLogger() });
  return { turns, calls, link, sent };
}

const frame = (n: number): Buffer => Buffer.from([n, 0]);

describe("turn buffer", () => {
  test("a live turn streams and commits; what was sent is counted", () => {
    const { turns, calls, sent } = rig();
    turns.begin("ann", true);
    turns.send(frame(1));
    turns.send(frame(2));
    assert.equal(turns.commit(), true);
    assert.deepEqual(calls, ["begin ann", "append 1", "append 2", "commit"]);
    assert.deepEqual(sent, [2, 2]);
  });

  test("a turn begun while the link is down is held, committed while held, and sent whole when the link is back", () => {
    const { turns, calls } = rig(false);
    turns.begin("ann", false);
    turns.send(frame(1));
    turns.send(frame(2));
    assert.equal(turns.holding, true);
    assert.equal(turns.commit(), "held");
    assert.deepEqual(calls, [], "nothing goes out while held");
    turns.release();
    assert.deepEqual(calls, ["begin ann", "append 1", "append 2", "commit"]);
    assert.equal(turns.holding, false);
  });

  test("a link that drops mid-turn: the turn is held from its first frame and goes again, and the rest follows it", () => {
    const { turns, calls } = rig();
    turns.begin("ann", true);
    turns.send(frame(1));
    turns.hold();
    turns.send(frame(2));
    calls.length = 0;
    turns.release();
    turns.send(frame(3));
    turns.commit();
    assert.deepEqual(calls, ["begin ann", "append 1", "append 2", "append 3", "commit"]);
  });

  test("a committed turn the agent never acknowledged is sent again; an acknowledged one is not", () => {
    const a = rig();
    a.turns.begin("ann", true);
    a.turns.send(frame(1));
    a.turns.commit();
    assert.equal(a.turns.resend(), true);
    a.calls.length = 0;
    a.turns.release();
    assert.deepEqual(a.calls, ["begin ann", "append 1", "commit"]);

    const b = rig();
    b.turns.begin("ann", true);
    b.turns.send(frame(1));
    b.turns.commit();
    b.turns.acknowledged();
    assert.equal(b.turns.resend(), false);
    assert.equal(b.turns.holding, false);
  });

  test("a held, committed turn is dropped when the reconnect fails; one still being spoken is kept", () => {
    const a = rig(false);
    a.turns.begin("ann", false);
    a.turns.commit();
    a.turns.linkDown();
    assert.equal(a.turns.holding, false);

    const b = rig(false);
    b.turns.begin("ann", false);
    b.turns.linkDown();
    assert.equal(b.turns.holding, true);
  });

  test("abort: a held turn never reached the agent, a live one did", () => {
    const a = rig(false);
    a.turns.begin("ann", false);
    assert.equal(a.turns.abort(), false);
    const b = rig();
    b.turns.begin("ann", true);
    assert.equal(b.turns.abort(), true);
    b.turns.release();
    assert.deepEqual(b.calls, ["begin ann"], "nothing is left to send");
  });

  test("a new turn forgets the unacknowledged one before it", () => {
    const { turns } = rig();
    turns.begin("ann", true);
    turns.commit();
    turns.begin("bob", true);
    assert.equal(turns.resend(), false);
  });
});
