/**
 * The state stream on the whole device: the compiled daemon on the rig, subscribers on its
 * real control socket. A head unit that follows the device sees a snapshot, then a
 * push-to-talk turn's states in order; one that stops reading is dropped and costs the
 * turn nothing.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { startDevice } from "../support/device";
import { until } from "../support/daemon-process";
import { openControlConnection, type ControlReply } from "../../src/control/client";
import { encodeFrame } from "../../src/control/framing";

describe("state stream (Subscribe) on the ALSA rig", { timeout: 90_000 }, () => {
  test("two subscribers get the snapshot; a slow one is dropped; the other follows a push-to-talk turn in order", async () => {
    const dev = await startDevice();
    try {
      // The head unit: reads everything.
      const head = await openControlConnection(dev.socket);
      const frames: ControlReply[] = [];
      const waiters: Array<{ match: (f: ControlReply) => boolean; resolve: () => void }> = [];
      head.onEvent((f) => {
        frames.push(f);
        for (const w of waiters.splice(0)) if (w.match(f)) w.resolve(); else waiters.push(w);
      });
      const frameWhere = (match: (f: ControlReply) => boolean): Promise<void> =>
        new Promise((resolve) => (frames.some(match) ? resolve() : waiters.push({ match, resolve })));
      const reply = await head.request({ Command: "Subscribe" });
      assert.equal(reply.Ok, true);
      const snapshot = reply.Snapshot as Record<string, unknown>;
      assert.equal(snapshot.State, "idle");
      assert.equal(snapshot.Mode, "push-to-talk");
      assert.equal((snapshot.Link as { state: string }).state, "ready");
      assert.equal(typeof snapshot.Volume, "number");

      // A second subscriber that reads its snapshot and then never again.
      const stuck = net.createConnection(dev.socket);
      await once(stuck, "connect");
      stuck.write(encodeFrame({ Command: "Subscribe" }));
      await once(stuck, "data");
      stuck.pause();
      assert.equal((await dev.status()).Subscribers, 2);

      // Volume changes from a third client, each a frame to both, until the stuck one is dropped.
      const knob = await openControlConnection(dev.socket);
      let changes = 0;
      while ((await dev.status()).Subscribers === 2) {
        assert.ok(changes < 50_000, "the stuck subscriber was never dropped");
        for (let i = 0; i < 100; i++, changes++) await knob.request({ Command: "Volume", Percent: 50 + (changes % 2) });
      }
      await knob.close();
      assert.equal((await dev.status()).Subscribers, 1);
      const volumeFrames = frames.filter((f) => f.Event === "Volume").length;
      assert.equal(volumeFrames, changes, "the head unit got every volume change");
      // The log comes through the daemon's stdout pipe, which can lag the control socket.
      await until(() => dev.daemon.logs.some((l) => String(l.msg).includes("dropped a subscriber that stopped reading")), "the drop's log line");

      // The turn, followed by the head unit.
      const from = frames.length;
      const idle = frameWhere((f) => frames.indexOf(f) >= from && f.Event === "State" && f.State === "idle");
      await dev.press();
      await dev.appends(40);
      const turnDone = dev.nextTurn();
      await dev.release();
      const turn = await turnDone;
      assert.equal(turn.canceled, false);
      await idle;
      const states = frames.slice(from).filter((f) => f.Event === "State").map((f) => [f.From, f.State]);
      assert.deepEqual(states, [
        ["idle", "listening"],
        ["listening", "thinking"],
        ["thinking", "speaking"],
        ["speaking", "idle"],
      ]);
      const last = (await dev.status()).LastTurn as Record<string, unknown>;
      assert.equal(last.outcome, "completed");
      stuck.destroy();
      await head.close();
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
