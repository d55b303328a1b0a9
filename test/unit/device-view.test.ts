/**
 * The device-status tool's status source: it exists before the conversation, says
 * "starting" until it follows one, then takes where the conversation is and what it reports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { DeviceView } from "../../src/app/device-view";
import type { DeviceStatus } from "../../src/device/conversation";

class FakeConversation extends EventEmitter {
  status(): DeviceStatus {
    return {
      State: "connecting",
      Mode: "free",
      Link: { state: "connecting", since: "2026-12-05T00:00:00.000Z" },
      Playing: false,
      Underruns: 0,
      LastTurn: null,
      Agent: { Reachable: false, Answering: null, ConsecutiveFailures: 0 },
    };
  }
}

test("the view says starting before a conversation exists, then follows the conversation's state, mode and link", () => {
  const view = new DeviceView("push-to-talk");
  assert.deepEqual(view.snapshot(), { state: "starting", mode: "push-to-talk", link: "connecting" });

  const conversation = new FakeConversation();
  view.follow(conversation);
  assert.deepEqual(view.snapshot(), { state: "connecting", mode: "free", link: "connecting" });

  conversation.emit("activity", { kind: "link", state: "ready" });
  conversation.emit("activity", { kind: "state", state: "listening", from: "connecting", cause: "link.ready", mode: "free" });
  conversation.emit("activity", { kind: "transcript", text: "hello" });
  assert.deepEqual(view.snapshot(), { state: "listening", mode: "free", link: "ready" });

  conversation.emit("activity", { kind: "state", state: "idle", from: "listening", cause: "mode", mode: "push-to-talk" });
  conversation.emit("activity", { kind: "link", state: "down", problem: "network", message: "gone" });
  assert.deepEqual(view.snapshot(), { state: "idle", mode: "push-to-talk", link: "down" });
});
