/**
 * Button gestures from the control socket on the whole device (the compiled daemon, the
 * rig, the emulator), through the input router GPIO and the panel use: quick presses are
 * turns, never a mode switch; a head unit's named double press switches modes and its
 * long press starts a new conversation.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDevice } from "../support/device";

describe("button gestures from the control socket", { timeout: 90_000 }, () => {
  test("two quick turns stay turns; Action double switches to free conversation; Action long starts a new conversation", async () => {
    const dev = await startDevice();
    const clears: bigint[] = [];
    let cleared: () => void = () => {};
    const firstClear = new Promise<void>((resolve) => (cleared = resolve));
    dev.emulator.events.on("client-event", (_i: number, rec: { event: { event_type: string } | null; atNs: bigint }) => {
      if (rec.event?.event_type !== "conversation.clear") return;
      clears.push(rec.atNs);
      cleared();
    });
    const button = (Action: string) => dev.control.request({ Command: "Button", Name: "talk", Action });
    try {
      // Presses 400 ms apart at most, as a script makes them: two turns, both answered, no mode switch.
      for (let i = 0; i < 2; i++) {
        const from = dev.daemon.logs.length;
        await dev.press();
        await dev.appends(5);
        const turn = dev.nextTurn();
        await dev.release();
        assert.equal((await turn).canceled, false);
        await dev.daemon.waitForState("idle", 10_000, from + 1);
      }
      assert.equal((await dev.status()).Mode, "push-to-talk");
      assert.ok(!dev.daemon.logs.some((l) => /^(double|long) press/.test(String(l.msg))));

      let from = dev.daemon.logs.length;
      assert.equal((await button("double")).Ok, true);
      await dev.daemon.waitForLog((l) => l.msg === "switched to free conversation", 10_000, from);
      assert.equal((await dev.status()).Mode, "free");

      from = dev.daemon.logs.length;
      assert.equal((await button("long")).Ok, true);
      await dev.daemon.waitForLog((l) => l.msg === "long press on 'talk': starting a new conversation", 10_000, from);
      // The device asks the agent (its own "starting a new conversation" line comes first: wait for the frame itself).
      await dev.daemon.waitForLog((l) => l.level === 30 && /new conversation/.test(String(l.msg)) && !String(l.msg).startsWith("long press"), 10_000, from);
      await firstClear;
      assert.equal(clears.length, 1);

      const bad = await button("quadruple");
      assert.equal(bad.Ok, false);
      assert.match(String(bad.Error), /Action must be "down", "up", "double", "triple" or "long"/);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
