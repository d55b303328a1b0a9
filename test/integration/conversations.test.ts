/**
 * Conversations that continue (issue 17): the compiled daemon on the rig against the emulator's
 * Coze, restarted on the same state directory. Each user's conversation id is saved and sent
 * again after a restart (the emulator records the same id); conversation.continue's age rule
 * decides for a conversation from before the restart; a long press or NewConversation starts
 * a new one for one user.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startDevice, type Device } from "../support/device";
import { buttonTurn } from "../support/button-turn";
import { linkConversation } from "../support/state-stream";
import { speechLoop } from "../support/speech";
import { newConversationCommand } from "../../src/cli/new-conversation";

/** The sim board's talk button, and a passenger's, both on the control socket. */
const BUTTONS = { buttons: [{ name: "talk", driver: "control" }, { name: "passenger", driver: "control", user_id: "passenger" }] };
const SCOPE = "conversations.coze.7000000000000000001";


const stateFile = (dev: Device): string => path.join(dev.rig.dir, "state", "state.json");

/** The saved conversations, as the daemon left them in state.json. */
function saved(dev: Device): Record<string, { id: string; at: number }> {
  const state = JSON.parse(fs.readFileSync(stateFile(dev), "utf8")) as Record<string, unknown>;
  return JSON.parse(state[SCOPE] as string) as Record<string, { id: string; at: number }>;
}

/** Makes every saved conversation's last turn `minutes` old, as if the device had been off that long. */
function ageBy(dev: Device, minutes: number): void {
  const state = JSON.parse(fs.readFileSync(stateFile(dev), "utf8")) as Record<string, unknown>;
  const book = saved(dev);
  for (const e of Object.values(book)) e.at = Date.now() - minutes * 60_000;
  state[SCOPE] = JSON.stringify(book);
  fs.writeFileSync(stateFile(dev), JSON.stringify(state));
}


describe("conversations that continue across restarts (Coze)", { timeout: 120_000 }, () => {
  test("each user's conversation id is saved and continued after a restart", async () => {
    const dev = await startDevice({ rig: { micPcm: speechLoop(90) }, config: { board_overrides: BUTTONS } });
    try {
      const driver = (await buttonTurn(dev, "talk", 30)).conversationId;
      const passenger = (await buttonTurn(dev, "passenger", 30)).conversationId;
      assert.notEqual(driver, passenger);
      await dev.restartDaemon();
      assert.equal(dev.emulator.sessions().length, 2);
      assert.equal(linkConversation(dev), driver, "the new link did not continue the device user's conversation");
      const again = [await buttonTurn(dev, "talk", 30), await buttonTurn(dev, "passenger", 30)];
      assert.deepEqual(
        again.map((t) => [t.userId, t.conversationId]),
        [
          ["talkbox", driver],
          ["passenger", passenger],
        ],
      );
      assert.deepEqual(Object.keys(saved(dev)).sort(), ["passenger", "talkbox"]);
      assert.deepEqual((await dev.status()).Agent, { Reachable: true, Answering: true, ConsecutiveFailures: 0 });
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test('conversation.continue "30m": a conversation whose last turn was 29 minutes before continues, 31 minutes does not; false never', async () => {
    const dev = await startDevice({ rig: { micPcm: speechLoop(90) } });
    try {
      const first = (await buttonTurn(dev, "talk", 30)).conversationId;
      await dev.restartDaemon({}, () => ageBy(dev, 29));
      assert.equal(linkConversation(dev), first);
      assert.equal((await buttonTurn(dev, "talk", 30)).conversationId, first);

      await dev.restartDaemon({}, () => ageBy(dev, 31));
      assert.equal(linkConversation(dev), undefined, "a conversation idle for 31 minutes was continued");
      const second = (await buttonTurn(dev, "talk", 30)).conversationId;
      assert.notEqual(second, first);
      assert.equal(saved(dev).talkbox!.id, second, "the new conversation was not saved");

      await dev.restartDaemon({ conversation: { continue: false } });
      assert.equal(linkConversation(dev), undefined, "continue: false continued the conversation");
      assert.notEqual((await buttonTurn(dev, "talk", 30)).conversationId, second);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("NewConversation for one user, and a long press on their button, start a new conversation for that user only", async () => {
    const dev = await startDevice({ rig: { micPcm: speechLoop(90) }, config: { board_overrides: BUTTONS } });
    try {
      const driver = (await buttonTurn(dev, "talk", 30)).conversationId;
      const passenger = (await buttonTurn(dev, "passenger", 30)).conversationId;
      const out: string[] = [];
      assert.equal(await newConversationCommand({ socket: dev.socket, user: "passenger", out: (l) => out.push(l) }), 0);
      assert.deepEqual(out, ["new conversation for passenger: their next question starts it"]);
      const fresh = (await buttonTurn(dev, "passenger", 30)).conversationId;
      assert.notEqual(fresh, passenger);
      assert.equal((await buttonTurn(dev, "talk", 30)).conversationId, driver, "the driver's conversation was lost");

      // A long press on the passenger's button: the same, from the button (free conversation
      // is not needed for a gesture the head unit recognised itself).
      await dev.control.request({ Command: "Button", Name: "passenger", Action: "long" });
      const after = (await buttonTurn(dev, "passenger", 30)).conversationId;
      assert.notEqual(after, fresh);
      await dev.restartDaemon();
      assert.equal(linkConversation(dev), driver);
      assert.equal((await buttonTurn(dev, "passenger", 30)).conversationId, after);
      assert.equal((await buttonTurn(dev, "talk", 30)).conversationId, driver);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
