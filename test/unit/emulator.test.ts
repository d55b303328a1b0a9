import { UNLIMITED_SPEED } from "../../src/emulator/shared/pacer";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import WebSocket from "ws";
import { startEmulator, type Emulator, type TurnRecord } from "../../src/emulator/server";
import { FAST_PCM, REPLY_EVENTS, TestClient, handshakeStatus, tone } from "./emulator-client";

const msBetween = (a: bigint, b: bigint): number => Number(b - a) / 1e6;

describe("emulator handshake", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ token: "s3cret-token" });
  });
  after(() => emu.close());

  test("401 without or with a wrong bearer token", async () => {
    const none = await handshakeStatus(`${emu.url}?bot_id=b`);
    assert.equal(none.status, 401);
    const wrong = await handshakeStatus(`${emu.url}?bot_id=b`, { Authorization: "Bearer nope" });
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(wrong.body, /nope|s3cret/);
  });

  test("400 naming bot_id when it is missing", async () => {
    const r = await handshakeStatus(emu.url, { Authorization: "Bearer s3cret-token" });
    assert.equal(r.status, 400);
    assert.match(r.body, /bot_id/);
  });

  test("403 for bot_id forbidden, 404 for another path", async () => {
    const auth = { Authorization: "Bearer s3cret-token" };
    assert.equal((await handshakeStatus(`${emu.url}?bot_id=forbidden`, auth)).status, 403);
    assert.equal((await handshakeStatus(emu.url.replace("/v1/chat", "/v1/other?bot_id=b"), auth)).status, 404);
  });

  test("the right token connects; headers, query and the connection event are recorded", async () => {
    const connected = once(emu.events, "connection");
    const c = await TestClient.connect(emu.url, { token: "s3cret-token", botId: "b7", query: "&device_id=42" });
    const [index, info] = (await connected) as [number, { query: Record<string, string> }];
    assert.deepEqual(info.query, { bot_id: "b7", device_id: "42" });
    const s = emu.sessions()[index];
    assert.equal(s?.headers.authorization, "Bearer s3cret-token");
    assert.equal(s?.open, true);
    await c.close();
  });
});

describe("emulator protocol", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  test("chat.created first, with data {} and a logid; chat.updated carries the effective config with defaults", async () => {
    const c = await TestClient.connect(emu.url);
    const created = await c.next("chat.created");
    assert.deepEqual(created.data, {});
    assert.ok(created.detail?.logid);
    c.send("chat.update", { output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000 } } });
    const updated = await c.next("chat.updated");
    const cfg = updated.data as Record<string, Record<string, unknown>>;
    assert.deepEqual(cfg.input_audio, { format: "pcm", codec: "pcm", sample_rate: 24000, channel: 1, bit_depth: 16 });
    assert.deepEqual(cfg.output_audio, { codec: "pcm", speech_rate: 0, pcm_config: { sample_rate: 16000, frame_size_ms: 40 } });
    assert.deepEqual(cfg.turn_detection, { type: "client_interrupt" });
    assert.match(String(cfg.chat_config?.conversation_id), /.+/);
    assert.notEqual(updated.id, created.id);
    // A later partial update merges instead of replacing.
    c.send("chat.update", { output_audio: { pcm_config: { frame_size_ms: 20 } } });
    const merged = (await c.next("chat.updated")).data as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(merged.output_audio?.pcm_config?.sample_rate, 16000);
    assert.equal(merged.output_audio?.pcm_config?.frame_size_ms, 20);
    await c.close();
  });

  // A client that sends its last appends and the commit in one write (talkbox does, at a
  // release) must not have the emulator's decoding of those appends counted as its time: every
  // event of one socket read is stamped with the read's time (shared/arrival.ts).
  test("the events of one socket write are stamped with the time of the read that brought them", async () => {
    const c = await TestClient.ready(emu.url);
    const socket = (c.ws as unknown as { _socket: import("node:net").Socket })._socket;
    const turnSeen = once(emu.events, "turn");
    socket.cork();
    c.appendPcm(tone(16000, 0.2), 640);
    c.send("input_audio_buffer.complete");
    socket.uncork();
    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.appendAtNs.length, 10);
    assert.deepEqual(new Set([...turn.appendAtNs, turn.completeAtNs]).size, 1, "ten appends and a commit in one write, stamped at different times");
    await c.close();
  });

  test("a turn: full event order, ids consistent, reply byte-identical at equal rates, turn recorded", async () => {
    const c = await TestClient.ready(emu.url);
    const pcm = tone(16000, 0.5);
    const turnSeen = once(emu.events, "turn");
    const { events, audio } = await c.turn(pcm);
    const order = events.map((e) => e.event_type).filter((t, i, all) => t !== "conversation.audio.delta" || all[i - 1] !== t);
    assert.deepEqual(order, ["input_audio_buffer.completed", ...REPLY_EVENTS]);
    assert.ok(audio.equals(pcm), "reply audio must equal what was appended");
    assert.equal(events[1]?.data?.content, "(emulator heard 0.50 s of audio)");

    const chat = events.find((e) => e.event_type === "conversation.chat.created")?.data ?? {};
    assert.equal(chat.status, "created");
    assert.equal(chat.bot_id, "bot1");
    const deltas = events.filter((e) => e.event_type === "conversation.audio.delta");
    assert.equal(deltas.length, 25, "0.5 s in 20 ms frames");
    for (const d of deltas) {
      assert.equal(d.data?.content_type, "audio");
      assert.equal(d.data?.chat_id, chat.id);
      assert.equal(d.data?.conversation_id, chat.conversation_id);
      assert.equal(d.data?.id, deltas[0]?.data?.id);
    }
    const text = events.find((e) => e.event_type === "conversation.message.delta")?.data ?? {};
    assert.equal(text.role, "assistant");
    assert.equal(text.type, "answer");
    assert.equal(text.content_type, "text");
    assert.match(String(text.content), /0\.50 seconds/);
    const done = events.at(-1)?.data ?? {};
    assert.equal(done.status, "completed");
    assert.ok(done.usage, "chat.completed carries usage");
    const ids = new Set(c.events.map((e) => e.id));
    assert.equal(ids.size, c.events.length, "every server event has a unique id");

    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.chatId, chat.id);
    assert.ok(turn.audio.equals(pcm));
    assert.ok(turn.reply.equals(pcm));
    assert.equal(turn.canceled, false);
    assert.equal(turn.appendBytes.reduce((a, b) => a + b, 0), pcm.length);
    assert.equal(turn.appendAtNs.length, Math.ceil(pcm.length / 640));
    assert.ok(turn.completeAtNs >= (turn.appendAtNs.at(-1) ?? 0n));
    assert.ok(emu.turns().includes(turn));
    await c.close();
  });

  test("different rates: the reply is resampled to the output rate", async () => {
    for (const [inRate, outRate] of [[16000, 24000], [24000, 8000], [44100, 16000]] as const) {
      const c = await TestClient.ready(emu.url, {
        input_audio: { format: "pcm", codec: "pcm", sample_rate: inRate, channel: 1, bit_depth: 16 },
        output_audio: { codec: "pcm", pcm_config: { sample_rate: outRate, limit_config: { period: 1, max_frame_num: 10000 } } },
      });
      const pcm = tone(inRate, 0.3);
      const { audio } = await c.turn(pcm);
      assert.equal(audio.length / 2, Math.round((pcm.length / 2) * (outRate / inRate)), `${inRate} → ${outRate}`);
      // Still the same tone: a resampled signal keeps its loudness.
      assert.ok(rms(audio) > 0.8 * rms(pcm), `${inRate} → ${outRate} keeps the signal`);
      await c.close();
    }
  });

  test("limit_config pacing: at most max_frame_num frames per period", async () => {
    const period = 0.15;
    const maxFrames = 3;
    const c = await TestClient.ready(emu.url, {
      ...FAST_PCM,
      output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: 20, limit_config: { period, max_frame_num: maxFrames } } },
    });
    const { events } = await c.turn(tone(16000, 0.2));
    const times = events.filter((e) => e.event_type === "conversation.audio.delta").map((e) => e.atNs);
    assert.equal(times.length, 10);
    const t0 = times[0] as bigint;
    times.forEach((t, i) => {
      const minMs = Math.floor(i / maxFrames) * period * 1000;
      assert.ok(msBetween(t0, t) >= minMs - 2, `frame ${i} arrived after ${msBetween(t0, t).toFixed(1)} ms, expected ≥ ${minMs} ms`);
    });
    await c.close();
  });

  test("without limit_config audio goes out at synthesis speed: faster than real time, never one burst", async () => {
    const c = await TestClient.ready(emu.url, {
      ...FAST_PCM,
      output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: 40 } },
    });
    const { events } = await c.turn(tone(16000, 0.32));
    const times = events.filter((e) => e.event_type === "conversation.audio.delta").map((e) => e.atNs);
    assert.equal(times.length, 8);
    const complete = c.events.find((e) => e.event_type === "input_audio_buffer.completed")?.atNs ?? 0n;
    assert.ok(msBetween(complete, times[0] as bigint) < 200, "the first frame goes out at once");
    const span = msBetween(times[0] as bigint, times[7] as bigint);
    // Half the synthesis-speed span, not all of it: the schedule counts from the pacer's start,
    // and on a loaded machine the first frame's send (cold code) eats a few of its 70 ms
    // (67.5 seen). A burst spans a few ms.
    assert.ok(span >= (7 * 40) / UNLIMITED_SPEED / 2, `8 frames of 40 ms span ${span.toFixed(1)} ms: a burst`);
    assert.ok(span < 7 * 40, `8 frames of 40 ms span ${span.toFixed(1)} ms: real time or slower`);
    await c.close();
  });

  test("replyDelayMs holds conversation.chat.created back", async () => {
    const slow = await startEmulator({ replyDelayMs: 150 });
    try {
      const c = await TestClient.ready(slow.url);
      const { events } = await c.turn(tone(16000, 0.05));
      const completed = events.find((e) => e.event_type === "input_audio_buffer.completed")?.atNs ?? 0n;
      const created = events.find((e) => e.event_type === "conversation.chat.created")?.atNs ?? 0n;
      assert.ok(msBetween(completed, created) >= 148, `chat.created after ${msBetween(completed, created)} ms`);
      await c.close();
    } finally {
      await slow.close();
    }
  });

  test("cancel mid-reply: chat.canceled, no audio after it, turn recorded as canceled; the connection goes on", async () => {
    const c = await TestClient.ready(emu.url, {
      ...FAST_PCM,
      output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: 40 } },
    });
    const pcm = tone(16000, 1);
    const turnSeen = once(emu.events, "turn");
    c.appendPcm(pcm);
    c.send("input_audio_buffer.complete");
    const firstDelta = await c.next("conversation.audio.delta");
    c.send("conversation.chat.cancel");
    const canceled = await c.next("conversation.chat.canceled");
    assert.deepEqual(canceled.data, { code: 2, msg: "canceled by client" });
    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.canceled, true);
    assert.ok(turn.reply.length > 0 && turn.reply.length < pcm.length, `partial reply of ${turn.reply.length} bytes`);
    assert.ok(pcm.subarray(0, turn.reply.length).equals(turn.reply));

    // The old reply's timers would fire during this second (real-time, 0.2 s) turn if cancel had not stopped them.
    const second = await c.turn(tone(16000, 0.2, 300));
    const canceledIdx = c.events.indexOf(canceled);
    const lateOld = c.events.slice(canceledIdx).filter((e) => e.event_type === "conversation.audio.delta" && e.data?.chat_id === firstDelta.data?.chat_id);
    assert.equal(lateOld.length, 0, "no audio of the canceled chat after conversation.chat.canceled");
    assert.ok(c.events.slice(canceledIdx).every((e) => e.event_type !== "conversation.chat.completed" || e.data?.id !== firstDelta.data?.chat_id));
    assert.equal(second.audio.length, tone(16000, 0.2).length);
    await c.close();
  });

  test("4016 for append/complete while a reply runs; a cancel with nothing running is ignored, as the official client needs", async () => {
    const c = await TestClient.ready(emu.url, {
      ...FAST_PCM,
      output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: 40 } },
    });
    c.send("conversation.chat.cancel");
    c.appendPcm(tone(16000, 0.4));
    c.send("input_audio_buffer.complete");
    await c.next("conversation.audio.delta");
    c.appendPcm(tone(16000, 0.02));
    const e1 = await c.next("error");
    assert.equal(e1.data?.code, 4016);
    assert.match(String(e1.data?.msg), /a chat is already running/);
    c.send("input_audio_buffer.complete");
    assert.equal((await c.next("error")).data?.code, 4016);
    await c.next("conversation.chat.completed");
    // The rejected append did not leak into the next turn.
    const again = tone(16000, 0.1);
    assert.ok((await c.turn(again)).audio.equals(again));
    await c.close();
  });

  test("two turns on one connection share the conversation; a given conversation_id is used", async () => {
    const c = await TestClient.ready(emu.url, { ...FAST_PCM, chat_config: { conversation_id: "conv-given" } });
    const a = tone(16000, 0.1, 200);
    const b = tone(16000, 0.15, 600);
    const t1 = await c.turn(a);
    const t2 = await c.turn(b);
    assert.ok(t1.audio.equals(a));
    assert.ok(t2.audio.equals(b));
    const chat1 = t1.events.find((e) => e.event_type === "conversation.chat.created")?.data ?? {};
    const chat2 = t2.events.find((e) => e.event_type === "conversation.chat.created")?.data ?? {};
    assert.equal(chat1.conversation_id, "conv-given");
    assert.equal(chat2.conversation_id, "conv-given");
    assert.notEqual(chat1.id, chat2.id);
    await c.close();

    const d = await TestClient.ready(emu.url);
    const u1 = await d.turn(a);
    const u2 = await d.turn(b);
    const conv = (t: typeof u1): unknown => t.events.find((e) => e.event_type === "conversation.chat.created")?.data?.conversation_id;
    assert.equal(conv(u1), conv(u2));
    assert.notEqual(conv(u1), "conv-given");
    await d.close();
  });

  test("conversation.clear is answered with conversation.cleared, and the next chat is in a new conversation", async () => {
    const c = await TestClient.ready(emu.url);
    const a = tone(16000, 0.1, 200);
    const conv = (t: { events: { event_type: string; data?: Record<string, unknown> }[] }): unknown =>
      t.events.find((e) => e.event_type === "conversation.chat.created")?.data?.conversation_id;
    const before = conv(await c.turn(a));
    c.send("conversation.clear");
    await c.next("conversation.cleared");
    const after = conv(await c.turn(a));
    assert.equal(typeof after, "string");
    assert.notEqual(after, before);
    await c.close();
  });

  test("conversation.message.create (user, text) starts a chat; meta_data from chat_config is on chat and message events", async () => {
    const c = await TestClient.ready(emu.url, { ...FAST_PCM, chat_config: { meta_data: { room: "kitchen" } } });
    c.send("conversation.message.create", { role: "assistant", content_type: "text", content: "context only" });
    c.send("conversation.message.create", { role: "user", content_type: "text", content: "what time is it" });
    const created = await c.next("conversation.chat.created");
    const delta = await c.next("conversation.audio.delta");
    const done = await c.next("conversation.message.completed");
    await c.next("conversation.chat.completed");
    assert.deepEqual(created.data?.meta_data, { room: "kitchen" });
    assert.deepEqual(delta.data?.meta_data, { room: "kitchen" });
    assert.equal(done.data?.content, "what time is it");
    // One chat only: the assistant message added context and asked nothing.
    assert.equal(c.events.filter((e) => e.event_type === "conversation.chat.created").length, 1);
    await c.close();
  });

  test("need_play_prologue: the bot speaks first, right after chat.updated", async () => {
    const c = await TestClient.ready(emu.url, { ...FAST_PCM, need_play_prologue: true });
    await c.next("conversation.chat.created");
    await c.next("conversation.audio.delta");
    const done = await c.next("conversation.message.completed");
    assert.match(String(done.data?.content), /emulator/);
    await c.next("conversation.chat.completed");
    await c.close();
    const quiet = await TestClient.ready(emu.url);
    const a = tone(16000, 0.1, 200);
    const t = await quiet.turn(a);
    assert.equal(t.events.filter((e) => e.event_type === "conversation.chat.created").length, 1, "no prologue unless asked");
    await quiet.close();
  });

  test("input_audio_buffer.clear drops what was appended", async () => {
    const c = await TestClient.ready(emu.url);
    c.appendPcm(tone(16000, 0.1, 900));
    c.send("input_audio_buffer.clear");
    await c.next("input_audio_buffer.cleared");
    const kept = tone(16000, 0.1, 300);
    assert.ok((await c.turn(kept)).audio.equals(kept));
    await c.close();
  });

  test("event_subscriptions limits what is sent", async () => {
    const c = await TestClient.ready(emu.url, {
      ...FAST_PCM,
      event_subscriptions: ["conversation.audio.delta", "conversation.chat.completed"],
    });
    const pcm = tone(16000, 0.1);
    const { events, audio } = await c.turn(pcm);
    assert.ok(audio.equals(pcm));
    assert.deepEqual([...new Set(events.map((e) => e.event_type))], ["conversation.audio.delta", "conversation.chat.completed"]);
    await c.close();
  });

  test("client-event records every message with its raw text", async () => {
    const c = await TestClient.connect(emu.url);
    await c.next("chat.created");
    const seen = once(emu.events, "client-event");
    c.sendRaw("{not json");
    const [sessionIndex, record] = (await seen) as [number, { raw: string; event: unknown; atNs: bigint }];
    assert.equal(record.raw, "{not json");
    assert.equal(record.event, null);
    assert.equal(emu.sessions()[sessionIndex]?.received.at(-1), record);
    await c.close();
  });

  test("WebSocket pings are answered", async () => {
    const c = await TestClient.connect(emu.url);
    c.ws.ping(Buffer.from("hi"));
    const [payload] = (await once(c.ws, "pong")) as [Buffer];
    assert.equal(payload.toString(), "hi");
    await c.close();
  });
});

describe("emulator test controls", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  test("inject sends raw text and binary frames", async () => {
    const connected = once(emu.events, "connection");
    const c = await TestClient.connect(emu.url);
    const [index] = (await connected) as [number];
    await c.next("chat.created");
    emu.inject(index, "{broken");
    const text = await new Promise<{ data: Buffer; binary: boolean }>((resolve) =>
      c.ws.once("message", (data, binary) => resolve({ data: data as Buffer, binary })),
    );
    assert.deepEqual({ s: text.data.toString(), b: text.binary }, { s: "{broken", b: false });
    emu.inject(index, Buffer.from([1, 2, 3]));
    const bin = await new Promise<{ data: Buffer; binary: boolean }>((resolve) =>
      c.ws.once("message", (data, binary) => resolve({ data: data as Buffer, binary })),
    );
    assert.deepEqual({ d: [...bin.data], b: bin.binary }, { d: [1, 2, 3], b: true });
    await c.close();
    await waitClosed(emu, index);
    assert.throws(() => emu.inject(index, "x"), /not open/);
  });

  test("dropAll cuts every connection without a close handshake", async () => {
    const a = await TestClient.ready(emu.url);
    const b = await TestClient.ready(emu.url);
    emu.dropAll();
    assert.equal((await a.closed).code, 1006);
    assert.equal((await b.closed).code, 1006);
    const all = emu.sessions();
    assert.ok(all.every((s) => !s.open));
  });

  test("dropAll mid-reply stops the reply and records it as cut short", async () => {
    const c = await TestClient.ready(emu.url, {
      ...FAST_PCM,
      output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: 40 } },
    });
    const turnSeen = once(emu.events, "turn");
    c.appendPcm(tone(16000, 1));
    c.send("input_audio_buffer.complete");
    await c.next("conversation.audio.delta");
    emu.dropAll();
    const [turn] = (await turnSeen) as [TurnRecord];
    assert.equal(turn.canceled, true);
    await c.closed;
  });

  test("setAcceptConnections(false) answers 503 until turned back on", async () => {
    emu.setAcceptConnections(false);
    assert.equal((await handshakeStatus(`${emu.url}?bot_id=b`)).status, 503);
    emu.setAcceptConnections(true);
    const c = await TestClient.connect(emu.url);
    await c.next("chat.created");
    await c.close();
  });

  test("close() ends open connections with a close frame and stops listening", async () => {
    const own = await startEmulator();
    const c = await TestClient.ready(own.url);
    await own.close();
    assert.equal((await c.closed).code, 1001);
    const ws = new WebSocket(`${own.url}?bot_id=b`);
    const [err] = (await once(ws, "error")) as [NodeJS.ErrnoException];
    assert.equal(err.code, "ECONNREFUSED");
  });
});

function rms(pcm: Buffer): number {
  let sum = 0;
  const n = pcm.length / 2;
  for (let i = 0; i < n; i++) sum += pcm.readInt16LE(i * 2) ** 2;
  return Math.sqrt(sum / n);
}

async function waitClosed(emu: Emulator, index: number): Promise<void> {
  if (!emu.sessions()[index]?.open) return;
  await new Promise<void>((resolve) => {
    const onClose = (i: number): void => {
      if (i !== index) return;
      emu.events.off("close", onClose);
      resolve();
    };
    emu.events.on("close", onClose);
  });
}
