/**
 * A button's own user reaches the agent (issue 16): the compiled daemon on the rig, buttons
 * with a user_id pressed over the control socket, the emulator's records of the wire. Coze:
 * a chat.update naming the user before their turn, and each user in a conversation of their own.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDevice } from "../support/device";
import { buttonTurn } from "../support/button-turn";
import { speechLoop } from "../support/speech";

/** The sim board's talk button, and a passenger's, both on the control socket. */
const BUTTONS = { buttons: [{ name: "talk", driver: "control" }, { name: "passenger", driver: "control", user_id: "passenger" }] };


describe("a button's own user on Coze", { timeout: 90_000 }, () => {
  test("each user's turn goes out under their user_id, each user in their own conversation, continued when they come back", async () => {
    const dev = await startDevice({ rig: { micPcm: speechLoop(60) }, config: { board_overrides: BUTTONS } });
    try {
      const turns = [await buttonTurn(dev, "talk"), await buttonTurn(dev, "passenger"), await buttonTurn(dev, "talk")];
      assert.deepEqual(turns.map((t) => t.userId), ["talkbox", "passenger", "talkbox"]);
      const [a, b, c] = turns.map((t) => t.conversationId);
      assert.notEqual(a, b, "the passenger joined the driver's conversation");
      assert.equal(c, a, "the device's user did not continue their conversation");
      const updates = dev.emulator
        .sessions()[0]!
        .received.map((r) => r.event)
        .filter((e) => e?.event_type === "chat.update")
        .map((e) => (e!.data as { chat_config?: Record<string, unknown> }).chat_config);
      // The link's own, then one per change of user: the passenger's names no conversation (a new one), the return names the first.
      assert.deepEqual(updates.slice(1), [
        { user_id: "passenger", auto_save_history: true },
        { user_id: "talkbox", auto_save_history: true, conversation_id: a },
      ]);
      assert.equal(dev.emulator.sessions().length, 1);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("a button's own user on OpenAI Realtime", { timeout: 90_000 }, () => {
  test("one conversation, and a system message telling the model who speaks whenever that changes", async () => {
    const dev = await startDevice({
      realtime: { flavour: "openai" },
      rig: { micPcm: speechLoop(60) },
      config: { board_overrides: BUTTONS, audio: { uplink_rate: 24000, downlink_rate: 24000 } },
    });
    try {
      for (const name of ["talk", "passenger", "passenger", "talk"]) {
        const from = dev.daemon.logs.length;
        await dev.control.request({ Command: "Button", Name: name, Action: "down" });
        await dev.appends(20);
        await dev.control.request({ Command: "Button", Name: name, Action: "up" });
        await dev.daemon.waitForState("idle", 15_000, from + 2);
      }
      const session = dev.emulator.realtimeSessions()[0]!;
      const told = session.received
        .filter((r) => r.type === "conversation.item.create")
        .map((r) => r.event!.item as { role: string; content: { text: string }[] })
        .map((i) => `${i.role}: ${i.content[0]!.text}`);
      assert.deepEqual(told, ['system: From now on the speaker is the user "passenger".', "system: From now on the device's usual user is speaking."]);
      assert.equal(dev.emulator.realtimeSessions().length, 1);
      assert.deepEqual(session.errors, []);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
