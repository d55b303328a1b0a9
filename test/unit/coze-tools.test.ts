/**
 * Tool calls over the Coze link: requires_action → tool.call events → the device's
 * tools run → one submit_tool_outputs for the chat. The server is a small scripted
 * WebSocket server on loopback that plays Coze's side of the exchange.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { CozeBackend } from "../../src/agent/coze/client";
import { encodeEvent, type WireEvent } from "../../src/agent/coze/protocol";
import { translate, type ReplyTracker } from "../../src/agent/coze/translate";
import type { AgentEvent } from "../../src/agent/events";
import { percentToGain } from "../../src/audio/playback/gain";
import { silentLogger } from "../../src/log/logger";
import { cozeLinkOptions } from "../support/coze-link";
import { MemoryStateStore } from "../../src/state/store";
import { ToolRunner } from "../../src/tools/runner";
import { Volume, volumeTools } from "../../src/app/tools/volume";

type Received = WireEvent<Record<string, unknown>>;

/** Coze's side: completes the session setup, records what the client sends, sends what the test says. */
class ScriptedServer {
  private wss!: WebSocketServer;
  private socket: WebSocket | null = null;
  readonly received: Received[] = [];
  private waiters: Array<{ type: string; resolve: (e: Received) => void }> = [];

  async start(): Promise<string> {
    this.wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => this.wss.once("listening", () => resolve()));
    this.wss.on("connection", (ws) => {
      this.socket = ws;
      ws.send(encodeEvent("chat.created"));
      ws.on("message", (data) => {
        const e = JSON.parse(String(data)) as Received;
        if (e.event_type === "chat.update") ws.send(encodeEvent("chat.updated", {}));
        this.received.push(e);
        for (const w of this.waiters.splice(0)) (w.type === e.event_type ? w.resolve(e) : this.waiters.push(w));
      });
    });
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/v1/chat`;
  }

  send(eventType: string, data?: unknown): void {
    this.socket!.send(encodeEvent(eventType, data));
  }

  next(type: string): Promise<Received> {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  sent(type: string): Received[] {
    return this.received.filter((e) => e.event_type === type);
  }

  dropClient(): void {
    this.socket?.terminate();
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

function requiresAction(chatId: string, calls: unknown[]): Record<string, unknown> {
  return {
    id: chatId,
    conversation_id: "conv-1",
    bot_id: "bot",
    status: "requires_action",
    required_action: { type: "submit_tool_outputs", submit_tool_outputs: { tool_calls: calls } },
  };
}

const call = (id: string, name: string, args: string) => ({ id, type: "function", function: { name, arguments: args } });

/** The Coze link with the volume tools; `serve`: answer tool calls by themselves (else the test answers). */
async function device(url: string, serve = true) {
  const backend = new CozeBackend(
    cozeLinkOptions(url, { botId: "bot", token: "tok", reconnect: { initialMs: 60_000, maxMs: 60_000, authFailureMs: 300_000 } }),
    silentLogger(),
  );
  const events: AgentEvent[] = [];
  const waiters: Array<{ type: string; resolve: (e: AgentEvent) => void }> = [];
  backend.subscribe((e) => {
    events.push(e);
    for (const w of waiters.splice(0)) (w.type === e.type ? w.resolve(e) : waiters.push(w));
  });
  const next = (type: AgentEvent["type"]): Promise<AgentEvent> => new Promise((resolve) => waiters.push({ type, resolve }));
  const gains: number[] = [];
  const volume = await Volume.open({
    config: { driver: "software", mixer_control: "PCM", initial_percent: 80 },
    store: new MemoryStateStore(),
    log: silentLogger(),
    playback: { setGain: (g) => void gains.push(g) },
  });
  const runner = new ToolRunner(volumeTools(volume), { log: silentLogger() });
  // What the conversation does with a tool.call (src/device/conversation.ts runTool).
  if (serve) {
    backend.subscribe((e) => {
      if (e.type === "tool.call") void runner.run(e.name, e.arguments).then((output) => backend.submitToolOutputs([{ callId: e.callId, output }]));
    });
  }
  const ready = next("link.ready");
  backend.start();
  await ready;
  return { backend, events, next, volume, gains };
}

describe("Coze tool calls over the link", () => {
  let server: ScriptedServer;
  let url: string;
  let stop: Array<() => Promise<void>> = [];
  before(async () => {
    server = new ScriptedServer();
    url = await server.start();
  });
  afterEach(async () => {
    for (const s of stop.splice(0)) await s();
  });
  after(() => server.close());

  test("requires_action → tool.call events → the device acts → one submit_tool_outputs; the chat then completes", async () => {
    const d = await device(url);
    stop.push(() => d.backend.stop());
    const started = d.next("reply.started");
    server.send("conversation.chat.created", { id: "chat-1", conversation_id: "conv-1", status: "created" });
    server.send("conversation.chat.in_progress", { id: "chat-1", conversation_id: "conv-1", status: "in_progress" });
    await started;
    const submitted = server.next("conversation.chat.submit_tool_outputs");
    const from = d.events.length;
    server.send(
      "conversation.chat.requires_action",
      requiresAction("chat-1", [
        call("call-1", "set_volume", '{"percent": 30}'),
        call("call-2", "launch_rockets", "{}"),
        call("call-3", "set_volume", '{"percent": 500}'),
      ]),
    );
    const submit = await submitted;
    assert.deepEqual(
      d.events.slice(from).map((e) => (e.type === "tool.call" ? [e.callId, e.name] : e.type)),
      [["call-1", "set_volume"], ["call-2", "launch_rockets"], ["call-3", "set_volume"]],
      "the chat is not over: only the tool calls arrive",
    );
    assert.equal(server.sent("conversation.chat.submit_tool_outputs").length, 1, "one submission for all three calls");
    assert.equal(submit.data?.chat_id, "chat-1");
    const outputs = submit.data?.tool_outputs as Array<{ tool_call_id: string; output: string }>;
    assert.deepEqual(outputs.map((o) => o.tool_call_id), ["call-1", "call-2", "call-3"]);
    assert.deepEqual(JSON.parse(outputs[0]!.output), { percent: 30 });
    assert.match((JSON.parse(outputs[1]!.output) as { error: string }).error, /unknown tool 'launch_rockets'; this device has: set_volume, get_volume/);
    assert.match((JSON.parse(outputs[2]!.output) as { error: string }).error, /percent: Too big/);
    // The device acted: the speaker's gain follows the new volume.
    assert.equal(d.volume.percent, 30);
    assert.equal(d.gains.at(-1), percentToGain(30));

    // Coze goes on with the reply; the session carries on as usual.
    const done = d.next("reply.done");
    server.send("conversation.audio.delta", { id: "m1", chat_id: "chat-1", content: Buffer.alloc(640).toString("base64") });
    server.send("conversation.chat.completed", { id: "chat-1", conversation_id: "conv-1", status: "completed" });
    const r = await done;
    assert.deepEqual(r, { type: "reply.done", replyId: "chat-1", status: "completed" });
    assert.ok(d.events.some((e) => e.type === "reply.audio" && e.replyId === "chat-1"));

    // A later chat can call tools again.
    server.send("conversation.chat.created", { id: "chat-2", conversation_id: "conv-1" });
    const again = server.next("conversation.chat.submit_tool_outputs");
    server.send("conversation.chat.requires_action", requiresAction("chat-2", [call("call-9", "get_volume", "")]));
    const s2 = await again;
    assert.deepEqual(s2.data, { chat_id: "chat-2", tool_outputs: [{ tool_call_id: "call-9", output: '{"percent":30}' }] });
  });

  test("answers with nobody waiting (no requires_action, or the chat was canceled) are refused, nothing is sent", async () => {
    const d = await device(url, false);
    stop.push(() => d.backend.stop());
    assert.equal(d.backend.submitToolOutputs([{ callId: "x", output: "{}" }]), false);
    server.send("conversation.chat.created", { id: "chat-3" });
    const calls = d.next("tool.call");
    server.send("conversation.chat.requires_action", requiresAction("chat-3", [call("c1", "get_volume", "{}"), call("c2", "get_volume", "{}")]));
    await calls;
    assert.equal(d.backend.submitToolOutputs([{ callId: "other", output: "{}" }]), false, "a call this chat did not make");
    const canceled = d.next("reply.done");
    server.send("conversation.chat.canceled", {});
    await canceled;
    assert.equal(d.backend.submitToolOutputs([{ callId: "c1", output: "{}" }, { callId: "c2", output: "{}" }]), false);
    // A round trip later, still nothing was submitted for chat-3.
    const pong = server.next("input_audio_buffer.complete");
    assert.ok(d.backend.commitTurn());
    await pong;
    assert.deepEqual(server.sent("conversation.chat.submit_tool_outputs").filter((e) => e.data?.chat_id === "chat-3"), []);
  });

  test("the link drops while the tool runs: the answer is refused instead of thrown", async () => {
    const d = await device(url, false);
    stop.push(() => d.backend.stop());
    server.send("conversation.chat.created", { id: "chat-4" });
    const calls = d.next("tool.call");
    server.send("conversation.chat.requires_action", requiresAction("chat-4", [call("c1", "get_volume", "{}"), call("c2", "get_volume", "{}")]));
    await calls;
    const down = d.next("link.down");
    server.dropClient();
    await down;
    assert.equal(d.backend.submitToolOutputs([{ callId: "c1", output: "{}" }]), false);
  });
});

describe("translating requires_action", () => {
  const ev = (data: Record<string, unknown>): WireEvent<Record<string, unknown>> => ({ id: "e", event_type: "conversation.chat.requires_action", data });

  test("arguments given as an object are passed on as JSON text; missing ones as {}; a call without a name still gets an answer; a repeated id runs once", () => {
    const replies: ReplyTracker = { current: "chat-1" };
    const t = translate(
      ev(requiresAction("chat-1", [
        { id: "a", function: { name: "set_volume", arguments: { percent: 5 } } },
        { id: "b", function: { name: "get_volume" } },
        { id: "c", function: {} },
        { id: "a", function: { name: "set_volume", arguments: { percent: 5 } } },
        { function: { name: "no_id" } },
        "garbage",
      ])),
      replies,
    );
    assert.deepEqual(t, {
      kind: "events",
      events: [
        { type: "tool.call", callId: "a", name: "set_volume", arguments: '{"percent":5}' },
        { type: "tool.call", callId: "b", name: "get_volume", arguments: "{}" },
        { type: "tool.call", callId: "c", name: "", arguments: "{}" },
      ],
    });
    assert.deepEqual(replies.awaiting?.callIds, ["a", "b", "c"]);
    assert.equal(replies.awaiting?.chatId, "chat-1");
  });

  test("without tool calls, or without any chat id, it is invalid and nothing awaits", () => {
    const replies: ReplyTracker = { current: null };
    assert.equal(translate(ev({ id: "chat-1" }), replies).kind, "invalid");
    assert.equal(translate(ev(requiresAction("chat-1", [{ function: { name: "x" } }])), replies).kind, "invalid");
    const { id: _id, ...noId } = requiresAction("chat-1", [call("a", "x", "{}")]);
    assert.equal(translate(ev(noId), replies).kind, "invalid");
    assert.equal(replies.awaiting ?? null, null);
  });

  test("completed, failed and canceled chats stop waiting for answers", () => {
    for (const end of ["conversation.chat.completed", "conversation.chat.failed", "conversation.chat.canceled"]) {
      const replies: ReplyTracker = { current: "chat-1" };
      translate(ev(requiresAction("chat-1", [call("a", "x", "{}")])), replies);
      assert.ok(replies.awaiting);
      translate({ id: "e2", event_type: end, data: { id: "chat-1" } }, replies);
      assert.equal(replies.awaiting, null, end);
    }
  });
});
