/**
 * The uplink stage alone: frames reach the turn buffer only while a turn (or free
 * conversation) streams, the echo gate's silence keeps the timing, and the device's own
 * turn detection begins, sends and ends turns, bounded by max_turn_ms on a fake clock.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ConversationMode } from "../../src/core/device-state";
import type { LocalTurnEvent } from "../../src/device/local-turns";
import { PTT_HOLD_MS, UplinkStream } from "../../src/device/uplink-stream";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";

const frame = (n: number): Buffer => Buffer.from([n, n]);

function rig(o: { mode?: ConversationMode; usable?: boolean; local?: LocalTurnEvent[][]; gate?: boolean } = {}) {
  const clock = new FakeClock();
  const sent: string[] = [];
  const calls: string[] = [];
  const state = { mode: o.mode ?? "push-to-talk", usable: o.usable ?? true, holding: false, gate: o.gate ?? false, partial: null as Buffer | null };
  const script = o.local ? [...o.local] : null;
  const needs: boolean[] = [];
  const holds: number[] = [];
  // What the mic holds (need()'s holdMs) until catchUp() delivers it, as a real mic does: at once, through frame().
  const held: Buffer[] = [];
  const stream: UplinkStream = new UplinkStream({
    mic: {
      need: (on: boolean, h?: { holdMs?: number }) => {
        needs.push(on);
        holds.push(h?.holdMs ?? 0);
      },
      catchUp: () => {
        for (const f of held.splice(0)) stream.frame(f);
      },
    },
    uplink: {
      encode: (pcm: Buffer) => Buffer.from(`enc${pcm[0]}`),
      silence: () => Buffer.from("silence"),
      takePartial: () => {
        const p = state.partial;
        state.partial = null;
        return p;
      },
      discardPartial: () => void calls.push("discardPartial"),
    },
    gate: {
      get closed() {
        return state.gate;
      },
    },
    turns: {
      send: (p: Buffer) => void sent.push(p.toString()),
      get holding() {
        return state.holding;
      },
    },
    localTurns: script
      ? {
          push: () => script.shift() ?? [],
          reset: () => void calls.push("local.reset"),
        }
      : null,
    serverVad: () => false,
    backend: {
      beginTurn: () => (calls.push("beginTurn"), true),
      commitTurn: () => (calls.push("commitTurn"), true),
    },
    clock,
    log: silentLogger(),
    userId: "u",
    maxTurnMs: 1000,
    mode: () => state.mode,
    linkUsable: () => state.usable,
    speechStarted: () => void calls.push("speechStarted"),
    speechStopped: () => void calls.push("speechStopped"),
  });
  return { stream, sent, calls, state, clock, needs, holds, held };
}

describe("uplink stream", () => {
  test("the mic is needed only while something streams: not at rest, from a turn's start to its end, during free conversation", () => {
    const { stream, needs } = rig();
    assert.deepEqual(needs, [false], "at rest nothing reads the mic");
    stream.startTurn();
    stream.finishTurn();
    stream.startTurn();
    stream.abortTurn();
    stream.startStream();
    stream.stopStream();
    assert.deepEqual(needs, [false, true, false, true, false, true, false]);
  });

  test("push-to-talk lets the mic hold its audio a few periods; the release takes what it holds before the last partial frame", () => {
    const { stream, sent, holds, held, state } = rig();
    stream.startTurn();
    stream.frame(frame(1));
    held.push(frame(2), frame(3));
    state.partial = Buffer.from("tail");
    stream.finishTurn();
    assert.deepEqual(sent, ["enc1", "enc2", "enc3", "tail"]);
    stream.startStream();
    assert.deepEqual(holds, [0, PTT_HOLD_MS, 0, 0], "free conversation must read the mic as it comes");
  });

  test("push-to-talk: frames go out between the turn's start and end, then its partial tail", () => {
    const { stream, sent, calls, state } = rig();
    stream.frame(frame(1));
    stream.startTurn();
    assert.deepEqual(calls, ["discardPartial"], "what the framer held was said before the press");
    stream.frame(frame(2));
    state.partial = Buffer.from("tail");
    stream.finishTurn();
    stream.frame(frame(3));
    assert.deepEqual(sent, ["enc2", "tail"]);
    assert.equal(stream.streaming, false);
  });

  test("push-to-talk ignores the echo gate; a link that is down drops frames unless the turn is held", () => {
    const { stream, sent, state } = rig({ gate: true, usable: false });
    stream.startTurn();
    stream.frame(frame(1));
    state.holding = true;
    stream.frame(frame(2));
    assert.deepEqual(sent, ["enc2"]);
  });

  test("free conversation: the gate sends silence while the speaker plays, and the stream stops on demand", () => {
    const { stream, sent, state } = rig({ mode: "free" });
    stream.startStream();
    stream.frame(frame(1));
    state.gate = true;
    stream.frame(frame(2));
    stream.stopStream();
    stream.frame(frame(3));
    assert.deepEqual(sent, ["enc1", "silence"]);
  });

  test("local turns: speech begins a turn with its prefix, streams, and its end commits it", () => {
    const { stream, sent, calls } = rig({
      mode: "free",
      local: [[{ type: "speech.started", prefix: [frame(7), frame(8)] }], [{ type: "speech.audio", pcm: frame(9) }], [{ type: "speech.stopped" }]],
    });
    stream.startStream();
    calls.length = 0;
    stream.frame(frame(0));
    stream.frame(frame(0));
    stream.frame(frame(0));
    assert.deepEqual(sent, ["enc7", "enc8", "enc9"]);
    assert.deepEqual(calls, ["speechStarted", "beginTurn", "speechStopped", "commitTurn"]);
  });

  test("local turns: speech longer than max_turn_ms is ended there and detection starts afresh", () => {
    const { stream, calls, clock } = rig({ mode: "free", local: [[{ type: "speech.started", prefix: [] }]] });
    stream.startStream();
    stream.frame(frame(0));
    calls.length = 0;
    clock.advance(999);
    assert.deepEqual(calls, []);
    clock.advance(1);
    assert.deepEqual(calls, ["speechStopped", "commitTurn", "local.reset"]);
  });

  test("local turns: stopping the stream drops a half-heard turn and its timer", () => {
    const { stream, calls, clock } = rig({ mode: "free", local: [[{ type: "speech.started", prefix: [] }]] });
    stream.startStream();
    stream.frame(frame(0));
    stream.stopStream();
    calls.length = 0;
    clock.advance(5000);
    assert.deepEqual(calls, [], "no turn is committed after the stream stopped");
  });
});
