/**
 * Push-to-talk on real parts: the compiled daemon on the sim board, real arecord and
 * libasound on the rig's virtual real-time sound card, the emulator over a loopback
 * WebSocket, the button pressed through the control socket.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { daemonPlayback, nextClientEvent, startDevice, type Device } from "../support/device";
import { until } from "../support/daemon-process";
import type { TurnRecord } from "../../src/emulator/server";

const FRAME_BYTES = 640; // 20 ms at 16 kHz mono S16_LE

function assertFromMic(dev: Device, turn: TurnRecord): number {
  const mic = dev.rig.micInput;
  const at = mic.indexOf(turn.audio.subarray(0, FRAME_BYTES));
  assert.ok(at >= 0, "the first frame the agent received is not in what the mic captured");
  const slice = mic.subarray(at, at + turn.audio.length);
  if (!slice.equals(turn.audio)) {
    let i = 0;
    while (i < slice.length && slice[i] === turn.audio[i]) i++;
    const resync = mic.indexOf(turn.audio.subarray(i - (i % FRAME_BYTES), i - (i % FRAME_BYTES) + FRAME_BYTES));
    assert.fail(`the agent received audio that differs from the mic's at byte ${i} of ${turn.audio.length} (mic has ${slice.length} bytes there; the frame is found at mic offset ${resync}, expected ${at + i - (i % FRAME_BYTES)})`);
  }
  return at;
}

function assertRealTimeAppends(turn: TurnRecord): void {
  const sizes = turn.appendBytes;
  assert.ok(sizes.slice(0, -1).every((n) => n === FRAME_BYTES), `appends are not all 20 ms: ${[...new Set(sizes)].join(",")}`);
  assert.ok(sizes.at(-1)! > 0 && sizes.at(-1)! <= FRAME_BYTES);
  const spanMs = Number(turn.appendAtNs.at(-1)! - turn.appendAtNs[0]!) / 1e6;
  const audioMs = ((sizes.length - 1) * 20);
  // Real time, not a burst: the appends take (about) as long as the audio they carry.
  assert.ok(spanMs >= audioMs * 0.8, `appends of ${audioMs} ms of audio arrived within ${spanMs.toFixed(0)} ms`);
  assert.ok(spanMs <= audioMs * 1.25 + 300, `appends of ${audioMs} ms of audio took ${spanMs.toFixed(0)} ms`);
  assert.ok(turn.completeAtNs >= turn.appendAtNs.at(-1)!, "complete came before the last append");
}

describe("push-to-talk on the ALSA rig against the emulator", { timeout: 60_000 }, () => {
  test("a release keeps what was said: the agent's audio ends within a capture period of the release, turn after turn", async () => {
    // The mic's audio may wait in the device while the button is held (a few periods per
    // read); at the release what waits must go out before the turn ends, not be dropped.
    const PERIOD_MS = 40; // push-to-talk's capture period
    const SLACK_MS = 40; // arecord's and the daemon's scheduling
    const dev = await startDevice();
    try {
      const lost: number[] = [];
      for (let i = 0; i < 6; i++) {
        const from = dev.daemon.logs.length;
        const turnDone = dev.nextTurn();
        const downAt = process.hrtime.bigint();
        await dev.press();
        await new Promise((r) => setTimeout(r, 600 + i * 17)); // a different phase against the reads each time
        const upAt = process.hrtime.bigint();
        await dev.release();
        const turn = await turnDone;
        const at = dev.rig.micInput.indexOf(turn.audio.subarray(turn.audio.length - FRAME_BYTES));
        assert.ok(at >= 0, "the turn's last frame is not in what the mic captured");
        const end = at + FRAME_BYTES;
        const chunk = dev.rig.micTimes().find(([t, off, len]) => t >= downAt - 50_000_000n && off < end && end <= off + len);
        assert.ok(chunk, "the card logged capturing the turn's last sample");
        const heardAt = chunk[0] + BigInt(Math.round(((end - chunk[1]) / 32) * 1e6));
        lost.push(Number(upAt - heardAt) / 1e6);
        await dev.daemon.waitForState("speaking", 10_000, from);
        await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.findIndex((l, k) => k >= from && l.msg === "state speaking"));
      }
      assert.ok(Math.max(...lost) <= PERIOD_MS + SLACK_MS, `speech lost at the release (ms): ${lost.map((x) => x.toFixed(0)).join(", ")}`);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("one turn: the agent gets exactly the mic audio in real-time 20 ms appends, the speaker plays exactly the reply", async () => {
    const dev = await startDevice();
    try {
      assert.equal((await dev.press()).State, "listening");
      await dev.appends(75);
      const turnDone = dev.nextTurn();
      const upSentAt = process.hrtime.bigint();
      assert.equal((await dev.release()).State, "thinking");
      const turn = await turnDone;
      assert.equal(turn.canceled, false);
      assert.ok(turn.completeAtNs > upSentAt, "complete must follow the release");
      assertRealTimeAppends(turn);
      assertFromMic(dev, turn);
      assert.ok(turn.audio.length >= 75 * FRAME_BYTES);
      assert.ok(turn.reply.equals(turn.audio), "the echo agent replies with what it heard");
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.findIndex((l) => l.msg === "state speaking"));
      const status = await dev.status();
      const last = status.LastTurn as Record<string, unknown>;
      assert.equal(last.outcome, "completed");
      assert.equal(last.bytesSent, turn.audio.length);
      assert.equal(typeof last.releaseToCommitMs, "number");
      assert.equal(typeof last.firstAudioToFirstWriteMs, "number");
      assert.equal(dev.emulator.sessions().length, 1);
      assert.equal(await dev.stopDaemon(), 0);
      assert.ok(daemonPlayback(dev.rig).bytes.equals(turn.reply), "the speaker did not play exactly the reply");
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("two turns on one connection: each reply is played in full, in order", async () => {
    const dev = await startDevice();
    try {
      const turns: TurnRecord[] = [];
      for (const frames of [40, 60]) {
        const from = dev.daemon.logs.length;
        await dev.press();
        await dev.appends(frames);
        const done = dev.nextTurn();
        await dev.release();
        const turn = await done;
        assertRealTimeAppends(turn);
        assertFromMic(dev, turn);
        turns.push(turn);
        await dev.daemon.waitForState("idle", 10_000, from + 1);
      }
      assert.equal(dev.emulator.sessions().length, 1, "both turns must use the one kept connection");
      assert.equal(dev.daemon.logs.filter((l) => l.msg === "agent link ready").length, 1);
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      assert.ok(played.equals(Buffer.concat(turns.map((t) => t.reply))), "the speaker did not play both replies exactly");
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("barge-in: a press while the agent speaks sends cancel, stops playback, and starts the new turn", async (t) => {
    const dev = await startDevice();
    try {
      await dev.press();
      await dev.appends(150);
      const first = dev.nextTurn();
      await dev.release();
      await dev.daemon.waitForState("speaking");
      // Early in the reply, while the agent is still sending it.
      await until(() => daemonPlayback(dev.rig).bytes.length > 3_200, "the reply at the speaker");
      const cancel = nextClientEvent(dev.emulator, "conversation.chat.cancel");
      const reply = await dev.press();
      assert.equal(reply.State, "listening");
      const cancelAt = await cancel;
      const turn1 = await first;
      assert.equal(turn1.canceled, true);
      assert.ok(turn1.reply.length < turn1.audio.length, "the agent stopped sending after the cancel");
      const playedByCancel = daemonPlayback(dev.rig)
        .chunks.filter(([ns]) => ns <= cancelAt)
        .reduce((n, [, , len]) => n + len, 0);
      // Hold the new turn for a second: the old reply would have gone on playing meanwhile.
      await dev.appends(50);
      const second = dev.nextTurn();
      const from = dev.daemon.logs.length;
      await dev.release();
      const turn2 = await second;
      assert.equal(turn2.canceled, false);
      assertFromMic(dev, turn2);
      await dev.daemon.waitForState("idle", 10_000, from);
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      assert.ok(played.subarray(played.length - turn2.reply.length).equals(turn2.reply), "the second reply was not played in full");
      const heard1 = played.subarray(0, played.length - turn2.reply.length);
      assert.ok(heard1.length < turn1.audio.length, "the first reply played on after barge-in");
      assert.ok(turn1.reply.subarray(0, heard1.length).equals(heard1), "what played of the first reply is not its beginning");
      const afterCancelMs = (heard1.length - playedByCancel) / 32;
      // The agent sends faster than real time, so seconds of the reply were queued at the
      // press (1.5 s play on without a flush). The rig's card discards its buffer on a
      // drop as hardware does, so only scheduling between the flush and the cancel counts.
      assert.ok(afterCancelMs < 100, `${afterCancelMs.toFixed(0)} ms of the cancelled reply played after the cancel`);
      t.diagnostic(`barge-in: ${afterCancelMs.toFixed(0)} ms of the cancelled reply played after the cancel reached the agent`);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
