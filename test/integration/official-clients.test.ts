/**
 * The emulator against the vendors' own client libraries, so it stays as strict as the
 * real services and no stricter: `@coze/api`'s WebSocket chat, driven the way its
 * WsChatClient drives push-to-talk (a conversation.chat.cancel at every press, and it
 * closes on any `error`), and the `openai` package's Realtime WebSocket client (beta
 * protocol, `OpenAI-Beta: realtime=v1`, the one the Volcengine gateway mirrors), which
 * only speaks wss: it reaches the emulator through a TLS terminator on loopback.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { after, before, describe, test } from "node:test";
import { CozeAPI, WebsocketsEventType } from "@coze/api";
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/beta/realtime/ws";
import { startEmulator, type Emulator } from "../../src/emulator/server";
import { tone } from "../unit/emulator-client";

const TOKEN = "official-client-token";
const BOT = "7000000000000000001";
const WAIT_MS = 10_000;

interface CozeEvent {
  id: string;
  event_type: string;
  data?: Record<string, unknown>;
}

describe("official clients against the emulator", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ token: TOKEN });
  });
  after(() => emu.close());

  test("@coze/api: prologue, push-to-talk with a cancel at every press, a text message, a new conversation — never an error", async () => {
    const api = new CozeAPI({ token: TOKEN, baseURL: `http://127.0.0.1:${emu.port}`, baseWsURL: `ws://127.0.0.1:${emu.port}` });
    const ws = await api.websockets.chat.create({ bot_id: BOT }, { maxRetries: 0 } as never);
    const events: CozeEvent[] = [];
    const errors: unknown[] = [];
    let closed = false;
    const waiters: (() => void)[] = [];
    ws.onmessage = (data) => {
      const ev = data as unknown as CozeEvent;
      events.push(ev);
      // WsChatClient closes its socket on any error event; so does this test's client.
      if (ev.event_type === WebsocketsEventType.ERROR) {
        errors.push(ev.data);
        ws.close();
      }
      for (const w of waiters.splice(0)) w();
    };
    ws.onerror = (e) => {
      errors.push(e);
      for (const w of waiters.splice(0)) w();
    };
    ws.onclose = () => {
      closed = true;
      for (const w of waiters.splice(0)) w();
    };
    let cursor = 0;
    const next = async (type: string): Promise<CozeEvent> => {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const i = events.findIndex((e, idx) => idx >= cursor && e.event_type === type);
        if (i >= 0) {
          cursor = i + 1;
          return events[i]!;
        }
        assert.deepEqual(errors, [], `an error while waiting for ${type}`);
        assert.equal(closed, false, `the socket closed while waiting for ${type}`);
        assert.ok(Date.now() < deadline, `timed out waiting for ${type}; got ${events.slice(cursor).map((e) => e.event_type).join(", ")}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 200);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    };
    const send = (event_type: string, data?: Record<string, unknown>): void => {
      ws.send({ id: randomUUID(), event_type, ...(data ? { data } : {}) } as never);
    };

    await next(WebsocketsEventType.CHAT_CREATED);
    send(WebsocketsEventType.CHAT_UPDATE, {
      chat_config: { user_id: "u1", meta_data: { device: "talkbox-test" } },
      input_audio: { format: "pcm", codec: "pcm", sample_rate: 16000, channel: 1, bit_depth: 16 },
      output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: 40, limit_config: { period: 1, max_frame_num: 50 } } },
      turn_detection: { type: "client_interrupt" },
      need_play_prologue: true,
    });
    await next(WebsocketsEventType.CHAT_UPDATED);
    const prologue = await next(WebsocketsEventType.CONVERSATION_AUDIO_DELTA);
    assert.deepEqual(prologue.data?.meta_data, { device: "talkbox-test" });
    await next(WebsocketsEventType.CONVERSATION_CHAT_COMPLETED);

    const conversationIds: unknown[] = [];
    for (const hz of [300, 500]) {
      // WsChatClient.startRecord in client_interrupt: interrupt() first, even with nothing playing.
      send(WebsocketsEventType.CONVERSATION_CHAT_CANCEL);
      const pcm = tone(16000, 0.3, hz);
      for (let o = 0; o < pcm.length; o += 640) send(WebsocketsEventType.INPUT_AUDIO_BUFFER_APPEND, { delta: pcm.subarray(o, o + 640).toString("base64") });
      send(WebsocketsEventType.INPUT_AUDIO_BUFFER_COMPLETE);
      const created = await next(WebsocketsEventType.CONVERSATION_CHAT_CREATED);
      conversationIds.push(created.data?.conversation_id);
      const start = cursor;
      await next(WebsocketsEventType.CONVERSATION_CHAT_COMPLETED);
      const audio = Buffer.concat(
        events
          .slice(start, cursor)
          .filter((e) => e.event_type === WebsocketsEventType.CONVERSATION_AUDIO_DELTA)
          .map((e) => Buffer.from(String(e.data?.content), "base64")),
      );
      assert.ok(audio.equals(pcm), `the echo of the ${hz} Hz turn came back whole`);
    }
    assert.equal(conversationIds[0], conversationIds[1]);

    send(WebsocketsEventType.CONVERSATION_MESSAGE_CREATE, { role: "user", content_type: "text", content: "hello from the official client" });
    await next(WebsocketsEventType.CONVERSATION_CHAT_CREATED);
    const answer = await next(WebsocketsEventType.CONVERSATION_MESSAGE_COMPLETED);
    assert.equal(answer.data?.content, "hello from the official client");
    await next(WebsocketsEventType.CONVERSATION_CHAT_COMPLETED);

    send(WebsocketsEventType.CONVERSATION_CLEAR);
    await next(WebsocketsEventType.CONVERSATION_CLEARED);
    send(WebsocketsEventType.CONVERSATION_CHAT_CANCEL);
    const pcm = tone(16000, 0.2, 700);
    send(WebsocketsEventType.INPUT_AUDIO_BUFFER_APPEND, { delta: pcm.toString("base64") });
    send(WebsocketsEventType.INPUT_AUDIO_BUFFER_COMPLETE);
    const fresh = await next(WebsocketsEventType.CONVERSATION_CHAT_CREATED);
    assert.notEqual(fresh.data?.conversation_id, conversationIds[0], "a new conversation after conversation.clear");
    await next(WebsocketsEventType.CONVERSATION_CHAT_COMPLETED);

    assert.deepEqual(errors, []);
    assert.equal(closed, false);
    ws.close();
  });

  test("openai Realtime (beta) client: session, a push-to-talk turn, a response — never an error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-tls-"));
    const proxy = await tlsTerminator(dir, emu.port);
    try {
      const client = new OpenAI({ apiKey: TOKEN, baseURL: `https://127.0.0.1:${proxy.port}/v1` });
      const rt = new OpenAIRealtimeWS({ model: "AG-voice-chat-agent", options: { ca: proxy.cert } }, client);
      const errors: unknown[] = [];
      const seen: { type: string; [k: string]: unknown }[] = [];
      rt.on("error", (e) => errors.push(e.message));
      rt.on("event", (e) => seen.push(e as never));
      const waitFor = (type: string): Promise<Record<string, unknown>> =>
        new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`timed out waiting for ${type}; errors: ${JSON.stringify(errors)}; seen: ${seen.map((e) => e.type).join(", ")}`)), WAIT_MS);
          rt.on("event", (e) => {
            if (e.type === type) {
              clearTimeout(t);
              resolve(e as never);
            }
          });
        });

      const created = waitFor("session.created");
      await new Promise<void>((resolve, reject) => {
        rt.socket.once("open", () => resolve());
        rt.socket.once("error", reject);
      });
      await created;
      const updated = waitFor("session.updated");
      rt.send({
        type: "session.update",
        session: { modalities: ["audio", "text"], input_audio_format: "pcm16", output_audio_format: "pcm16", turn_detection: null as never, voice: "alloy" },
      });
      await updated;

      const pcm = tone(24000, 0.4, 400);
      for (let o = 0; o < pcm.length; o += 4800) rt.send({ type: "input_audio_buffer.append", audio: pcm.subarray(o, o + 4800).toString("base64") });
      const committed = waitFor("input_audio_buffer.committed");
      rt.send({ type: "input_audio_buffer.commit" });
      await committed;
      const done = waitFor("response.done");
      rt.send({ type: "response.create" });
      const response = (await done).response as { status?: string };
      assert.equal(response.status, "completed");
      const audio = Buffer.concat(seen.filter((e) => e.type === "response.audio.delta").map((e) => Buffer.from(String(e.delta), "base64")));
      assert.ok(audio.equals(pcm), "the echo came back whole");
      assert.deepEqual(errors, []);
      rt.close();
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A TLS server on loopback that passes each connection on to `port` (a self-signed certificate for 127.0.0.1). */
async function tlsTerminator(dir: string, port: number): Promise<{ port: number; cert: Buffer; close(): Promise<void> }> {
  const key = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certFile], { stdio: "ignore" });
  const cert = readFileSync(certFile);
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: readFileSync(key), cert }, (client) => {
    const upstream = net.connect(port, "127.0.0.1");
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cert,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
