/**
 * The emulator's Realtime endpoint (/v1/realtime) over a real WebSocket on loopback: the
 * Volcengine gateway's behaviour by default, OpenAI's with `OpenAI-Beta: realtime=v1`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createDecoder, createEncoder } from "../../src/codec/registry";
import { UNLIMITED_SPEED } from "../../src/emulator/shared/pacer";
import { DELTA_MS } from "../../src/emulator/realtime/session";
import { startEmulator, type Emulator, type RealtimeResponseRecord } from "../../src/emulator/server";
import { handshakeStatus, tone } from "./emulator-client";
import { PTT, RtClient, SPOKEN_RESPONSE, audioOf, order, type RtEvent } from "./emulator-realtime-client";

const msBetween = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const last = <T>(xs: T[]): T => xs.at(-1) as T;

describe("realtime handshake", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ token: "s3cret-token" });
  });
  after(() => emu.close());

  test("realtimeUrl names the path and the gateway's model", () => {
    assert.equal(emu.realtimeUrl, `ws://127.0.0.1:${emu.port}/v1/realtime?model=AG-voice-chat-agent`);
  });

  test("401 without or with a wrong bearer token; 400 naming model when it is missing", async () => {
    assert.equal((await handshakeStatus(emu.realtimeUrl)).status, 401);
    const wrong = await handshakeStatus(emu.realtimeUrl, { Authorization: "Bearer nope" });
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(wrong.body, /nope|s3cret/);
    const noModel = await handshakeStatus(emu.realtimeUrl.replace(/\?.*/, ""), { Authorization: "Bearer s3cret-token" });
    assert.equal(noModel.status, 400);
    assert.match(noModel.body, /model/);
  });

  test("the right token connects; flavour, headers and query are recorded and announced", async () => {
    const connected = once(emu.events, "realtime-connection");
    const c = await RtClient.connect(emu.realtimeUrl, { token: "s3cret-token", flavour: "openai", query: "&ag-custom-model=doubao-pro-32k-functioncall" });
    const [index, info] = (await connected) as [number, { flavour: string; query: Record<string, string> }];
    assert.equal(info.flavour, "openai");
    assert.deepEqual(info.query, { model: "AG-voice-chat-agent", "ag-custom-model": "doubao-pro-32k-functioncall" });
    const s = emu.realtimeSessions()[index];
    assert.equal(s?.headers.authorization, "Bearer s3cret-token");
    assert.equal(s?.headers["openai-beta"], "realtime=v1");
    assert.equal(s?.customModel, "doubao-pro-32k-functioncall");
    assert.equal(s?.cozeBotId, null);
    assert.equal(emu.sessions().length, 0, "a Realtime connection is not a Coze session");
    await c.close();
  });
});

describe("realtime protocol", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  test("volcengine: session.created first with the gateway's defaults; session.updated carries the effective session", async () => {
    const c = await RtClient.connect(emu.realtimeUrl);
    const created = await c.next("session.created");
    assert.equal(c.events[0], created, "session.created is the first server event");
    const s = created.session as Record<string, unknown>;
    assert.match(String(s.id), /^sess_/);
    assert.equal(s.object, "realtime.session");
    assert.equal(s.input_audio_format, "pcm16");
    assert.equal(s.output_audio_format, "pcm16");
    assert.equal(s.turn_detection, null);
    assert.equal(s.voice, "zh_female_tianmeixiaoyuan_moon_bigtts");
    assert.deepEqual(s.tools, []);
    const tools = [{ type: "function", name: "set_volume", description: "Set the volume", parameters: { type: "object", properties: { level: { type: "integer" } } } }];
    c.send("session.update", { session: { instructions: "be brief", tools, tool_choice: "auto", modalities: ["audio"] } });
    const updated = (await c.next("session.updated")).session as Record<string, unknown>;
    assert.equal(updated.id, s.id);
    assert.equal(updated.instructions, "be brief");
    assert.deepEqual(updated.tools, tools);
    assert.deepEqual(updated.modalities, ["audio"]);
    assert.equal(updated.voice, s.voice, "fields not in the update stay");
    const view = last(emu.realtimeSessions());
    assert.equal(view.flavour, "volcengine");
    assert.equal(view.sessionId, s.id);
    assert.deepEqual(view.session.tools, tools);
    assert.equal(view.resumed, false);
    await c.close();
  });

  test("openai: default server_vad, pcm16; session.update works at any time; a bad field is an error naming it", async () => {
    const c = await RtClient.connect(emu.realtimeUrl, { flavour: "openai" });
    const s = (await c.next("session.created")).session as Record<string, unknown>;
    assert.deepEqual(s.turn_detection, { type: "server_vad", threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true });
    assert.equal(s.input_audio_format, "pcm16");
    c.send("session.update", { session: PTT });
    const ptt = (await c.next("session.updated")).session as Record<string, unknown>;
    assert.equal(ptt.turn_detection, null);
    c.append(tone(24000, 0.05));
    c.send("session.update", { session: { turn_detection: { type: "server_vad", silence_duration_ms: 300 } } });
    const td = ((await c.next("session.updated")).session as Record<string, unknown>).turn_detection as Record<string, unknown>;
    assert.equal(td.silence_duration_ms, 300);
    assert.equal(td.prefix_padding_ms, 300, "defaults fill the fields left out");
    const eventId = c.send("session.update", { session: { input_audio_format: "opus" } });
    const err = await c.nextError("invalid_value");
    assert.equal(err.param, "session.input_audio_format");
    assert.equal(err.event_id, eventId);
    assert.match(String(err.message), /pcm16, g711_ulaw, g711_alaw/);
    c.send("session.update", { session: { temprature: 0.8 } });
    assert.match(String((await c.nextError("invalid_value")).message), /unknown parameter/);
    await c.close();
  });

  test("volcengine: session.update after another client event is refused; a non-null turn_detection is refused while the rest applies", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    c.send("session.update", { session: { turn_detection: { type: "server_vad" }, instructions: "hi" } });
    const err = await c.nextError("unsupported_value");
    assert.equal(err.param, "session.turn_detection");
    const updated = (await c.next("session.updated")).session as Record<string, unknown>;
    assert.equal(updated.turn_detection, null);
    assert.equal(updated.instructions, "hi");
    c.send("session.update", { session: { voice: "alloy" } });
    assert.match(String((await c.nextError("invalid_value")).message), /zh_/);
    c.send("session.update", { session: { input_audio_format: "g711_ulaw" } });
    assert.match(String((await c.nextError("invalid_value")).message), /pcm16/);

    c.send("input_audio_buffer.clear");
    await c.next("input_audio_buffer.cleared");
    c.send("session.update", { session: { instructions: "later" } });
    assert.match(String((await c.nextError("session_update_not_allowed")).message), /only at the start/);
    assert.equal(last(emu.realtimeSessions()).session.instructions, "hi");
    await c.close();
  });

  test("volcengine: a push-to-talk turn echoes pcm16 16 kHz byte for byte, in the documented order, and is recorded", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    const index = emu.realtimeSessions().length - 1;
    const pcm = tone(16000, 0.5);
    const responseSeen = once(emu.events, "realtime-response");
    const { events, audio, done } = await c.turn(pcm);
    assert.deepEqual(order(events), ["input_audio_buffer.committed", "conversation.item.created", ...SPOKEN_RESPONSE]);
    assert.ok(audio.equals(pcm), "the reply audio is the committed audio");

    const committed = events[0] as RtEvent;
    const userItem = (events[1] as RtEvent).item as Record<string, unknown>;
    assert.equal(userItem.id, committed.item_id);
    assert.deepEqual({ role: userItem.role, type: userItem.type, status: userItem.status }, { role: "user", type: "message", status: "completed" });
    const responseId = ((events.find((e) => e.type === "response.created") as RtEvent).response as Record<string, unknown>).id;
    const added = events.find((e) => e.type === "response.output_item.added") as RtEvent;
    const assistant = added.item as Record<string, unknown>;
    assert.deepEqual({ role: assistant.role, type: assistant.type, status: assistant.status }, { role: "assistant", type: "message", status: "in_progress" });
    const assistantCreated = events.filter((e) => e.type === "conversation.item.created")[1] as RtEvent;
    assert.equal(assistantCreated.previous_item_id, userItem.id);
    const deltas = events.filter((e) => e.type === "response.audio.delta");
    assert.equal(deltas.length, 500 / DELTA_MS);
    for (const d of deltas) {
      assert.equal(d.response_id, responseId);
      assert.equal(d.item_id, assistant.id);
      assert.equal(d.output_index, 0);
      assert.equal(d.content_index, 0);
    }
    const transcript = (events.find((e) => e.type === "response.audio_transcript.done") as RtEvent).transcript;
    assert.match(String(transcript), /0\.50 seconds/);
    const response = done.response as Record<string, unknown>;
    assert.equal(response.id, responseId);
    assert.equal(response.status, "completed");
    const output = response.output as Array<Record<string, unknown>>;
    assert.equal(output[0]?.id, assistant.id);
    assert.equal(output[0]?.status, "completed");
    assert.ok(response.usage, "response.done carries usage");
    assert.equal(new Set(c.events.map((e) => e.event_id)).size, c.events.length, "every server event has its own event_id");

    const [record] = (await responseSeen) as [RealtimeResponseRecord];
    const view = emu.realtimeSessions()[index];
    assert.equal(view?.responses[0], record);
    assert.equal(record.id, responseId);
    assert.equal(record.status, "completed");
    assert.equal(record.itemId, assistant.id);
    assert.ok(record.audio.equals(pcm));
    assert.equal(record.audioMs, 500);
    assert.deepEqual(record.request, {});
    assert.ok(record.firstAudioAtNs !== null && record.firstAudioAtNs >= record.createdAtNs);
    const commit = view?.commits[0];
    assert.equal(commit?.itemId, userItem.id);
    assert.equal(commit?.by, "client");
    assert.ok(commit?.audio.equals(pcm));
    assert.equal(commit?.bytes, pcm.length);
    assert.equal(commit?.ms, 500);
    assert.equal(commit?.appendAtNs.length, Math.ceil(pcm.length / 640));
    assert.deepEqual(
      view?.received.map((r) => r.type).filter((t, i, all) => t !== all[i - 1]),
      ["input_audio_buffer.append", "input_audio_buffer.commit", "response.create"],
    );
    assert.ok(emu.realtimeResponses().includes(record));
    await c.close();
  });

  test("openai: pcm16 at 24 kHz echoes byte for byte; g711_ulaw in and out at 8 kHz", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { flavour: "openai", session: PTT });
    const pcm = tone(24000, 0.3);
    assert.ok((await c.turn(pcm)).audio.equals(pcm));

    c.send("session.update", { session: { input_audio_format: "g711_ulaw", output_audio_format: "g711_ulaw" } });
    await c.next("session.updated");
    const G711U = { codec: "g711u" as const, sampleRate: 8000, channels: 1 as const };
    const decode = (b: Buffer): Buffer => createDecoder(G711U).decode(b);
    const ulaw = createEncoder(G711U, 20).encode(tone(8000, 0.4, 300));
    const { audio } = await c.turn(ulaw, 160);
    assert.equal(audio.length, ulaw.length, "one byte per sample at 8 kHz");
    assert.ok(decode(audio).equals(decode(ulaw)), "the same samples come back");
    assert.equal(last(last(emu.realtimeSessions()).commits).ms, 400);
    await c.close();
  });

  test("commit with an empty or under-100 ms buffer: input_audio_buffer_commit_empty; the audio stays for the next commit", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    c.send("input_audio_buffer.commit");
    assert.match(String((await c.nextError("input_audio_buffer_commit_empty")).message), /0\.00ms/);
    const a = tone(16000, 0.06);
    c.append(a);
    c.send("input_audio_buffer.commit");
    assert.match(String((await c.nextError("input_audio_buffer_commit_empty")).message), /60\.00ms/);
    const b = tone(16000, 0.06, 700);
    c.append(b);
    c.send("input_audio_buffer.commit");
    await c.next("input_audio_buffer.committed");
    assert.ok(last(last(emu.realtimeSessions()).commits).audio.equals(Buffer.concat([a, b])));
    assert.deepEqual(last(emu.realtimeSessions()).errors.map((e) => e.code), ["input_audio_buffer_commit_empty", "input_audio_buffer_commit_empty"]);
    await c.close();
  });

  test("input_audio_buffer.clear drops what was appended", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    c.append(tone(16000, 0.2, 900));
    c.send("input_audio_buffer.clear");
    await c.next("input_audio_buffer.cleared");
    const kept = tone(16000, 0.2, 300);
    assert.ok((await c.turn(kept)).audio.equals(kept));
    await c.close();
  });

  test("response.create while a response runs: conversation_already_has_active_response, and the first goes on", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    const pcm = tone(16000, 1);
    c.append(pcm);
    c.send("input_audio_buffer.commit");
    c.send("response.create");
    c.send("response.create");
    const err = await c.nextError("conversation_already_has_active_response");
    const created = c.events.find((e) => e.type === "response.created") as RtEvent;
    assert.match(String(err.message), new RegExp(String((created.response as Record<string, unknown>).id)));
    const done = await c.next("response.done");
    assert.equal((done.response as Record<string, unknown>).status, "completed");
    assert.ok(audioOf(c.events).equals(pcm));
    assert.equal(c.events.filter((e) => e.type === "response.created").length, 1);
    await c.close();
  });

  test("response.cancel mid-response: response.done cancelled, no audio after it; with nothing running: response_cancel_not_active", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { flavour: "openai", session: PTT });
    c.send("response.cancel");
    assert.match(String((await c.nextError("response_cancel_not_active")).message), /no active response/);
    const pcm = tone(24000, 1);
    const responseSeen = once(emu.events, "realtime-response");
    c.append(pcm);
    c.send("input_audio_buffer.commit");
    c.send("response.create");
    await c.next("response.audio.delta");
    c.send("response.cancel");
    const done = await c.next("response.done");
    const response = done.response as Record<string, unknown>;
    assert.equal(response.status, "cancelled");
    assert.deepEqual(response.status_details, { type: "cancelled", reason: "client_cancelled" });
    const [record] = (await responseSeen) as [RealtimeResponseRecord];
    assert.equal(record.status, "cancelled");
    assert.equal(record.cancelReason, "client_cancelled");
    assert.ok(record.audio.length > 0 && record.audio.length < pcm.length, `partial reply of ${record.audio.length} bytes`);
    assert.ok(pcm.subarray(0, record.audio.length).equals(record.audio));
    assert.ok(audioOf(c.events).equals(record.audio), "no audio went out after response.done");

    // The old response's timers would fire during this second turn if cancel had not stopped them.
    const next = tone(24000, 0.3, 300);
    const second = await c.turn(next);
    assert.ok(second.audio.equals(next));
    c.send("response.cancel");
    await c.nextError("response_cancel_not_active");
    await c.close();
  });

  test("conversation.item.truncate is recorded and answered; a wrong item, a user item or a time past the audio is an error", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { flavour: "openai", session: PTT });
    const { events, done } = await c.turn(tone(24000, 0.4));
    const itemId = String(((done.response as Record<string, unknown>).output as Array<Record<string, unknown>>)[0]?.id);
    const userItemId = String((events[0] as RtEvent).item_id);
    c.send("conversation.item.truncate", { item_id: itemId, content_index: 0, audio_end_ms: 150 });
    const truncated = await c.next("conversation.item.truncated");
    assert.deepEqual({ item_id: truncated.item_id, content_index: truncated.content_index, audio_end_ms: truncated.audio_end_ms }, { item_id: itemId, content_index: 0, audio_end_ms: 150 });
    const record = last(last(emu.realtimeSessions()).responses);
    assert.equal(record.truncate?.itemId, itemId);
    assert.equal(record.truncate?.audioEndMs, 150);

    c.send("conversation.item.truncate", { item_id: "item_nope", content_index: 0, audio_end_ms: 10 });
    assert.match(String((await c.nextError("invalid_value")).message), /no item item_nope/);
    c.send("conversation.item.truncate", { item_id: userItemId, content_index: 0, audio_end_ms: 10 });
    assert.match(String((await c.nextError("invalid_value")).message), /not an assistant audio message/);
    c.send("conversation.item.truncate", { item_id: itemId, content_index: 0, audio_end_ms: 900 });
    assert.match(String((await c.nextError("invalid_value")).message), /beyond the 400 ms/);
    c.send("conversation.item.truncate", { item_id: itemId, content_index: 0, audio_end_ms: -1 });
    assert.equal((await c.nextError("invalid_value")).param, "audio_end_ms");
    assert.equal(record.truncate?.audioEndMs, 150, "refused truncates leave the record alone");
    await c.close();
  });

  test("X-Conversation-Id continues a conversation: session.created carries it, recorded as resumed", async () => {
    const first = await RtClient.connect(emu.realtimeUrl, { query: "&ag-coze-bot-id=7400" });
    const id = String(((await first.next("session.created")).session as Record<string, unknown>).id);
    await first.close();
    const again = await RtClient.connect(emu.realtimeUrl, { query: "&ag-coze-bot-id=7400", headers: { "X-Conversation-Id": id } });
    const resumed = (await again.next("session.created")).session as Record<string, unknown>;
    assert.equal(resumed.id, id);
    const view = last(emu.realtimeSessions());
    assert.equal(view.sessionId, id);
    assert.equal(view.resumed, true);
    assert.equal(view.headers["x-conversation-id"], id);
    await again.close();
  });

  test("Coze-bot mode (ag-coze-bot-id): response.cancel is refused and the response goes on to completion", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { query: "&ag-coze-bot-id=7400" });
    assert.equal(last(emu.realtimeSessions()).cozeBotId, "7400");
    const pcm = tone(16000, 1);
    c.append(pcm);
    c.send("input_audio_buffer.commit");
    c.send("response.create");
    await c.next("response.audio.delta");
    c.send("response.cancel");
    assert.match(String((await c.nextError("response_cancel_not_supported")).message), /Coze bot/);
    const done = await c.next("response.done");
    assert.equal((done.response as Record<string, unknown>).status, "completed");
    assert.ok(audioOf(c.events).equals(pcm));
    await c.close();
  });

  test("bad JSON, a binary frame, an unknown event or bad base64: invalid_request_error, and the connection goes on", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    c.sendRaw("{nope");
    assert.match(String((await c.nextError("invalid_json")).message), /not JSON/);
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.match(String((await c.nextError("invalid_json")).message), /binary/);
    c.sendRaw(JSON.stringify({ event_id: "x" }));
    await c.nextError("missing_type");
    const id = c.send("conversation.frobnicate");
    const err = await c.nextError("invalid_value");
    assert.equal(err.type, "invalid_request_error");
    assert.equal(err.event_id, id);
    assert.match(String(err.message), /unknown event type "conversation.frobnicate"/);
    c.send("input_audio_buffer.append", { audio: "not base64!" });
    assert.equal((await c.nextError("invalid_value")).param, "audio");
    c.send("input_audio_buffer.append", { audio: Buffer.from([1, 2, 3]).toString("base64") });
    assert.match(String((await c.nextError("invalid_value")).message), /16-bit/);
    const pcm = tone(16000, 0.2);
    assert.ok((await c.turn(pcm)).audio.equals(pcm));
    const received = last(emu.realtimeSessions()).received;
    assert.equal(received[0]?.event, null);
    assert.equal(received[0]?.raw, "{nope");
    await c.close();
  });

  test("input_audio_transcription on: a transcript of the committed audio; modalities [audio]: no audio_transcript events", async () => {
    const c = await RtClient.ready(emu.realtimeUrl, { session: { input_audio_transcription: { model: "any" }, modalities: ["audio"] } });
    const { events } = await c.turn(tone(16000, 0.3));
    const t = events.find((e) => e.type === "conversation.item.input_audio_transcription.completed") as RtEvent;
    assert.equal(t.item_id, events[0]?.item_id);
    assert.equal(t.transcript, "(emulator heard 0.30 s of audio)");
    assert.ok(!events.some((e) => e.type.startsWith("response.audio_transcript.")));
    assert.ok(events.some((e) => e.type === "response.audio.delta"));
    await c.close();
  });

  test("volcengine keeps 10 turns: an item 11 turns back is gone; openai keeps it", async () => {
    for (const flavour of ["volcengine", "openai"] as const) {
      const c = await RtClient.ready(emu.realtimeUrl, { flavour, session: flavour === "openai" ? PTT : undefined });
      const rate = flavour === "openai" ? 24000 : 16000;
      const items: string[] = [];
      for (let i = 0; i < 11; i++) {
        const { done } = await c.turn(tone(rate, 0.1, 200 + i * 50));
        items.push(String(((done.response as Record<string, unknown>).output as Array<Record<string, unknown>>)[0]?.id));
      }
      c.send("conversation.item.truncate", { item_id: items[0], content_index: 0, audio_end_ms: 50 });
      if (flavour === "volcengine") assert.match(String((await c.nextError("invalid_value")).message), /no item/);
      else assert.equal((await c.next("conversation.item.truncated")).item_id, items[0]);
      c.send("conversation.item.truncate", { item_id: items[1], content_index: 0, audio_end_ms: 50 });
      assert.equal((await c.next("conversation.item.truncated")).item_id, items[1], `${flavour}: the 10 latest turns are kept`);
      await c.close();
    }
  });

  test("response.create with no audio committed yet: a completed response without audio", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    c.send("response.create", { response: { modalities: ["text", "audio"] } });
    const done = await c.next("response.done");
    assert.equal((done.response as Record<string, unknown>).status, "completed");
    assert.equal(audioOf(c.events).length, 0);
    assert.deepEqual(last(last(emu.realtimeSessions()).responses).request, { modalities: ["text", "audio"] });
    await c.close();
  });

  test("dropAll cuts Realtime connections too, and a running response is recorded as cut by the connection", async () => {
    const c = await RtClient.ready(emu.realtimeUrl);
    const responseSeen = once(emu.events, "realtime-response");
    c.append(tone(16000, 1));
    c.send("input_audio_buffer.commit");
    c.send("response.create");
    await c.next("response.audio.delta");
    emu.dropAll();
    assert.equal((await c.closed).code, 1006);
    const [record] = (await responseSeen) as [RealtimeResponseRecord];
    assert.equal(record.cancelReason, "connection");
  });
});

describe("realtime idle close and pacing", () => {
  test("volcengine: error then close after idleCloseMs without a client message; each message restarts the wait; openai never idles out", async () => {
    const idleCloseMs = 300;
    const emu = await startEmulator({ idleCloseMs });
    try {
      const quiet = await RtClient.ready(emu.realtimeUrl);
      const closed = await quiet.closed;
      const err = quiet.events.find((e) => e.type === "error") as RtEvent;
      assert.equal((err.error as Record<string, unknown>).code, "idle_timeout");
      assert.ok(err.atNs <= closed.atNs);
      assert.equal(closed.code, 1000);
      const view = emu.realtimeSessions()[0];
      assert.ok(view?.idleClosedAtNs !== null);
      const openedAt = quiet.events[0]?.atNs as bigint;
      assert.ok(msBetween(openedAt, closed.atNs) >= idleCloseMs - 20, `closed after ${msBetween(openedAt, closed.atNs).toFixed(0)} ms`);

      const openai = await RtClient.ready(emu.realtimeUrl, { flavour: "openai" });
      const busy = await RtClient.ready(emu.realtimeUrl);
      // Messages every 100 ms for 600 ms: twice the idle time, and the connection stays.
      let lastSent = process.hrtime.bigint();
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        lastSent = process.hrtime.bigint();
        busy.send("input_audio_buffer.clear");
        await busy.next("input_audio_buffer.cleared");
      }
      const busyClosed = await busy.closed;
      assert.ok(msBetween(lastSent, busyClosed.atNs) >= idleCloseMs - 20, `closed ${msBetween(lastSent, busyClosed.atNs).toFixed(0)} ms after the last message`);
      // The OpenAI connection, as old as the busy one, is still there and answers.
      openai.send("input_audio_buffer.clear");
      await openai.next("input_audio_buffer.cleared");
      assert.ok(emu.realtimeSessions()[1]?.open);
      await openai.close();
    } finally {
      await emu.close();
    }
  });

  const spanOfDeltas = (events: RtEvent[]): { n: number; spanMs: number } => {
    const times = events.filter((e) => e.type === "response.audio.delta").map((e) => e.atNs);
    return { n: times.length, spanMs: msBetween(times[0] as bigint, last(times)) };
  };

  test("realtimePacing fast (default): faster than real time, never one burst; realtime: real time", async () => {
    const fast = await startEmulator();
    const slow = await startEmulator({ realtimePacing: "realtime" });
    try {
      const frames = 10;
      const pcm = tone(16000, (frames * DELTA_MS) / 1000);
      const a = await RtClient.ready(fast.realtimeUrl);
      const f = spanOfDeltas((await a.turn(pcm)).events);
      assert.equal(f.n, frames);
      assert.ok(f.spanMs >= ((frames - 1) * DELTA_MS) / UNLIMITED_SPEED - 2, `fast: ${f.spanMs.toFixed(1)} ms is a burst`);
      assert.ok(f.spanMs < (frames - 1) * DELTA_MS, `fast: ${f.spanMs.toFixed(1)} ms is real time or slower`);
      const b = await RtClient.ready(slow.realtimeUrl);
      const r = spanOfDeltas((await b.turn(pcm)).events);
      assert.equal(r.n, frames);
      assert.ok(r.spanMs >= (frames - 1) * DELTA_MS - 2, `realtime: ${r.spanMs.toFixed(1)} ms is faster than real time`);
      await a.close();
      await b.close();
    } finally {
      await fast.close();
      await slow.close();
    }
  });

  test("close() ends Realtime connections with a close frame", async () => {
    const own = await startEmulator();
    const c = await RtClient.ready(own.realtimeUrl);
    await own.close();
    assert.equal((await c.closed).code, 1001);
  });
});
