/**
 * Push-to-talk on real parts: the compiled daemon on the sim board, real arecord and
 * libasound through the ALSA file rig (paced in real time), the emulator over a
 * loopback WebSocket, the button pressed through the control socket.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDevice, trimSilence, type Device } from "../support/device";
import type { TurnRecord } from "../../src/emulator/server";

const FRAME_BYTES = 640; // 20 ms at 16 kHz mono S16_LE

function assertFromMic(dev: Device, turn: TurnRecord): number {
  const mic = dev.rig.micRecord();
  const at = mic.indexOf(turn.audio.subarray(0, FRAME_BYTES));
  assert.ok(at >= 0, "the first frame the agent received is not in what the mic captured");
  assert.ok(mic.subarray(at, at + turn.audio.length).equals(turn.audio), "the agent received audio that differs from the mic's");
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
      // Stopping closes the device, which pushes out ALSA's last partial period.
      assert.equal(await dev.stopDaemon(), 0);
      assert.ok(trimSilence(dev.rig.speakerOut()).equals(turn.reply), "the speaker did not play exactly the reply");
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
