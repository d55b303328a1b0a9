/**
 * Agent profiles (issue 17) on the rig: the compiled daemon with two profiles on two backends,
 * the default on the emulator's Coze and a tutor on its Realtime gateway (a Coze bot behind
 * it, so its conversation id is kept too). Switched by the agent's switch_agent tool, by the
 * control command and by the CLI; at most one link open at any time; each profile keeps its
 * own conversation, which the emulator sees continued after a restart; the profile in use
 * survives a restart; a profile that cannot connect is named and the previous one comes back.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startDevice, type Device } from "../support/device";
import { until } from "../support/daemon-process";
import { buttonTurn } from "../support/button-turn";
import { speechLoop } from "../support/speech";
import type { ControlReply } from "../../src/control/client";
import { follow, linkConversation } from "../support/state-stream";
import { agentCommand } from "../../src/cli/agents";
import { newConversationCommand } from "../../src/cli/new-conversation";

const TUTOR_BOT = "7000000000000000009";
const PROFILES = (realtimeUrl: string) => ({
  tutor: {
    backend: "realtime",
    url: realtimeUrl,
    token: "tutor-token-5678",
    display_name: "Tutor",
    intro: "Hi, I am your tutor.",
    led_color: "#00ff00",
    realtime: { flavour: "volcengine", coze_bot_id: TUTOR_BOT },
  },
});


/** Links open now, over both protocols. */
function openLinks(dev: Device): number {
  return dev.emulator.sessions().filter((s) => s.open).length + dev.emulator.realtimeSessions().filter((s) => s.open).length;
}

const profile = (status: string, name: string) => (f: ControlReply) => f.Event === "Profile" && f.Status === status && f.Name === name;

/** A push-to-talk turn on the Realtime profile; resolves once its answer is heard and the device rests. */
async function realtimeTurn(dev: Device): Promise<void> {
  const from = dev.daemon.logs.length;
  const answered = new Promise<void>((resolve) => {
    const on = (r: { status: string; toolCalls: unknown[] }): void => {
      if (r.status !== "completed" || r.toolCalls.length > 0) return;
      dev.emulator.events.off("realtime-response", on);
      resolve();
    };
    dev.emulator.events.on("realtime-response", on);
  });
  const appended = new Promise<void>((resolve) => {
    let n = 0;
    const on = (_i: number, rec: { event: Record<string, unknown> | null }): void => {
      if (rec.event?.type !== "input_audio_buffer.append" || ++n < 30) return;
      dev.emulator.events.off("realtime-client-event", on);
      resolve();
    };
    dev.emulator.events.on("realtime-client-event", on);
  });
  await dev.press();
  await appended;
  await dev.release();
  await answered;
  await dev.daemon.waitForLog((l) => l.msg === "state speaking", 15_000, from);
  await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findIndex((l, i) => i >= from && l.msg === "state speaking"));
}

describe("agent profiles: two agents on two backends", { timeout: 180_000 }, () => {
  test("switch by the switch_agent tool and by command; each keeps its conversation across restarts; one link at a time", async () => {
    const dev = await startDevice({ rig: { micPcm: speechLoop(120) } });
    try {
      // The device started before the emulator's address was known: restart with the profiles (each restart names them).
      const profiles = { agents: PROFILES(dev.emulator.realtimeUrl), agent: { display_name: "Assistant", intro: "Hello, assistant here." } };
      await dev.restartDaemon(profiles);
      const stream = await follow(dev);
      const assistant = (await buttonTurn(dev, "talk", 30)).conversationId;
      assert.equal(openLinks(dev), 1);

      // The assistant's agent calls switch_agent in its next answer: it is answered, then the tutor takes over.
      dev.emulator.scriptToolCall({ name: "switch_agent", arguments: '{"name":"Tutor"}' });
      await dev.press();
      await dev.appends(30);
      await dev.release();
      await stream.next(profile("switching", "tutor"), "the switch to the tutor");
      await stream.next(profile("active", "tutor"), "the tutor in use");
      const output = dev.emulator.toolOutputs().find((o) => o.output.includes('"agent":"tutor"'));
      assert.ok(output, "the tool call was not answered before the switch");
      await stream.next((f) => f.Event === "Announcement" && f.Source === "agent-intro" && f.Text === "Hi, I am your tutor." && f.Status === "completed", "the tutor's intro");
      assert.equal(openLinks(dev), 1, "the assistant's link stayed open beside the tutor's");
      assert.deepEqual((await dev.status()).Profile, { Name: "tutor", Title: "Tutor", Backend: "realtime" });

      await realtimeTurn(dev);
      const tutor = dev.emulator.realtimeSessions().at(-1)!;
      assert.equal(tutor.cozeBotId, TUTOR_BOT);
      assert.equal(tutor.headers.authorization, "Bearer tutor-token-5678", "the tutor's own token");

      // Back by command: the assistant's conversation continues where it was.
      const back = await dev.control.request({ Command: "Agent", Name: "default" });
      assert.deepEqual([back.Ok, back.Result, back.Agent, back.Title], [true, "switched", "default", "Assistant"]);
      assert.equal(linkConversation(dev), assistant, "the assistant's conversation did not continue after the switch back");
      assert.equal(openLinks(dev), 1);

      // A restart: the assistant (in use at the stop) and its conversation again.
      await dev.restartDaemon(profiles);
      assert.equal(linkConversation(dev), assistant);
      assert.equal((await buttonTurn(dev, "talk", 30)).conversationId, assistant);

      // The tutor by the CLI: its conversation continues too (the gateway's X-Conversation-Id).
      const lines: string[] = [];
      assert.equal(await agentCommand({ socket: dev.socket, name: "tutor", out: (l) => lines.push(l), err: (l) => lines.push(l) }), 0, lines.join("\n"));
      assert.deepEqual(lines, ["now talking to Tutor (tutor)"]);
      const again = dev.emulator.realtimeSessions().at(-1)!;
      assert.equal(again.headers["x-conversation-id"], tutor.sessionId, "the tutor's conversation did not continue");
      assert.equal(openLinks(dev), 1);

      // A restart comes back to the tutor, its conversation continued, no intro at start.
      const before = dev.emulator.realtimeSessions().length;
      await dev.restartDaemon(profiles);
      assert.equal(dev.emulator.realtimeSessions().length, before + 1);
      assert.equal(dev.emulator.realtimeSessions().at(-1)!.headers["x-conversation-id"], tutor.sessionId);
      assert.equal(dev.daemon.logs.some((l) => l.source === "agent-intro"), false);

      // A new conversation for the profile not in use: forgotten without its link; the next time it starts afresh.
      assert.equal((await dev.control.request({ Command: "Agent", Name: "default" })).Ok, true);
      assert.equal(await newConversationCommand({ socket: dev.socket, agent: "tutor", out: () => {} }), 0);
      // state.json is written off the main thread, after the command's answer.
      const saved = (): string[] => {
        const state = JSON.parse(fs.readFileSync(path.join(dev.rig.dir, "state", "state.json"), "utf8")) as Record<string, unknown>;
        return Object.keys(state).filter((k) => k.startsWith("conversations."));
      };
      await until(() => saved().length === 1, "the tutor's saved conversation forgotten in state.json", 5000).catch(() => {});
      assert.deepEqual(saved(), ["conversations.coze.7000000000000000001"], "the tutor's saved conversation was not forgotten");
      assert.equal((await dev.control.request({ Command: "Agent", Name: "tutor" })).Ok, true);
      assert.equal(dev.emulator.realtimeSessions().at(-1)!.headers["x-conversation-id"], undefined);
      assert.equal(linkConversation(dev), assistant, "the assistant's conversation was forgotten too");

      // The analytics count each profile's turns under its name.
      const stats = (await dev.control.request({ Command: "Stats" })).Stats as { totals: Array<{ agent: string; userTurns: number }> };
      const turns = Object.fromEntries(stats.totals.map((a) => [a.agent, a.userTurns]));
      assert.ok(turns.default! >= 3 && turns.tutor! >= 1, `stats per agent: ${JSON.stringify(stats.totals)}`);
      await stream.close();
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("a profile whose agent refuses is named in the error, and the previous profile is back in use", async () => {
    const dev = await startDevice({
      emulator: { token: "test-token-1234" },
      config: { agents: { guest: { token: "wrong-token-0000", coze: { bot_id: "7000000000000000002" } } } },
    });
    try {
      const stream = await follow(dev);
      const reply = await dev.control.request({ Command: "Agent", Name: "guest" });
      assert.equal(reply.Ok, false);
      assert.match(String(reply.Error), /'guest' \(Coze\) could not connect: auth: .*back to 'default'/);
      const failed = await stream.next(profile("failed", "guest"), "the failed switch");
      assert.equal(failed.From, "default");
      await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findIndex((l) => l.msg === "state connecting" && l.cause === "agent.switch"));
      const status = await dev.status();
      assert.deepEqual([status.State, (status.Link as { state: string }).state, (status.Profile as { Name: string }).Name], ["idle", "ready", "default"]);
      assert.equal(openLinks(dev), 1);
      assert.equal(String(reply.Error).includes("wrong-token-0000"), false, "a token in the reply");
      await stream.close();
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
