/**
 * Scripted tool calls on both emulator endpoints: the call goes out, the client answers,
 * the answer is recorded, and the turn still ends with the echo reply.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startEmulator, type Emulator, type ToolOutputRecord, type TurnRecord } from "../../src/emulator/server";
import { FAST_PCM, REPLY_EVENTS, TestClient, audioPayloads, tone } from "./emulator-client";
import { PTT, RtClient, SPOKEN_RESPONSE, audioOf, order, type RtEvent } from "./emulator-realtime-client";

type Obj = Record<string, unknown>;
/** Deliberately not JSON: the emulator must pass it through untouched. */
const BROKEN_ARGS = '{"level": 5,';

describe("scripted tool calls", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  test("scriptToolCall refuses a call without a name or with non-string arguments", () => {
    assert.throws(() => emu.scriptToolCall({ name: "", arguments: "{}" }), /name/);
    assert.throws(() => emu.scriptToolCall({ name: "x", arguments: { level: 5 } as unknown as string }), /arguments must be a string/);
  });

  test("realtime: function_call item with the arguments verbatim, then the output and response.create bring the echo", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { session: { tools: [{ type: "function", name: "set_volume", parameters: { type: "object" } }] } });
    const index = emu.realtimeSessions().length - 1;
    emu.scriptToolCall({ name: "set_volume", arguments: BROKEN_ARGS });
    const pcm = tone(16000, 0.4);
    const call = await c.turn(pcm);
    assert.deepEqual(order(call.events), [
      "input_audio_buffer.committed",
      "conversation.item.created",
      "response.created",
      "response.output_item.added",
      "conversation.item.created",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.done",
    ]);
    assert.equal(audioOf(call.events).length, 0, "a function-call response speaks nothing");
    const added = (call.events.find((e) => e.type === "response.output_item.added") as RtEvent).item as Obj;
    assert.equal(added.type, "function_call");
    assert.equal(added.name, "set_volume");
    const callId = String(added.call_id);
    assert.match(callId, /^call_/);
    const argsDone = call.events.find((e) => e.type === "response.function_call_arguments.done") as RtEvent;
    assert.deepEqual({ call_id: argsDone.call_id, name: argsDone.name, arguments: argsDone.arguments, item_id: argsDone.item_id }, { call_id: callId, name: "set_volume", arguments: BROKEN_ARGS, item_id: added.id });
    assert.equal((call.events.find((e) => e.type === "response.function_call_arguments.delta") as RtEvent).delta, BROKEN_ARGS);
    const response = call.done.response as Obj;
    assert.equal(response.status, "completed");
    const output = response.output as Obj[];
    assert.deepEqual({ type: output[0]?.type, call_id: output[0]?.call_id, arguments: output[0]?.arguments, status: output[0]?.status }, { type: "function_call", call_id: callId, arguments: BROKEN_ARGS, status: "completed" });

    const toolOutput = once(emu.events, "tool-output");
    c.send("conversation.item.create", { item: { type: "function_call_output", call_id: callId, output: '{"error": "arguments are not JSON"}' } });
    const created = await c.next("conversation.item.created");
    assert.deepEqual({ type: (created.item as Obj).type, call_id: (created.item as Obj).call_id }, { type: "function_call_output", call_id: callId });
    assert.equal(created.previous_item_id, added.id);
    const [record] = (await toolOutput) as [ToolOutputRecord];
    assert.deepEqual(
      { endpoint: record.endpoint, session: record.session, callId: record.callId, name: record.name, output: record.output },
      { endpoint: "realtime", session: index, callId, name: "set_volume", output: '{"error": "arguments are not JSON"}' },
    );
    assert.ok(emu.toolOutputs().includes(record));

    const start = c.events.length;
    c.send("response.create");
    const done = await c.next("response.done");
    const spoken = c.events.slice(start);
    assert.deepEqual(order(spoken), SPOKEN_RESPONSE);
    assert.equal((done.response as Obj).status, "completed");
    assert.ok(audioOf(spoken).equals(pcm), "the answer after the tool is the echo of the user's turn");

    const view = emu.realtimeSessions()[index];
    assert.deepEqual(view?.responses.map((r) => r.toolCalls.map((t) => t.callId)), [[callId], []]);
    assert.deepEqual(view?.functionCallOutputs.map((o) => ({ callId: o.callId, output: o.output })), [{ callId, output: '{"error": "arguments are not JSON"}' }]);
    await c.close();
  });

  test("realtime: an unknown call_id is refused; two queued calls go out together in one response", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { flavour: "openai", session: PTT });
    c.send("conversation.item.create", { item: { type: "function_call_output", call_id: "call_nope", output: "{}" } });
    assert.match(String((await c.nextError("invalid_value")).message), /call_nope/);
    emu.scriptToolCall({ name: "get_volume", arguments: "{}" });
    emu.scriptToolCall({ name: "set_output", arguments: "" });
    const { events, done } = await c.turn(tone(24000, 0.2));
    const items = events.filter((e) => e.type === "response.output_item.done").map((e): Obj => ({ index: e.output_index, ...(e.item as Obj) }));
    assert.deepEqual(items.map((i) => [i.index, i.name, i.arguments]), [[0, "get_volume", "{}"], [1, "set_output", ""]]);
    assert.equal(events.filter((e) => e.type === "response.function_call_arguments.delta").length, 1, "no arguments delta for empty arguments");
    assert.equal(((done.response as Obj).output as Obj[]).length, 2);
    const outputs = emu.toolOutputs().length;
    for (const item of items) c.send("conversation.item.create", { item: { type: "function_call_output", call_id: item.call_id, output: `{"ok": "${String(item.name)}"}` } });
    await c.next("conversation.item.created");
    await c.next("conversation.item.created");
    assert.deepEqual(emu.toolOutputs().slice(outputs).map((o) => o.name), ["get_volume", "set_output"]);
    await c.close();
  });

  test("realtime (volcengine): only function_call_output items may be created", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    c.send("conversation.item.create", { item: { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] } });
    assert.match(String((await c.nextError("invalid_value")).message), /only takes function_call_output/);
    await c.close();
  });

  test("coze: requires_action with the arguments verbatim, then submit_tool_outputs brings the echo reply", async () => {
    const c = await TestClient.ready(emu.url, FAST_PCM);
    const index = emu.sessions().length - 1;
    emu.scriptToolCall({ name: "set_volume", arguments: BROKEN_ARGS });
    const turnSeen = once(emu.events, "turn");
    const pcm = tone(16000, 0.4);
    c.appendPcm(pcm);
    c.send("input_audio_buffer.complete");
    const action = await c.next("conversation.chat.requires_action");
    const data = action.data as Obj;
    assert.equal(data.status, "requires_action");
    const calls = ((data.required_action as Obj).submit_tool_outputs as Obj).tool_calls as Obj[];
    assert.equal(calls.length, 1);
    const toolCall = calls[0] as Obj;
    assert.equal(toolCall.type, "function");
    assert.deepEqual(toolCall.function, { name: "set_volume", arguments: BROKEN_ARGS });
    assert.equal((data.required_action as Obj).type, "submit_tool_outputs");
    const chatId = String(data.id);
    const sentSoFar = c.events.map((e) => e.event_type);
    assert.ok(!sentSoFar.includes("conversation.audio.delta"), "no audio before the tool outputs");

    c.send("conversation.chat.submit_tool_outputs", { chat_id: "chat_other", tool_outputs: [{ tool_call_id: toolCall.id, output: "{}" }] });
    assert.match(String((await c.next("error")).data?.msg), /chat_id/);
    c.send("conversation.chat.submit_tool_outputs", { chat_id: chatId, tool_outputs: [{ tool_call_id: "call_nope", output: "{}" }] });
    assert.match(String((await c.next("error")).data?.msg), /not one of the pending calls/);
    c.send("conversation.chat.submit_tool_outputs", { chat_id: chatId, tool_outputs: [{ tool_call_id: toolCall.id }] });
    assert.equal((await c.next("error")).data?.code, 4000);

    const toolOutput = once(emu.events, "tool-output");
    const start = c.events.length;
    c.send("conversation.chat.submit_tool_outputs", { chat_id: chatId, tool_outputs: [{ tool_call_id: toolCall.id, output: '{"volume": 5}' }] });
    await c.next("conversation.chat.completed");
    const rest = c.events.slice(start);
    const restOrder = rest.map((e) => e.event_type).filter((t, i, all) => t !== "conversation.audio.delta" || all[i - 1] !== t);
    assert.deepEqual(restOrder, REPLY_EVENTS.slice(REPLY_EVENTS.indexOf("conversation.chat.in_progress")));
    assert.ok(Buffer.concat(audioPayloads(rest)).equals(pcm), "the answer is the echo of the user's turn");
    const [record] = (await toolOutput) as [ToolOutputRecord];
    assert.deepEqual(
      { endpoint: record.endpoint, session: record.session, callId: record.callId, name: record.name, output: record.output },
      { endpoint: "coze", session: index, callId: toolCall.id, name: "set_volume", output: '{"volume": 5}' },
    );
    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.chatId, chatId);
    assert.deepEqual(turn.toolCalls, [{ name: "set_volume", arguments: BROKEN_ARGS, callId: toolCall.id }]);
    assert.equal(turn.canceled, false);
    assert.ok(turn.reply.equals(pcm));
    await c.close();
  });

  test("coze: submit_tool_outputs with no chat waiting is refused; every pending call must be answered in one submit", async () => {
    const c = await TestClient.ready(emu.url, FAST_PCM);
    c.send("conversation.chat.submit_tool_outputs", { chat_id: "x", tool_outputs: [] });
    assert.match(String((await c.next("error")).data?.msg), /no chat is waiting/);
    emu.scriptToolCall({ name: "get_volume", arguments: "{}" });
    emu.scriptToolCall({ name: "get_device_status", arguments: "{}" });
    c.appendPcm(tone(16000, 0.1));
    c.send("input_audio_buffer.complete");
    const data = (await c.next("conversation.chat.requires_action")).data as Obj;
    const calls = ((data.required_action as Obj).submit_tool_outputs as Obj).tool_calls as Obj[];
    assert.deepEqual(calls.map((t) => (t.function as Obj).name), ["get_volume", "get_device_status"]);
    c.send("conversation.chat.submit_tool_outputs", { chat_id: data.id, tool_outputs: [{ tool_call_id: calls[0]?.id, output: "1" }] });
    assert.match(String((await c.next("error")).data?.msg), /missing/);
    c.send("conversation.chat.submit_tool_outputs", {
      chat_id: data.id,
      tool_outputs: calls.map((t) => ({ tool_call_id: t.id, output: "ok" })).reverse(),
    });
    await c.next("conversation.chat.completed");
    await c.close();
  });

  test("coze: cancel while waiting for tool outputs ends the chat; the turn records the calls", async () => {
    const c = await TestClient.ready(emu.url, FAST_PCM);
    emu.scriptToolCall({ name: "set_volume", arguments: "{}" });
    const turnSeen = once(emu.events, "turn");
    c.appendPcm(tone(16000, 0.1));
    c.send("input_audio_buffer.complete");
    await c.next("conversation.chat.requires_action");
    c.send("conversation.chat.cancel");
    await c.next("conversation.chat.canceled");
    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.canceledBy, "client");
    assert.equal(turn.toolCalls.length, 1);
    assert.equal(turn.reply.length, 0);
    await c.close();
  });

  test("a scripted call goes to whichever endpoint answers next, once", async () => {
    emu.scriptToolCall({ name: "get_volume", arguments: "{}" });
    const coze = await TestClient.ready(emu.url, FAST_PCM);
    coze.appendPcm(tone(16000, 0.1));
    coze.send("input_audio_buffer.complete");
    await coze.next("conversation.chat.requires_action");
    const rt = await RtClient.ready(emu.realtimeUrl);
    const { events } = await rt.turn(tone(16000, 0.2));
    assert.ok(!events.some((e) => e.type === "response.function_call_arguments.done"), "the call went to the Coze chat");
    assert.ok(events.some((e) => e.type === "response.audio.delta"));
    await rt.close();
    await coze.close();
  });
});
