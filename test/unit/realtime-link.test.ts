/** The Realtime link against a scripted server on loopback; timers on a fake clock. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStateStore } from "../../src/state/store";
import { conversationBooks, savedConversation } from "../support/conversations";
import { DeviceStateMachine } from "../../src/device/state-machine";
import { FakeClock } from "../support/fake-clock";
import { countWrites } from "../support/socket-writes";
import { b64, frame20ms, linked, makeBackend, marker, pcm16k, pcm24k, ready, ScriptedServer, type Harness, type ServerConn } from "./realtime-script";

/** Starts a turn, streams `frames` 20 ms frames and ends it. */
function talk(h: Harness, frames: number, rate = 16000): void {
  assert.ok(h.backend.beginTurn({ userId: "u" }));
  for (let i = 0; i < frames; i++) assert.ok(h.backend.appendAudio(frame20ms(rate)));
  assert.ok(h.backend.commitTurn());
}

describe("Realtime link, Volcengine gateway", () => {
  let server: ScriptedServer;
  before(async () => {
    server = await ScriptedServer.start();
  });
  after(() => server.close());

  test("the appends of one mic read leave in one socket write, the commit with them, in order", async (t) => {
    await linked(server, async (h, conn) => {
      const writes = countWrites(t, Number(new URL(server.url).port));
      assert.ok(h.backend.beginTurn({ userId: "u" }));
      // 160 ms: more than the 100 ms a commit needs (the first frames are held until then).
      for (let i = 0; i < 8; i++) assert.ok(h.backend.appendAudio(frame20ms()));
      assert.equal(writes.n, 0, "appends are held to the end of the tick");
      assert.ok(h.backend.commitTurn());
      // Two writes: the appends with the commit, then response.create (push-to-talk asks for the answer).
      assert.equal(writes.n, 2, "the commit is not held back, and the appends leave in the same write");
      await conn.next("input_audio_buffer.commit");
      t.mock.restoreAll();
      const types = conn.received.map((m) => m.type);
      const commit = types.lastIndexOf("input_audio_buffer.commit");
      assert.deepEqual(types.slice(commit - 8, commit + 1), [...Array(8).fill("input_audio_buffer.append"), "input_audio_buffer.commit"]);
    });
  });

  test("session.update goes first and exactly once; link.ready waits for session.updated", async () => {
    const s = await ScriptedServer.start();
    const h = makeBackend(s, { customModel: "doubao-pro-32k-functioncall", session: { ...makeBackend(s).opts.session, transcriptionModel: "any" } });
    try {
      assert.deepEqual(h.backend.capabilities, { serverVad: false, interruption: true });
      h.backend.start();
      const conn = await s.conn(1);
      const update = await conn.next("session.update");
      assert.equal(conn.received[0]?.type, "session.update");
      assert.equal(conn.headers.authorization, "Bearer sk-secret-token-123");
      assert.equal(conn.headers["openai-beta"], undefined);
      assert.equal(conn.headers["x-conversation-id"], undefined);
      assert.equal(conn.url.searchParams.get("model"), "test-model");
      assert.equal(conn.url.searchParams.get("ag-custom-model"), "doubao-pro-32k-functioncall");
      assert.equal(conn.url.searchParams.get("ag-coze-bot-id"), null);
      assert.deepEqual(update.session, {
        modalities: ["audio", "text"],
        input_audio_format: "pcm16",
        output_audio_format: "pcm16",
        turn_detection: null,
        tools: [{ type: "function", name: "set_volume", description: "Set the speaker volume", parameters: { type: "object", properties: { percent: { type: "integer" } } } }],
        tool_choice: "auto",
        instructions: "be brief",
        voice: "zh_female_tianmeixiaoyuan_moon_bigtts",
        temperature: 0.8,
        input_audio_transcription: { model: "any" },
      });
      // session.created came first on this socket, then an event the client must not act on yet.
      conn.send({ type: "input_audio_buffer.speech_started" });
      await h.logs.waitFor(/before session setup finished/);
      assert.deepEqual(h.rec.events.map((e) => e.type), ["link.connecting"]);
      assert.equal(h.backend.formats, null);
      assert.equal(h.backend.appendAudio(frame20ms()), false);

      conn.send({ type: "session.updated", session: { id: "sess_1", ...(update.session as object) } });
      const readyEv = await h.rec.next("link.ready");
      assert.deepEqual(readyEv, { type: "link.ready", input: pcm16k, output: pcm16k });
      // The gateway has no server VAD and takes session.update only at the start: switching modes sends nothing.
      h.backend.setTurnDetection("free");
      const m = await marker(h, conn);
      assert.deepEqual(conn.types().slice(0, m), ["session.update"]);
    } finally {
      await h.backend.stop();
      await s.close();
    }
  });

  test("a push-to-talk turn: appends, commit and response.create (no undocumented clear); the reply comes back as agent events", async () => {
    await linked(server, async (h, conn) => {
    talk(h, 5);
    await conn.next("response.create");
    assert.deepEqual(conn.types().slice(1), [
      ...Array(5).fill("input_audio_buffer.append"),
      "input_audio_buffer.commit",
      "response.create",
    ]);
    assert.equal(conn.received[1]?.audio, frame20ms().toString("base64"));
    assert.deepEqual(conn.received.at(-1)?.response, { modalities: ["audio", "text"] });

    conn.send({ type: "input_audio_buffer.committed", item_id: "item_u1" });
    conn.send({ type: "conversation.item.input_audio_transcription.completed", item_id: "item_u1", content_index: 0, transcript: "背唐诗" });
    conn.send({ type: "response.created", response: { id: "resp_1", status: "in_progress", output: [] } });
    conn.send({ type: "response.output_item.added", response_id: "resp_1", item: { id: "item_a1", type: "message", role: "assistant" } });
    conn.send({ type: "response.audio.delta", response_id: "resp_1", item_id: "item_a1", delta: b64(640, 3) });
    conn.send({ type: "response.audio_transcript.delta", response_id: "resp_1", item_id: "item_a1", delta: "白日" });
    conn.send({ type: "response.audio.delta", response_id: "resp_1", item_id: "item_a1", delta: b64(320, 4) });
    conn.send({ type: "response.audio.done", response_id: "resp_1", item_id: "item_a1" });
    conn.send({ type: "response.audio_transcript.done", response_id: "resp_1", item_id: "item_a1", transcript: "白日依山尽" });
    conn.send({ type: "response.output_item.done", response_id: "resp_1", item: { id: "item_a1", type: "message" } });
    conn.send({ type: "response.done", response: { id: "resp_1", status: "completed", output: [] } });
    await h.rec.next("reply.done");
    assert.deepEqual(
      h.rec.events.slice(h.rec.events.findIndex((e) => e.type === "link.ready") + 1),
      [
        { type: "input.committed" },
        { type: "user.transcript", text: "背唐诗", final: true },
        { type: "reply.started", replyId: "resp_1" },
        { type: "reply.audio", replyId: "resp_1", audio: Buffer.alloc(640, 3) },
        { type: "reply.text", replyId: "resp_1", text: "白日", final: false },
        { type: "reply.audio", replyId: "resp_1", audio: Buffer.alloc(320, 4) },
        { type: "reply.text", replyId: "resp_1", text: "白日依山尽", final: true },
        { type: "reply.done", replyId: "resp_1", status: "completed" },
      ],
    );
    });
  });

  test("a press with too little audio never reaches the gateway (held on the device until the turn is sure), is never committed, and is reported as input.empty after commitTurn returns", async () => {
    await linked(server, async (h, conn) => {
    talk(h, 4); // 80 ms: below the 100 ms a commit needs
    assert.equal(h.rec.of("input.empty").length, 0, "not from inside commitTurn: the device is not waiting for an answer yet");
    const short = await h.rec.next("input.empty");
    assert.match(short.message, /80 ms.*hold the button/);
    talk(h, 0);
    const none = await h.rec.next("input.empty");
    assert.match(none.message, /no audio/);
    const m = await marker(h, conn);
    assert.deepEqual(conn.types().slice(1, m), [], "nothing of either press went out");
    assert.ok(!conn.types().includes("input_audio_buffer.clear"), "seed 001 lists no input_audio_buffer.clear");
    });
  });

  test("the held start goes out once the turn reaches 100 ms; an abandoned turn is dropped on the device, or after it streamed, replaced by a fresh session", async () => {
    await linked(server, async (h, conn) => {
    assert.ok(h.backend.beginTurn({ userId: "u" }));
    for (let i = 0; i < 4; i++) assert.ok(h.backend.appendAudio(frame20ms()));
    h.backend.abortTurn();
    const m = await marker(h, conn);
    assert.deepEqual(conn.types().slice(1, m), [], "an abandoned 80 ms start never left the device");

    assert.ok(h.backend.beginTurn({ userId: "u" }));
    for (let i = 0; i < 4; i++) assert.ok(h.backend.appendAudio(frame20ms()));
    assert.ok(h.backend.appendAudio(frame20ms())); // 100 ms: the turn is sure, and the held start goes out
    const m2 = await marker(h, conn);
    assert.deepEqual(conn.types().slice(m + 1, m2), Array(5).fill("input_audio_buffer.append"));
    const next = server.conns.length + 1;
    h.backend.abortTurn();
    // Audio the gateway cannot be told to drop: a new session, whose buffer is empty.
    await server.conn(next);
    await h.logs.waitFor(/abandoned after its audio reached the gateway.*fresh session/);
    });
  });

  test("response.create is never sent while a response runs: it goes out on that response's response.done", async () => {
    await linked(server, async (h, conn) => {
    talk(h, 6);
    await conn.next("response.create");
    conn.send({ type: "response.created", response: { id: "resp_1", status: "in_progress" } });
    await h.rec.next("reply.started");
    talk(h, 6);
    const m = await marker(h, conn);
    assert.equal(conn.types().filter((t) => t === "input_audio_buffer.commit").length, 2);
    assert.equal(conn.types().slice(0, m).filter((t) => t === "response.create").length, 1, "the second turn's response waits");
    conn.send({ type: "response.done", response: { id: "resp_1", status: "completed" } });
    const second = await conn.next("response.create");
    assert.ok(conn.received.indexOf(second) > m);
    });
  });

  test("a response.create the server never answers holds later ones back only until the connect timeout", async () => {
    await linked(server, async (h, conn) => {
    talk(h, 6);
    await conn.next("response.create");
    talk(h, 6);
    const m = await marker(h, conn);
    assert.equal(conn.types().slice(0, m).filter((t) => t === "response.create").length, 1);
    h.clock.advance(5000);
    await conn.next("response.create");
    assert.ok(h.logs.warnings().some((w) => /did not start a response/.test(w)));
    });
  });

  test("barge-in: response.cancel without truncate; a late cancel's error stays quiet; the cancelled response ends as canceled", async () => {
    await linked(server, async (h, conn) => {
    talk(h, 6);
    await conn.next("response.create");
    conn.send({ type: "response.created", response: { id: "resp_1" } });
    conn.send({ type: "response.audio.delta", response_id: "resp_1", item_id: "item_a1", delta: b64(3200) });
    await h.rec.next("reply.audio");
    assert.ok(h.backend.cancelReply(50));
    assert.ok(h.backend.cancelReply(60), "a second press while the cancel is under way sends nothing more");
    await conn.next("response.cancel");
    const m = await marker(h, conn);
    assert.deepEqual(conn.types().slice(conn.types().indexOf("response.cancel"), m), ["response.cancel"]);
    conn.send({ type: "error", error: { type: "invalid_request_error", code: "response_cancel_not_active", message: "no active response" } });
    conn.send({ type: "response.done", response: { id: "resp_1", status: "cancelled", status_details: { type: "cancelled", reason: "client_cancelled" } } });
    const done = await h.rec.next("reply.done");
    assert.deepEqual(done, { type: "reply.done", replyId: "resp_1", status: "canceled" });
    assert.equal(h.rec.of("agent.error").length, 0);
    assert.equal(h.rec.of("link.down").length, 0);

    // Other errors do reach the user, with a hint where there is one.
    conn.send({ type: "error", error: { type: "server_error", code: "server_error", message: "There is problem in server side" } });
    const err = await h.rec.next("agent.error");
    assert.equal(err.error.code, "server_error");
    assert.match(err.error.hint ?? "", /try again/);
    });
  });

  test("a tool call: tool.call, the output as function_call_output, one response.create after the call's response.done; the device speaks the second response", async () => {
    await linked(server, async (h, conn) => {
    talk(h, 6);
    await conn.next("response.create");
    conn.send({ type: "response.created", response: { id: "resp_f" } });
    conn.send({ type: "response.output_item.added", response_id: "resp_f", item: { id: "item_f", type: "function_call", call_id: "call_1", name: "set_volume" } });
    conn.send({ type: "response.function_call_arguments.done", response_id: "resp_f", item_id: "item_f", call_id: "call_1", name: "set_volume", arguments: '{"percent":40}' });
    const call = await h.rec.next("tool.call");
    assert.deepEqual(call, { type: "tool.call", callId: "call_1", name: "set_volume", arguments: '{"percent":40}' });
    // The tool answers before the function-call response is done: the output goes, the follow-up waits.
    assert.ok(h.backend.submitToolOutputs([{ callId: "call_1", output: '{"volume":40}' }]));
    const out = await conn.next("conversation.item.create");
    assert.deepEqual(out.item, { type: "function_call_output", call_id: "call_1", output: '{"volume":40}' });
    const m = await marker(h, conn);
    assert.equal(conn.types().slice(0, m).filter((t) => t === "response.create").length, 1);
    conn.send({ type: "response.output_item.done", response_id: "resp_f", item: { id: "item_f", type: "function_call", call_id: "call_1", name: "set_volume", arguments: '{"percent":40}' } });
    conn.send({ type: "response.done", response: { id: "resp_f", status: "completed", output: [{ id: "item_f", type: "function_call", call_id: "call_1", name: "set_volume", arguments: '{"percent":40}' }] } });
    await conn.next("response.create");
    conn.send({ type: "response.created", response: { id: "resp_2" } });
    conn.send({ type: "response.audio.delta", response_id: "resp_2", item_id: "item_a2", delta: b64(640) });
    conn.send({ type: "response.done", response: { id: "resp_2", status: "completed" } });
    await h.rec.next("reply.done");
    assert.deepEqual(
      h.rec.events.filter((e) => e.type.startsWith("reply.") || e.type === "tool.call").map((e) => `${e.type}${"replyId" in e ? ` ${e.replyId}` : ""}`),
      ["reply.started resp_f", "tool.call", "reply.started resp_2", "reply.audio resp_2", "reply.done resp_2"],
    );
    assert.equal(h.rec.of("tool.call").length, 1, "the call listed again in output_item.done and response.done is asked once");
    assert.equal(conn.types().filter((t) => t === "conversation.item.create").length, 1);
    });
  });

  test("a tool call interrupted while the tool runs: the reply ends as canceled, and its output asks for no answer", async () => {
    await linked(server, async (h, conn) => {
    talk(h, 6);
    await conn.next("response.create");
    conn.send({ type: "response.created", response: { id: "resp_f" } });
    conn.send({ type: "response.function_call_arguments.done", response_id: "resp_f", call_id: "call_9", name: "set_volume", arguments: "{}" });
    conn.send({ type: "response.done", response: { id: "resp_f", status: "completed", output: [{ type: "function_call", call_id: "call_9", name: "set_volume" }] } });
    // A fence: once this is through, the response.done before it has been handled.
    conn.send({ type: "input_audio_buffer.committed" });
    await h.rec.next("tool.call");
    await h.rec.next("input.committed");
    assert.ok(h.backend.cancelReply(0));
    const done = await h.rec.next("reply.done");
    assert.deepEqual(done, { type: "reply.done", replyId: "resp_f", status: "canceled" });
    assert.ok(h.backend.submitToolOutputs([{ callId: "call_9", output: "{}" }]));
    const m = await marker(h, conn);
    const after = conn.types().slice(conn.types().indexOf("response.create") + 1, m);
    assert.deepEqual(after, [], "no cancel (nothing runs), no output, no new response");
    });
  });

  test("with the device state machine: thinking through the function-call response, speaking the second, idle once it drained", async () => {
    const h = makeBackend(server);
    const states: string[] = [];
    const machine = new DeviceStateMachine(
      { clock: new FakeClock(), mode: "push-to-talk", replyTimeoutMs: 20_000, errorHoldMs: 3000, maxTurnMs: 60_000 },
      (effect) => {
        if (effect.type === "turn.begin") h.backend.beginTurn({ userId: effect.userId });
        if (effect.type === "turn.commit") h.backend.commitTurn();
        if (effect.type === "reply.cancel") h.backend.cancelReply(0);
      },
      (c) => states.push(c.to),
    );
    h.backend.subscribe((e) => {
      if (e.type === "link.ready") machine.dispatch({ type: "link.ready" });
      if (e.type === "input.empty") machine.dispatch({ type: "turn.empty", message: e.message });
      if (e.type === "reply.started" || e.type === "reply.audio") machine.dispatch({ type: e.type });
      if (e.type === "reply.done") machine.dispatch({ type: "reply.done", status: e.status });
      // The tool answers at once, from inside the listener.
      if (e.type === "tool.call") h.backend.submitToolOutputs([{ callId: e.callId, output: '{"ok":true}' }]);
    });
    const conn = await ready(h, server);
    try {
      machine.dispatch({ type: "button.down", userId: "u" });
      for (let i = 0; i < 6; i++) h.backend.appendAudio(frame20ms());
      machine.dispatch({ type: "button.up" });
      await conn.next("response.create");
      conn.send({ type: "response.created", response: { id: "resp_f" } });
      conn.send({ type: "response.function_call_arguments.done", response_id: "resp_f", call_id: "call_1", name: "set_volume", arguments: "{}" });
      conn.send({ type: "response.done", response: { id: "resp_f", status: "completed", output: [{ type: "function_call", call_id: "call_1", name: "set_volume" }] } });
      await conn.next("conversation.item.create");
      await conn.next("response.create");
      assert.equal(machine.state, "thinking", "the function-call response neither speaks nor ends the turn");
      conn.send({ type: "response.created", response: { id: "resp_2" } });
      conn.send({ type: "response.audio.delta", response_id: "resp_2", item_id: "item_a2", delta: b64(640) });
      conn.send({ type: "response.done", response: { id: "resp_2", status: "completed" } });
      await h.rec.next("reply.done");
      assert.equal(machine.state, "speaking");
      machine.dispatch({ type: "playback.drained" });
      assert.deepEqual(states, ["idle", "listening", "thinking", "speaking", "idle"]);
    } finally {
      await h.backend.stop();
    }
  });

  test("the short-press input.empty reaches a device that already waits for the answer", async () => {
    const h = makeBackend(server);
    const machine = new DeviceStateMachine(
      { clock: new FakeClock(), mode: "push-to-talk", replyTimeoutMs: 20_000, errorHoldMs: 3000, maxTurnMs: 60_000 },
      (effect) => {
        if (effect.type === "turn.begin") h.backend.beginTurn({ userId: effect.userId });
        if (effect.type === "turn.commit") h.backend.commitTurn();
      },
    );
    h.backend.subscribe((e) => {
      if (e.type === "link.ready") machine.dispatch({ type: "link.ready" });
      if (e.type === "input.empty") machine.dispatch({ type: "turn.empty", message: e.message });
    });
    await ready(h, server);
    try {
      machine.dispatch({ type: "button.down", userId: "u" });
      h.backend.appendAudio(frame20ms());
      machine.dispatch({ type: "button.up" });
      assert.equal(machine.state, "thinking");
      await h.rec.next("input.empty");
      assert.equal(machine.state, "idle", "no reply timeout for a turn that was never sent");
    } finally {
      await h.backend.stop();
    }
  });

  test("Coze-bot mode: X-Conversation-Id from session.created on every reconnect and after a restart; a new conversation forgets it", async () => {
    const state = new MemoryStateStore();
    const over = { cozeBotId: "bot-7", conversations: conversationBooks(state) };
    const h = makeBackend(server, over);
    const first = server.conns.length + 1;
    let conn: ServerConn = await ready(h, server, first);
    try {
      assert.deepEqual(h.backend.capabilities, { serverVad: false, interruption: false });
      assert.equal(conn.url.searchParams.get("ag-coze-bot-id"), "bot-7");
      assert.equal(conn.headers["x-conversation-id"], undefined);
      assert.deepEqual((conn.received[0]?.session as { tools: unknown[] }).tools, [], "the bot's own plugins apply, not device tools");
      const id = `sess_${first}`;
      assert.equal(savedConversation(state, "realtime.coze.bot-7", "*"), id);

      // No interruption in this mode: nothing is sent, and the caller is told it went fine.
      talk(h, 6);
      await conn.next("response.create");
      conn.send({ type: "response.created", response: { id: "resp_1" } });
      await h.rec.next("reply.started");
      assert.ok(h.backend.cancelReply(100));
      const m = await marker(h, conn);
      assert.equal(conn.types().slice(0, m).includes("response.cancel"), false);

      conn.ws.terminate();
      const down = await h.rec.next("link.down");
      h.clock.advance(down.retryInMs!);
      conn = await server.conn(first + 1);
      await conn.acceptSession();
      await h.rec.next("link.ready");
      assert.equal(conn.headers["x-conversation-id"], id);
      assert.equal(savedConversation(state, "realtime.coze.bot-7", "*"), id, "the conversation's first id is kept");
      await h.backend.stop();

      const restarted = makeBackend(server, over);
      conn = await ready(restarted, server, first + 2);
      assert.equal(conn.headers["x-conversation-id"], id);

      restarted.backend.resetConversation();
      assert.equal(savedConversation(state, "realtime.coze.bot-7", "*"), undefined);
      await restarted.rec.next("link.down");
      conn = await server.conn(first + 3);
      await conn.acceptSession();
      await restarted.rec.next("link.ready");
      assert.equal(conn.headers["x-conversation-id"], undefined);
      assert.equal(savedConversation(state, "realtime.coze.bot-7", "*"), `sess_${first + 3}`);
      await restarted.backend.stop();
    } finally {
      await h.backend.stop();
    }
  });

  test("a new conversation asked for during a press takes effect when the press ends; that press is not sent", async () => {
    const h = makeBackend(server);
    const n = server.conns.length + 1;
    const conn = await ready(h, server, n);
    try {
      assert.ok(h.backend.beginTurn({ userId: "u" }));
      for (let i = 0; i < 10; i++) h.backend.appendAudio(frame20ms());
      h.backend.resetConversation();
      const m = await marker(h, conn);
      assert.ok(!conn.types().slice(0, m).includes("input_audio_buffer.commit"), "the link stays until the press ends");
      assert.ok(h.backend.commitTurn());
      const empty = await h.rec.next("input.empty");
      assert.match(empty.message, /new conversation/);
      const down = await h.rec.next("link.down");
      assert.equal(down.retryInMs, 0);
      const next = await server.conn(n + 1);
      await next.acceptSession();
      await h.rec.next("link.ready");
      await conn.closed;
      assert.ok(!conn.types().includes("input_audio_buffer.commit"));
    } finally {
      await h.backend.stop();
    }
  });

  test("keepalive 0: the gateway's idle close is no failure: no error shown, reconnect at once, the back-off does not grow", async () => {
    const h = makeBackend(server, { keepaliveMs: 0 });
    const n = server.conns.length + 1;
    let conn = await ready(h, server, n);
    try {
      h.clock.advance(120_000);
      conn.send({ type: "error", error: { type: "invalid_request_error", code: "", message: "no message received in 120s, session idle timeout" } });
      const down = await h.rec.next("link.down");
      assert.equal(down.retryInMs, 0);
      assert.equal(down.problem, "network");
      assert.match(down.message, /without a client message; reconnecting now/);
      assert.equal(h.rec.of("agent.error").length, 0);
      assert.ok(!h.logs.warnings().some((w) => /idle|120/.test(w)), "not a warning");
      conn = await server.conn(n + 1);
      await conn.acceptSession();
      await h.rec.next("link.ready");

      // The server may also just close.
      h.clock.advance(120_000);
      conn.ws.close(1000);
      const quiet = await h.rec.next("link.down");
      assert.equal(quiet.retryInMs, 0);
      conn = await server.conn(n + 2);
      await conn.acceptSession();
      await h.rec.next("link.ready");

      // A real drop afterwards starts the back-off from the beginning.
      conn.ws.terminate();
      const real = await h.rec.next("link.down");
      assert.ok(real.retryInMs! > 0 && real.retryInMs! <= 500);
    } finally {
      await h.backend.stop();
    }
  });

  test("HTTP 401 at the handshake: an auth problem held for minutes, naming the key to fix and never the key itself", async () => {
    const s = await ScriptedServer.start();
    s.reject = { status: 401, body: JSON.stringify({ error: { message: "Invalid API key sk-secret-token-123", type: "authentication_error", code: "invalid_api_key" } }) };
    const h = makeBackend(s);
    try {
      h.backend.start();
      const down = await h.rec.next("link.down");
      assert.equal(down.problem, "auth");
      assert.equal(down.retryInMs, 300_000);
      assert.match(down.message, /HTTP 401.*agent\.token.*gateway access key/);
      assert.ok(!down.message.includes("sk-secret-token-123"), "a server echoing the key does not put it in the message");
      const connecting = h.rec.of("link.connecting").length;
      h.backend.wake();
      assert.equal(h.rec.of("link.connecting").length, connecting, "a press does not hammer the server with a rejected key");
      assert.ok(!JSON.stringify(h.logs.lines).includes("sk-secret-token-123"));
    } finally {
      await h.backend.stop();
      await s.close();
    }
  });

  test("malformed server messages are warned about and skipped; the link stays up", async () => {
    await linked(server, async (h, conn) => {
    conn.sendRaw("this is not JSON");
    conn.sendRaw(JSON.stringify([1, 2]));
    conn.send({ type: "response.created", response: { id: "resp_x" } });
    conn.send({ type: "response.audio.delta", response_id: "resp_x", delta: "@@not base64@@" });
    conn.send({ type: "some.future.event", x: 1 });
    conn.send({ type: "input_audio_buffer.committed" });
    await h.rec.next("input.committed");
    const warnings = h.logs.warnings();
    assert.equal(warnings.filter((w) => /malformed/.test(w)).length, 2);
    assert.equal(warnings.filter((w) => /invalid event/.test(w)).length, 1);
    assert.equal(warnings.filter((w) => /does not know/.test(w)).length, 1);
    assert.equal(h.rec.of("reply.audio").length, 0);
    assert.equal(h.rec.of("link.down").length, 0);
    assert.ok(h.backend.formats);
    });
  });

  test("calls while the link is down return false instead of throwing", () => {
    const h = makeBackend(server);
    assert.equal(h.backend.beginTurn({ userId: "u" }), false);
    assert.equal(h.backend.appendAudio(frame20ms()), false);
    assert.equal(h.backend.commitTurn(), false);
    assert.equal(h.backend.cancelReply(10), false);
    assert.equal(h.backend.submitToolOutputs([{ callId: "c", output: "{}" }]), false);
    h.backend.resetConversation();
    h.backend.setTurnDetection("free");
  });
});

describe("Realtime link, OpenAI", () => {
  let server: ScriptedServer;
  before(async () => {
    server = await ScriptedServer.start();
  });
  after(() => server.close());

  const openai = (s: ScriptedServer, over: Parameters<typeof makeBackend>[1] = {}) => {
    const base = makeBackend(s).opts.session;
    return makeBackend(s, { flavour: "openai", ...over, session: { ...base, input: pcm24k, output: pcm24k, ...over.session } });
  };

  test("OpenAI documents input_audio_buffer.clear: sent at every turn start and for an abandoned turn; a refusal of one is not the user's business", async () => {
    const h = openai(server, { mode: "push-to-talk" });
    const conn = await ready(h, server);
    try {
      assert.ok(h.backend.beginTurn({ userId: "u" }));
      const clear = await conn.next("input_audio_buffer.clear");
      assert.ok(h.backend.appendAudio(frame20ms(24000)));
      h.backend.abortTurn();
      const m = await marker(h, conn);
      assert.deepEqual(conn.types().slice(1, m), ["input_audio_buffer.clear", "input_audio_buffer.append", "input_audio_buffer.clear"]);
      conn.send({ type: "error", error: { type: "invalid_request_error", code: "invalid_event", message: "unsupported event type", event_id: clear.event_id } });
      conn.send({ type: "error", error: { type: "invalid_request_error", code: "invalid_event", message: "something else" } });
      const shown = await h.rec.next("agent.error");
      assert.equal(shown.error.message, "something else");
      assert.equal(h.rec.of("agent.error").length, 1);
    } finally {
      await h.backend.stop();
    }
  });

  test("OpenAI-Beta header, pcm16 at 24 kHz, server VAD in free conversation and a later session.update with turn detection only", async () => {
    const h = openai(server, { mode: "free" });
    const conn = await ready(h, server);
    try {
      assert.deepEqual(h.backend.capabilities, { serverVad: true, interruption: true });
      assert.equal(conn.headers["openai-beta"], "realtime=v1");
      assert.deepEqual(h.backend.formats, { input: pcm24k, output: pcm24k });
      assert.deepEqual((conn.received[0]?.session as { turn_detection: unknown }).turn_detection, { type: "server_vad", prefix_padding_ms: 300, silence_duration_ms: 700 });
      // Server VAD answers by itself: a commit asks for no response.
      talk(h, 6, 24000);
      h.backend.setTurnDetection("push-to-talk");
      const later = await conn.next("session.update"); // the setup one was taken by ready()
      assert.notEqual(later, conn.received[0]);
      assert.deepEqual(later.session, { turn_detection: null });
      assert.ok(!conn.types().includes("response.create"));
    } finally {
      await h.backend.stop();
    }
  });

  test("G.711 both ways maps to g711_ulaw / g711_alaw at 8 kHz", async () => {
    const g711u = { codec: "g711u" as const, sampleRate: 8000, channels: 1 as const };
    const g711a = { codec: "g711a" as const, sampleRate: 8000, channels: 1 as const };
    const h = openai(server, { session: { ...makeBackend(server).opts.session, input: g711u, output: g711a } });
    const conn = await ready(h, server);
    try {
      const s = conn.received[0]?.session as Record<string, unknown>;
      assert.equal(s.input_audio_format, "g711_ulaw");
      assert.equal(s.output_audio_format, "g711_alaw");
      assert.deepEqual(h.backend.formats, { input: g711u, output: g711a });
    } finally {
      await h.backend.stop();
    }
  });

  test("barge-in: response.cancel and a truncate of the audio item at what was heard, clamped to the audio sent", async () => {
    const h = openai(server);
    const conn = await ready(h, server);
    try {
      talk(h, 6, 24000);
      await conn.next("response.create");
      conn.send({ type: "response.created", response: { id: "resp_1" } });
      // 3 × 100 ms of pcm16 at 24 kHz.
      for (let i = 0; i < 3; i++) conn.send({ type: "response.audio.delta", response_id: "resp_1", item_id: "item_a1", delta: b64(4800) });
      await h.rec.next("reply.audio");
      await h.rec.next("reply.audio");
      await h.rec.next("reply.audio");
      assert.ok(h.backend.cancelReply(5000));
      await conn.next("response.cancel");
      const cut = await conn.next("conversation.item.truncate");
      assert.equal(cut.item_id, "item_a1");
      assert.equal(cut.content_index, 0);
      assert.equal(cut.audio_end_ms, 300);
      conn.send({ type: "response.done", response: { id: "resp_1", status: "cancelled" } });
      await h.rec.next("reply.done");

      // The next reply is heard in part.
      talk(h, 6, 24000);
      await conn.next("response.create");
      conn.send({ type: "response.created", response: { id: "resp_2" } });
      conn.send({ type: "response.audio.delta", response_id: "resp_2", item_id: "item_a2", delta: b64(48000) });
      await h.rec.next("reply.audio");
      assert.ok(h.backend.cancelReply(120));
      const partial = await conn.next("conversation.item.truncate");
      assert.equal(partial.item_id, "item_a2");
      assert.equal(partial.audio_end_ms, 120);
    } finally {
      await h.backend.stop();
    }
  });

  test("keepalive: input_audio_buffer.clear after keepalive_ms without a client message, never while a turn streams", async () => {
    const h = openai(server, { keepaliveMs: 100_000 });
    const conn = await ready(h, server);
    const clears = (): number => conn.types().filter((t) => t === "input_audio_buffer.clear").length;
    // setTurnDetection sends a session.update: a client message that does not touch the audio buffer.
    const poke = async (): Promise<void> => {
      h.backend.setTurnDetection("push-to-talk");
      await conn.next("session.update");
    };
    try {
      h.clock.advance(99_999);
      await poke();
      assert.equal(clears(), 0);
      h.clock.advance(99_999);
      await poke();
      assert.equal(clears(), 0, "silence counts from the last client message");
      h.clock.advance(100_000);
      await conn.next("input_audio_buffer.clear");
      assert.equal(conn.types().at(-1), "input_audio_buffer.clear");

      assert.ok(h.backend.beginTurn({ userId: "u" }));
      await conn.next("input_audio_buffer.clear");
      h.clock.advance(250_000);
      await poke();
      assert.equal(clears(), 2, "an open turn is never cleared by the keepalive");
    } finally {
      await h.backend.stop();
    }
  });
});
