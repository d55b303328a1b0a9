/** The Coze link against the real emulator on loopback; timers on a fake clock. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CozeBackend } from "../../src/agent/coze/client";
import type { AgentEvent } from "../../src/agent/events";
import { startEmulator, type Emulator } from "../../src/emulator/server";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";
import { cozeLinkOptions, PCM16K as pcm } from "../support/coze-link";
import { FaultProxy } from "../support/fault-proxy";


function link(emu: Emulator, botId = "b1", token = "tok-1234", clock = new FakeClock()) {
  const events: AgentEvent[] = [];
  const waiters: Array<{ pred: (e: AgentEvent) => boolean; resolve: (e: AgentEvent) => void }> = [];
  const backend = new CozeBackend(
    cozeLinkOptions(emu.url, { botId, token }),
    silentLogger(),
    clock,
  );
  backend.subscribe((e) => {
    events.push(e);
    for (const w of waiters.splice(0)) (w.pred(e) ? w.resolve : (_: AgentEvent) => waiters.push(w))(e);
  });
  const next = <T extends AgentEvent["type"]>(type: T): Promise<Extract<AgentEvent, { type: T }>> => {
    const seen = events.find((e) => e.type === type);
    if (seen) return Promise.resolve(seen as Extract<AgentEvent, { type: T }>);
    return new Promise((resolve) => waiters.push({ pred: (e) => e.type === type, resolve: resolve as (e: AgentEvent) => void }));
  };
  return { backend, events, next, clock };
}

describe("Coze link", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ token: "tok-1234" });
  });
  after(() => emu.close());

  test("connects with Bearer auth and bot_id, sends chat.update with the session, becomes ready", async () => {
    const { backend, next } = link(emu, "bot-42");
    backend.start();
    const ready = await next("link.ready");
    assert.deepEqual(ready.input, pcm);
    const s = emu.sessions().at(-1)!;
    assert.equal(s.query.bot_id, "bot-42");
    assert.equal(s.headers.authorization, "Bearer tok-1234");
    assert.equal(s.received[0]?.event?.event_type, "chat.update");
    assert.equal((s.effectiveConfig?.turn_detection as { type: string }).type, "client_interrupt");
    assert.equal(backend.formats?.output.sampleRate, 16000);
    await backend.stop();
  });

  test("HTTP 401: an auth problem, retried only after minutes", async () => {
    const { backend, next } = link(emu, "b1", "wrong-token");
    backend.start();
    const down = await next("link.down");
    assert.equal(down.problem, "auth");
    assert.equal(down.retryInMs, 300_000);
    assert.match(down.message, /HTTP 401.*TALKBOX_TOKEN/);
    assert.ok(!down.message.includes("wrong-token"));
    await backend.stop();
  });

  test("HTTP 403: access denied, also an auth problem", async () => {
    const { backend, next } = link(emu, "forbidden");
    backend.start();
    const down = await next("link.down");
    assert.equal(down.problem, "auth");
    assert.match(down.message, /HTTP 403/);
    await backend.stop();
  });

  test("HTTP 503 (outage): a server problem with normal back-off; a press reconnects at once", async () => {
    emu.setAcceptConnections(false);
    try {
      const { backend, next, events } = link(emu);
      backend.start();
      const down = await next("link.down");
      assert.equal(down.problem, "server");
      assert.ok(down.retryInMs! <= 500);
      emu.setAcceptConnections(true);
      const before = events.length;
      backend.wake();
      assert.equal(events[before]?.type, "link.connecting", "wake connects without waiting for the timer");
      await next("link.ready");
      await backend.stop();
    } finally {
      emu.setAcceptConnections(true);
    }
  });

  test("a drop is followed by reconnection after the back-off, with the conversation kept", async () => {
    const { backend, next, events, clock } = link(emu);
    backend.start();
    await next("link.ready");
    assert.ok(backend.appendAudio(Buffer.alloc(640)));
    assert.ok(backend.commitTurn());
    const started = await next("reply.started");
    assert.ok(started.conversationId);
    await next("reply.done");
    const sessions = emu.sessions().length;
    emu.dropAll();
    const down = await next("link.down");
    assert.equal(down.problem, "network");
    events.length = 0;
    clock.advance(down.retryInMs!);
    await next("link.ready");
    assert.equal(emu.sessions().length, sessions + 1);
    const update = emu.sessions().at(-1)!.received[0]!.event!;
    assert.equal((update.data?.chat_config as { conversation_id?: string }).conversation_id, started.conversationId);
    await backend.stop();
  });

  test("a new conversation is confirmed by conversation.cleared; without it, the device says so after connect_timeout_ms", async () => {
    const { backend, next } = link(emu);
    backend.start();
    await next("link.ready");
    backend.resetConversation();
    assert.deepEqual(await next("conversation.reset"), { type: "conversation.reset", ok: true, message: "started a new conversation" });
    await backend.stop();

    // A server that never confirms: its conversation.cleared is lost on the way.
    const proxy = await FaultProxy.start(emu.url);
    try {
      let dropped!: () => void;
      const droppedCleared = new Promise<void>((resolve) => (dropped = resolve));
      proxy.onServer = (_c, text) => {
        if (!text.includes('"event_type":"conversation.cleared"')) return "pass";
        dropped();
        return "drop";
      };
      const c2 = link({ ...emu, url: proxy.url(emu.url) } as Emulator);
      c2.backend.start();
      await c2.next("link.ready");
      c2.backend.resetConversation();
      await droppedCleared;
      assert.equal(c2.events.filter((e) => e.type === "conversation.reset").length, 0);
      c2.clock.advance(5000);
      const failed = await c2.next("conversation.reset");
      assert.equal(failed.ok, false);
      assert.match(failed.message, /did not confirm the new conversation within 5000 ms.*long-press again/);
      await c2.backend.stop();
    } finally {
      await proxy.close();
    }
  });

  test("an abandoned turn is cleared from the server's input buffer (input_audio_buffer.clear), and does not join the next", async () => {
    const { backend, next } = link(emu);
    backend.start();
    await next("link.ready");
    const session = emu.sessions().at(-1)!;
    backend.abortTurn(); // nothing appended: nothing to clear
    assert.ok(backend.appendAudio(Buffer.alloc(3200, 7)));
    backend.abortTurn();
    const said = Buffer.alloc(6400, 1);
    assert.ok(backend.appendAudio(said));
    const turnSeen = new Promise<Buffer>((resolve) => emu.events.once("turn", (t: { audio: Buffer }) => resolve(t.audio)));
    assert.ok(backend.commitTurn());
    assert.ok((await turnSeen).equals(said), "only the committed turn's audio reached the agent");
    const types = session.received.map((r) => r.event?.event_type);
    assert.equal(types.filter((t) => t === "input_audio_buffer.clear").length, 1);
    await backend.stop();
  });

  test("switching to free conversation sends chat.update with server VAD, and a new conversation sends conversation.clear", async () => {
    const { backend, next } = link(emu);
    backend.start();
    await next("link.ready");
    const session = emu.sessions().at(-1)!;
    const before = session.received.length;
    backend.setTurnDetection("free");
    backend.resetConversation();
    const sent = await new Promise<string[]>((resolve) => {
      const on = (i: number): void => {
        if (i !== session.index || emu.sessions()[i]!.received.length < before + 2) return;
        emu.events.off("client-event", on);
        resolve(emu.sessions()[i]!.received.slice(before).map((r) => r.event!.event_type));
      };
      emu.events.on("client-event", on);
      on(session.index);
    });
    assert.deepEqual(sent, ["chat.update", "conversation.clear"]);
    const update = session.received[before]!.event!.data as { turn_detection: Record<string, unknown> };
    assert.deepEqual(update.turn_detection, { type: "server_vad", prefix_padding_ms: 600, silence_duration_ms: 500 });
    await backend.stop();
  });

  test("calls while the link is down return false instead of throwing", () => {
    const { backend } = link(emu);
    assert.equal(backend.appendAudio(Buffer.alloc(640)), false);
    assert.equal(backend.commitTurn(), false);
    assert.equal(backend.cancelReply(), false);
  });
});
