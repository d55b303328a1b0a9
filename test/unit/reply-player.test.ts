/**
 * The reply stage alone, with a fake speaker and an identity codec: which reply plays,
 * the reply buffer's bound, and how much of a reply was heard, on a fake clock.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ReplyPlayer } from "../../src/device/reply-player";
import { TurnStats } from "../../src/device/turn-stats";
import { silentLogger } from "../../src/log/logger";
import type { PcmFormat } from "../../src/core/pcm";
import { FakeClock } from "../support/fake-clock";

const FORMAT: PcmFormat = { sampleRate: 16000, channels: 1, sampleFormat: "S16_LE" };
const MS = 32; // bytes per millisecond at 16 kHz mono S16

function rig(replyBufferMs = 60_000) {
  const clock = new FakeClock();
  const written: Buffer[] = [];
  const calls: string[] = [];
  const stopped: number[] = [];
  const speaker = {
    format: FORMAT,
    queuedMs: 0,
    write: (pcm: Buffer) => {
      written.push(pcm);
      speaker.queuedMs += pcm.length / MS;
    },
    endOfReply: () => void calls.push("playback.endOfReply"),
    flush: () => {
      calls.push("playback.flush");
      speaker.queuedMs = 0;
    },
  };
  const downlink = {
    wire: { codec: "pcm" as const, sampleRate: 16000, channels: 1 as const },
    decode: (audio: Buffer) => {
      if (audio.length % 2 === 1) throw new Error("odd length");
      return audio;
    },
    endOfReply: () => void calls.push("downlink.endOfReply"),
  };
  const stats = new TurnStats(clock);
  stats.begin("u");
  const player = new ReplyPlayer({ downlink, playback: speaker, stats, log: silentLogger(), clock, replyBufferMs, stopReply: (ms) => void stopped.push(ms) });
  return { clock, player, written, calls, stopped, speaker, stats };
}

const audio = (ms: number): Buffer => Buffer.alloc(ms * MS, 1);

describe("reply player", () => {
  test("plays the current reply's audio and nothing of another reply", () => {
    const { player, written, stats } = rig();
    assert.equal(player.audio("r1", audio(20)), false, "no reply started: dropped");
    assert.equal(player.started("r1"), true);
    assert.equal(player.audio("r1", audio(20)), true);
    assert.equal(player.audio("r0", audio(20)), false, "an older reply's late audio");
    assert.equal(written.length, 1);
    assert.equal(stats.current?.droppedStaleAudioBytes, 2 * 20 * MS);
  });

  test("a barge-in makes the reply stale: its audio, text and end are ignored", () => {
    const { player, written, calls } = rig();
    player.started("r1");
    player.audio("r1", audio(20));
    player.interrupt();
    assert.equal(player.audio("r1", audio(20)), false);
    assert.equal(player.fresh("r1"), false);
    assert.deepEqual(player.done("r1", "canceled"), { kind: "stale" });
    assert.equal(written.length, 1);
    assert.deepEqual(calls, [], "a stale reply's end touches neither the codec nor the speaker");
    // Its id is forgotten once it ended: the set stays bounded.
    assert.equal(player.fresh("r1"), true);
  });

  test("a barge-in before the reply started makes that reply stale when it starts, and only that one", () => {
    const { player } = rig();
    player.interrupt();
    assert.equal(player.started("r1"), false);
    assert.equal(player.audio("r1", audio(20)), false);
    assert.equal(player.started("r2"), true);
    assert.equal(player.audio("r2", audio(20)), true);
  });

  test("a turn committed after a barge-in with no reply yet: the next reply plays", () => {
    const { player } = rig();
    player.interrupt();
    player.turnCommitted();
    assert.equal(player.started("r1"), true);
  });

  test("audio that does not decode is dropped, the reply goes on", () => {
    const { player, written } = rig();
    player.started("r1");
    assert.equal(player.audio("r1", Buffer.alloc(3)), false);
    assert.equal(player.audio("r1", audio(20)), true);
    assert.equal(written.length, 1);
  });

  test("a reply faster than it plays keeps reply_buffer_ms queued, stops the reply once, and completes with what it kept", () => {
    const { player, written, stopped, calls, speaker } = rig(5000);
    player.started("r1");
    assert.equal(player.audio("r1", audio(4000)), true);
    assert.equal(player.audio("r1", audio(2000)), true, "what fits is kept");
    assert.equal(speaker.queuedMs, 5000, "exactly the buffer's worth queued");
    assert.equal(written[1]!.length, 1000 * MS);
    assert.deepEqual(stopped, [0], "stopped once; nothing heard yet");
    assert.equal(player.audio("r1", audio(20)), false, "the rest is dropped");
    assert.deepEqual(player.done("r1", "canceled"), { kind: "done", status: "completed", cutShort: true });
    assert.ok(calls.includes("playback.endOfReply"), "what was kept plays to its end");
  });

  test("a canceled reply does not end the speaker's reply; a completed one does", () => {
    const a = rig();
    a.player.started("r1");
    assert.deepEqual(a.player.done("r1", "canceled"), { kind: "done", status: "canceled", cutShort: false });
    assert.deepEqual(a.calls, ["downlink.endOfReply"]);
    const b = rig();
    b.player.started("r1");
    b.player.done("r1", "completed");
    assert.deepEqual(b.calls, ["downlink.endOfReply", "playback.endOfReply"]);
  });

  test("heard: the time since the first sample played, never more than the audio the reply had", () => {
    const { player, clock } = rig();
    player.started("r1");
    player.audio("r1", audio(300));
    assert.equal(player.heardMs(), 0, "nothing played yet");
    player.playbackStarted(clock.now());
    clock.advance(120);
    assert.equal(player.heardMs(), 120);
    clock.advance(1000);
    assert.equal(player.heardMs(), 300, "bounded by the audio it had");
    player.started("r2");
    assert.equal(player.heardMs(), 0, "a new reply starts from nothing");
  });

  test("flush drops what is queued and ends the codec's reply", () => {
    const { player, calls, speaker } = rig();
    player.started("r1");
    player.audio("r1", audio(200));
    player.flush();
    assert.equal(speaker.queuedMs, 0);
    assert.deepEqual(calls, ["playback.flush", "downlink.endOfReply"]);
  });
});
