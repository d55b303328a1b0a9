/**
 * The conversation's two mappings alone, with recording fakes for every stage: the state
 * machine's effects → stage calls (effect-runner.ts), and the agent's events → stage calls
 * and machine inputs (agent-listener.ts). What is checked is which calls happen, in which
 * order, and what is left alone; the stages themselves have their own tests.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EffectRunner } from "../../src/device/effect-runner";
import { AgentListener } from "../../src/device/agent-listener";
import type { DeviceInput } from "../../src/device/state-machine";
import type { DeviceActivity } from "../../src/core/activity";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";

/** A stage whose every method records `stage.method(args)` and returns what `returns` says. */
function recorder<T>(name: string, calls: string[], returns: Record<string, unknown> = {}, props: Record<string, unknown> = {}): T {
  return new Proxy(props, {
    get(target, key: string) {
      if (key in target) return target[key];
      return (...args: unknown[]) => {
        calls.push(`${name}.${key}(${args.map((a) => JSON.stringify(a)).join(",")})`);
        const r = returns[key];
        return typeof r === "function" ? (r as (...a: unknown[]) => unknown)(...args) : r;
      };
    },
  }) as T;
}

function effects(opts: { usable?: boolean; commit?: "held" | boolean; reached?: boolean; decidesTurns?: boolean; framesSent?: number } = {}) {
  const calls: string[] = [];
  const reports: DeviceActivity[] = [];
  const runner = new EffectRunner({
    mic: recorder("mic", calls),
    turns: recorder("turns", calls, { commit: opts.commit ?? true, resend: true, abort: opts.reached ?? true }),
    stats: recorder("stats", calls, {}, { current: { framesSent: opts.framesSent ?? 3 } }),
    replies: recorder("replies", calls, { heardMs: 1234 }),
    gate: recorder("gate", calls),
    announcer: recorder("announcer", calls),
    slowReply: recorder("slowReply", calls),
    texts: recorder("texts", calls),
    link: { usable: opts.usable ?? true },
    backend: recorder("backend", calls),
    log: silentLogger(),
    clock: new FakeClock(),
    decidesTurns: () => opts.decidesTurns ?? false,
    report: (a) => void reports.push(a),
  });
  return { runner, calls, reports };
}

describe("effects → stage calls", () => {
  test("a turn begins on the mic, in the stats and in the turn buffer, live when the link is usable", () => {
    const { runner, calls } = effects({ usable: false });
    runner.run({ type: "turn.begin", userId: "u1" });
    assert.deepEqual(calls, ["mic.startTurn()", 'stats.begin("u1")', 'turns.begin("u1",false)']);
  });

  test("a barge-in marks the reply stale before it asks the backend to cancel, with what was heard", () => {
    const { runner, calls } = effects();
    runner.run({ type: "reply.cancel" });
    assert.deepEqual(calls, ["replies.interrupt()", "replies.heardMs()", "backend.cancelReply(1234)", "stats.interrupt()", 'stats.outcome("canceled",true)']);
  });

  test("a reply discarded for speech asks the backend to stop only when the device decides the turns", () => {
    const server = effects({ decidesTurns: false });
    server.runner.run({ type: "reply.discard" });
    assert.ok(!server.calls.some((c) => c.startsWith("backend.")), server.calls.join(" "));
    const local = effects({ decidesTurns: true });
    local.runner.run({ type: "reply.discard" });
    assert.ok(local.calls.includes("backend.cancelReply(1234)"), local.calls.join(" "));
  });

  test("a held turn's commit waits for the link: no reply is expected yet", () => {
    const { runner, calls } = effects({ commit: "held" });
    runner.run({ type: "turn.commit" });
    assert.deepEqual(calls.slice(0, 2), ["mic.finishTurn()", "turns.commit()"]);
    assert.match(calls[2] ?? "", /^stats\.speechEnded\(\d+,\d+,true\)$/);
    assert.ok(!calls.includes("replies.turnCommitted()"));
  });

  test("a sent turn's commit tells the reply player a reply may come", () => {
    const { runner, calls } = effects({ commit: true });
    runner.run({ type: "turn.commit" });
    assert.equal(calls.at(-1), "replies.turnCommitted()");
  });

  test("an aborted turn is aborted on the agent only if it reached it and the link is up", () => {
    for (const [reached, usable, expected] of [
      [true, true, true],
      [false, true, false],
      [true, false, false],
    ] as const) {
      const { runner, calls } = effects({ reached, usable });
      runner.run({ type: "turn.abort" });
      assert.equal(calls.includes("backend.abortTurn()"), expected, `reached ${reached}, usable ${usable}: ${calls.join(" ")}`);
    }
  });

  test("an aborted turn with no frame sent counts as empty", () => {
    const { runner, calls } = effects({ framesSent: 0 });
    runner.run({ type: "turn.abort" });
    assert.equal(calls.at(-1), 'stats.outcome("empty")');
  });

  test("a flush empties the reply player and opens the echo gate; a notice is reported", () => {
    const { runner, calls, reports } = effects();
    runner.run({ type: "playback.flush" });
    runner.run({ type: "notice", level: "warn", message: "careful" });
    assert.deepEqual(calls, ["replies.flush()", "gate.playbackFlushed()"]);
    assert.deepEqual(reports, [{ kind: "notice", level: "warn", message: "careful" }]);
  });
});

function listener(returns: { ready?: boolean; started?: boolean; audio?: boolean; fresh?: boolean; done?: unknown } = {}) {
  const calls: string[] = [];
  const inputs: DeviceInput[] = [];
  const reports: DeviceActivity[] = [];
  const agent = new AgentListener({
    link: recorder("link", calls, { ready: returns.ready ?? true }),
    turns: recorder("turns", calls),
    replies: recorder("replies", calls, {
      started: returns.started ?? true,
      audio: returns.audio ?? true,
      fresh: returns.fresh ?? true,
      done: returns.done ?? { kind: "done", status: "completed", cutShort: false },
    }),
    stats: recorder("stats", calls),
    tools: recorder("tools", calls, { call: Promise.resolve() }),
    log: silentLogger(),
    dispatch: (input) => {
      calls.push(`dispatch ${input.type}`);
      inputs.push(input);
    },
    speechStarted: () => void calls.push("speechStarted"),
    speechStopped: () => void calls.push("speechStopped"),
    report: (a) => void reports.push(a),
  });
  return { agent, calls, inputs, reports };
}

const PCM16 = { codec: "pcm" as const, sampleRate: 16000, channels: 1 as const };

describe("agent events → stage calls and machine inputs", () => {
  test("a link the monitor accepts is ready for the machine first, then a held turn is released", () => {
    const { agent, calls } = listener();
    agent.handle({ type: "link.ready", input: PCM16, output: PCM16 });
    assert.deepEqual(calls.slice(1), ["dispatch link.ready", "turns.release()"]);
  });

  test("a link whose formats the monitor refuses never reaches the machine", () => {
    const { agent, calls, inputs } = listener({ ready: false });
    agent.handle({ type: "link.ready", input: PCM16, output: PCM16 });
    assert.deepEqual(inputs, []);
    assert.ok(!calls.includes("turns.release()"));
  });

  test("a dropped link reaches the turn buffer and the reply player before the machine", () => {
    const { agent, calls, inputs } = listener();
    agent.handle({ type: "link.down", problem: "network", message: "gone", retryInMs: 500 });
    assert.deepEqual(calls, ['link.down("network","gone",500)', "turns.linkDown()", "replies.linkLost()", "dispatch link.down"]);
    assert.deepEqual(inputs, [{ type: "link.down", problem: "network", message: "gone" }]);
  });

  test("audio of a reply the player drops is not an input", () => {
    const { agent, inputs } = listener({ audio: false });
    agent.handle({ type: "reply.audio", replyId: "r1", audio: Buffer.alloc(4) });
    assert.deepEqual(inputs, []);
  });

  test("a stale reply's end is nothing; a cut-short one completes with what was kept; an error carries its message", () => {
    const stale = listener({ done: { kind: "stale" } });
    stale.agent.handle({ type: "reply.done", replyId: "r1", status: "completed" });
    assert.deepEqual(stale.inputs, []);

    const cut = listener({ done: { kind: "done", status: "completed", cutShort: true } });
    cut.agent.handle({ type: "reply.done", replyId: "r1", status: "canceled" });
    assert.deepEqual(cut.inputs, [{ type: "reply.done", status: "completed" }]);

    const failed = listener({ done: { kind: "done", status: "failed", cutShort: false } });
    failed.agent.handle({ type: "reply.done", replyId: "r1", status: "failed", error: { code: 500, message: "boom" } });
    assert.deepEqual(failed.inputs, [{ type: "reply.done", status: "failed", message: "boom" }]);
  });

  test("only final transcripts and the fresh reply's final text are reported", () => {
    const { agent, reports } = listener();
    agent.handle({ type: "user.transcript", text: "hal", final: false });
    agent.handle({ type: "user.transcript", text: "hello", final: true });
    agent.handle({ type: "reply.text", replyId: "r1", text: "hi", final: true });
    assert.deepEqual(reports, [
      { kind: "transcript", text: "hello" },
      { kind: "reply", text: "hi" },
    ]);
    const stale = listener({ fresh: false });
    stale.agent.handle({ type: "reply.text", replyId: "r0", text: "old", final: true });
    assert.deepEqual(stale.reports, []);
  });

  test("the server's VAD speaks through the same speech hooks as the device's", () => {
    const { agent, calls } = listener();
    agent.handle({ type: "input.speech_started" });
    agent.handle({ type: "input.speech_stopped" });
    assert.deepEqual(calls, ["speechStarted", "speechStopped"]);
  });

  test("a tool call goes to the bridge and is not an input", () => {
    const { agent, calls, inputs } = listener();
    agent.handle({ type: "tool.call", callId: "c1", name: "get_status", arguments: "{}" });
    assert.deepEqual(calls, ['tools.call("c1","get_status","{}")']);
    assert.deepEqual(inputs, []);
  });
});
