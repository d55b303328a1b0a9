/**
 * One speaker for the voice and for cues (earcons, the slow-reply phrase): a cue plays only on
 * a quiet speaker, the voice's first audio cuts it, and the playback's events stay the voice's
 * own. The engine here is a recorder (the real one is exercised on the rig by the earcon tests).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { SharedPlayback, type CueEnd } from "../../src/device/shared-playback";
import { FakeClock } from "../support/fake-clock";

function setup() {
  const calls: string[] = [];
  const engine = Object.assign(new EventEmitter(), {
    format: { sampleRate: 16000, channels: 1 },
    queuedMs: 0,
    write: (pcm: Buffer) => void calls.push(`write:${pcm.length}`),
    endOfReply: () => void calls.push("end"),
    flush: () => void calls.push("flush"),
  });
  const clock = new FakeClock();
  const shared = new SharedPlayback(engine, clock);
  const events: string[] = [];
  shared.on("started", (at: number) => events.push(`started@${at}`));
  shared.on("drained", () => events.push("drained"));
  shared.on("cue.started", (at: number) => events.push(`cue.started@${at}`));
  shared.on("cue.ended", (how: CueEnd) => events.push(`cue.ended:${how}`));
  return { calls, engine, clock, shared, events };
}

describe("the shared speaker", () => {
  test("a cue on a quiet speaker plays and drains as a cue: no voice event", () => {
    const { calls, engine, shared, events } = setup();
    assert.equal(shared.startCue(), true);
    shared.writeCue(Buffer.alloc(320));
    shared.endCue();
    engine.emit("started", 5);
    engine.emit("drained");
    assert.deepEqual(calls, ["write:320", "end"]);
    assert.deepEqual(events, ["cue.started@5", "cue.ended:drained"]);
    assert.equal(shared.cuePlaying, false);
  });

  test("the voice's first audio cuts a cue; the cue's start reported late is not the voice's", () => {
    const { calls, engine, clock, shared, events } = setup();
    shared.startCue();
    shared.writeCue(Buffer.alloc(320));
    shared.endCue();
    clock.advance(10);
    shared.write(Buffer.alloc(640));
    assert.deepEqual(calls, ["write:320", "end", "flush", "write:640"]);
    // The playback thread's message about the cue's first sample, sent before it saw the flush.
    engine.emit("started", 4);
    engine.emit("started", 12);
    shared.endOfReply();
    engine.emit("drained");
    assert.deepEqual(events, ["cue.ended:yielded", "started@12", "drained"]);
  });

  test("no cue while the voice plays; the voice's end of reply never marks a cue's end", () => {
    const { calls, engine, shared, events } = setup();
    shared.write(Buffer.alloc(640));
    assert.equal(shared.startCue(), false);
    shared.writeCue(Buffer.alloc(320));
    engine.emit("drained");
    assert.equal(shared.startCue(), true);
    shared.writeCue(Buffer.alloc(320));
    shared.endOfReply();
    assert.deepEqual(calls, ["write:640", "write:320"]);
    assert.deepEqual(events, ["drained"]);
  });

  test("a barge-in flush stops a cue too; stopCue stops only a cue", () => {
    const { calls, shared, events } = setup();
    shared.startCue();
    shared.flush();
    shared.write(Buffer.alloc(2));
    shared.stopCue();
    assert.deepEqual(calls, ["flush", "write:2"]);
    assert.deepEqual(events, ["cue.ended:stopped"]);
  });
});
