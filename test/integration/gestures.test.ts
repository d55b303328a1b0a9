/**
 * Button gestures from the control socket on the whole device (the compiled daemon, the
 * rig, the emulator): the same input router as GPIO and the panel, so a head unit's
 * double press switches modes and its long press starts a new conversation. In
 * push-to-talk a long hold is a long question and keeps the conversation.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDevice } from "../support/device";

describe("button gestures from the control socket", { timeout: 90_000 }, () => {
  test("a long hold in push-to-talk is a question; a double press switches to free conversation; there a long press starts a new conversation", async () => {
    const dev = await startDevice();
    const clears: bigint[] = [];
    dev.emulator.events.on("client-event", (_i: number, rec: { event: { event_type: string } | null; atNs: bigint }) => {
      if (rec.event?.event_type === "conversation.clear") clears.push(rec.atNs);
    });
    try {
      // 2.5 s held: past long_press_ms (2 s), and still just a turn.
      await dev.press();
      await dev.appends(125);
      const turn = dev.nextTurn();
      await dev.release();
      assert.equal((await turn).canceled, false);
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.findIndex((l) => l.msg === "state speaking"));
      assert.equal(clears.length, 0, "a long push-to-talk question cleared the conversation");
      assert.ok(!dev.daemon.logs.some((l) => String(l.msg).startsWith("long press")));

      // Two presses within double_press_ms (400 ms).
      let from = dev.daemon.logs.length;
      await dev.press();
      await dev.release();
      await dev.press();
      await dev.release();
      await dev.daemon.waitForLog((l) => l.msg === "switched to free conversation", 10_000, from);
      assert.equal((await dev.status()).Mode, "free");

      // Held 2 s in free conversation: the gesture, sent to the agent as conversation.clear.
      from = dev.daemon.logs.length;
      await dev.press();
      await dev.daemon.waitForLog((l) => l.msg === "long press on 'talk': starting a new conversation", 10_000, from);
      await dev.release();
      await dev.daemon.waitForLog((l) => /new conversation/.test(String(l.msg)) && l.level === 30 && !String(l.msg).startsWith("long press"), 10_000, from);
      assert.equal(clears.length, 1);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
