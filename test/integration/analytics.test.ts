/**
 * Conversation analytics on the rig (issue 17): the compiled daemon against the emulator's Coze,
 * a scripted series of turns — two users, a barge-in, a new conversation, a restart that
 * continues — then `talkbox stats` and the Prometheus file, whose counts must be exact and
 * whose latencies must match what the device measured of each turn.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { daemonPlayback, startDevice } from "../support/device";
import { until } from "../support/daemon-process";
import { buttonTurn } from "../support/button-turn";
import { speechLoop } from "../support/speech";
import { parsePrometheus, sample } from "../support/prometheus";
import { statsCommand } from "../../src/cli/stats";
import type { StatsAnswer } from "../../src/core/analytics";

const BUTTONS = { buttons: [{ name: "talk", driver: "control" }, { name: "passenger", driver: "control", user_id: "passenger" }] };

async function stats(socket: string, args: { since?: string } = {}): Promise<StatsAnswer> {
  const lines: string[] = [];
  const code = await statsCommand({ socket, json: true, ...args, out: (l) => lines.push(l), err: (l) => lines.push(l) });
  assert.equal(code, 0, lines.join("\n"));
  return JSON.parse(lines.join("\n")) as StatsAnswer;
}

describe("conversation analytics (Coze, on the rig)", { timeout: 180_000 }, () => {
  test("stats and the Prometheus file count a scripted series of turns exactly", async () => {
    let prom = "";
    const dev = await startDevice({ rig: { micPcm: speechLoop(120) }, config: { board_overrides: BUTTONS, analytics: {} } });
    const promFile = path.join(dev.rig.dir, "talkbox.prom");
    try {
      await dev.restartDaemon({ analytics: { prometheus_file: promFile } });
      const a = await buttonTurn(dev, "talk", 30);
      // A barge-in: the second reply is cut short by the third turn's press.
      await dev.control.request({ Command: "Button", Name: "talk", Action: "down" });
      await dev.appends(150);
      await dev.control.request({ Command: "Button", Name: "talk", Action: "up" });
      await dev.daemon.waitForState("speaking");
      const played = daemonPlayback(dev.rig).bytes.length;
      await until(() => daemonPlayback(dev.rig).bytes.length > played + 3_200, "the second reply at the speaker");
      const c = await buttonTurn(dev, "talk", 30);
      assert.ok(
        dev.daemon.logs.some((l) => l.msg === "state listening" && (l as { from?: string }).from === "speaking"),
        "the third press was no barge-in: the second reply had ended",
      );
      const d = await buttonTurn(dev, "passenger", 30);
      await dev.control.request({ Command: "NewConversation", User: "talkbox" });
      const e = await buttonTurn(dev, "talk", 30);
      assert.equal(c.conversationId, a.conversationId);
      assert.notEqual(e.conversationId, a.conversationId);

      const s = await stats(dev.socket);
      assert.deepEqual(
        s.totals.map((r) => [r.agent, r.conversations, r.userTurns, r.replies, r.interruptions, r.errors]),
        [["default", 3, 5, 5, 1, 0]],
      );
      const byId = new Map<string | null | undefined, (typeof s.conversations)[number]>(s.conversations.map((x) => [x.conversationId, x]));
      assert.deepEqual(
        [a.conversationId, d.conversationId, e.conversationId].map((id) => [byId.get(id)?.user, byId.get(id)?.userTurns, byId.get(id)?.interruptions]),
        [
          ["talkbox", 3, 1],
          ["passenger", 1, 0],
          ["talkbox", 1, 0],
        ],
      );
      // The last turn's latency as the device measured it is the one stored.
      const last = (await dev.status()).LastTurn as { endOfSpeechToFirstSoundMs: number };
      assert.ok(last.endOfSpeechToFirstSoundMs > 0 && last.endOfSpeechToFirstSoundMs < 5000, `latency ${last.endOfSpeechToFirstSoundMs} ms`);
      assert.equal(byId.get(e.conversationId)!.latencyP50Ms, last.endOfSpeechToFirstSoundMs);

      // A restart continues the device user's conversation: still three conversations, one more turn.
      await dev.restartDaemon({}, () => {
        prom = fs.readFileSync(promFile, "utf8");
      });
      const f = await buttonTurn(dev, "talk", 30);
      assert.equal(f.conversationId, e.conversationId);
      const after = await stats(dev.socket);
      assert.deepEqual(after.totals.map((r) => [r.conversations, r.userTurns]), [[3, 6]]);
      assert.equal(after.conversations.find((x) => x.conversationId === e.conversationId)!.userTurns, 2);
      assert.deepEqual((await stats(dev.socket, { since: "1m" })).totals.map((r) => r.conversations), [3]);
    } finally {
      await dev.stop().catch(() => {});
    }

    // The file as the first run left it at its stop, read by the official parser.
    const samples = parsePrometheus(prom);
    const agent = { agent: "default" };
    assert.deepEqual(
      ["conversations", "user_turns", "replies", "interruptions", "turn_errors"].map((n) => sample(samples, `talkbox_${n}_total`, agent)),
      [3, 5, 5, 1, 0],
    );
    assert.equal(sample(samples, "talkbox_reply_latency_seconds_count", agent), 5);
    assert.equal(sample(samples, "talkbox_reply_latency_seconds_bucket", { ...agent, le: "+Inf" }), 5);
    const sum = sample(samples, "talkbox_reply_latency_seconds_sum", agent)!;
    assert.ok(sum > 0 && sum < 25, `latency sum ${sum} s`);
  });
});
