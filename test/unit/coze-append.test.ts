/** The uplink's send path: the append encoding, and the sends of one tick leaving in one write. */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketServer, type WebSocket } from "ws";
import { encodeAppend } from "../../src/agent/coze/append";
import { CozeBackend } from "../../src/agent/coze/client";
import { C, encodeEvent } from "../../src/agent/coze/protocol";
import type { AgentEvent } from "../../src/agent/events";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";
import { cozeLinkOptions } from "../support/coze-link";
import { countWrites } from "../support/socket-writes";


describe("append encoding", () => {
  test("the same bytes encodeEvent makes, for any payload", () => {
    const id = "0b9f3a4e-7c1d-4e2a-9f00-123456789abc";
    for (const payload of [Buffer.alloc(0), Buffer.from([0xff]), Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]), Buffer.alloc(640, 0x7f)]) {
      const mine = encodeAppend(payload, id);
      assert.ok(Buffer.isBuffer(mine));
      assert.equal(mine.toString("utf8"), encodeEvent(C.append, { delta: payload.toString("base64") }, id));
    }
  });

  test("a fresh id per event", () => {
    const a = JSON.parse(encodeAppend(Buffer.alloc(4)).toString()) as { id: string };
    const b = JSON.parse(encodeAppend(Buffer.alloc(4)).toString()) as { id: string };
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.id, b.id);
  });
});

/** A Coze-like server that finishes the session setup and records the messages it gets. */
interface Server {
  wss: WebSocketServer;
  url: string;
  messages: string[];
  peer: Promise<WebSocket>;
  /** Resolves once `count` messages have arrived in all; fails after 5 s. */
  received(count: number): Promise<void>;
}

async function server(): Promise<Server> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  const messages: string[] = [];
  const waiters: Array<() => void> = [];
  const peer = new Promise<WebSocket>((resolve) =>
    wss.on("connection", (ws) => {
      ws.on("message", (data, isBinary) => {
        assert.equal(isBinary, false, "every event is a text message");
        const text = (data as Buffer).toString("utf8");
        messages.push(text);
        for (const w of waiters.splice(0)) w();
        const ev = JSON.parse(text) as { event_type: string; data?: unknown };
        if (ev.event_type === C.chatUpdate) ws.send(JSON.stringify({ id: "s2", event_type: "chat.updated", data: ev.data }));
      });
      ws.send(JSON.stringify({ id: "s1", event_type: "chat.created", data: {} }));
      resolve(ws);
    }),
  );
  const received = (count: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`${messages.length} messages arrived, expected ${count}`)), 5000);
      const check = (): void => {
        if (messages.length < count) return void waiters.push(check);
        clearTimeout(guard);
        resolve();
      };
      check();
    });
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/chat`, messages, peer, received };
}

function backend(url: string): { link: CozeBackend; ready: Promise<void> } {
  const link = new CozeBackend(
    cozeLinkOptions(url, { botId: "b1" }),
    silentLogger(),
    new FakeClock(),
  );
  const ready = new Promise<void>((resolve) => link.subscribe((e: AgentEvent) => e.type === "link.ready" && resolve()));
  return { link, ready };
}

describe("Coze link send path", () => {
  let s: Server;
  before(async () => {
    s = await server();
  });
  after(() => {
    for (const c of s.wss.clients) c.terminate();
    s.wss.close();
  });

  test("appends wait for the end of the tick; a commit goes out at once, in one write with them, in order", async (t) => {
    const { link, ready } = backend(s.url);
    link.start();
    await ready;
    await s.peer;
    const before = s.messages.length;
    const frames = [Buffer.alloc(640, 1), Buffer.alloc(640, 2)];
    const writes = countWrites(t, (s.wss.address() as AddressInfo).port);
    assert.ok(link.appendAudio(frames[0]!));
    assert.ok(link.appendAudio(frames[1]!));
    assert.equal(writes.n, 0, "appends are batched");
    assert.ok(link.commitTurn());
    assert.equal(writes.n, 1, "the commit is not held back, and the appends leave in the same write");
    await s.received(before + 3);
    t.mock.restoreAll();
    const sent = s.messages.slice(before).map((m) => JSON.parse(m) as { event_type: string; data?: { delta?: string } });
    assert.deepEqual(
      sent.map((e) => e.event_type),
      [C.append, C.append, C.complete],
    );
    assert.deepEqual(
      sent.slice(0, 2).map((e) => Buffer.from(e.data!.delta!, "base64")),
      frames,
    );
    await link.stop();
  });

  test("the appends of one tick leave together when the tick ends, and batching starts over in the next", async (t) => {
    const { link, ready } = backend(s.url);
    link.start();
    await ready;
    const before = s.messages.length;
    const writes = countWrites(t, (s.wss.address() as AddressInfo).port);
    assert.ok(link.appendAudio(Buffer.alloc(640)));
    assert.ok(link.appendAudio(Buffer.alloc(640)));
    await new Promise((r) => process.nextTick(r));
    assert.equal(writes.n, 1);
    assert.ok(link.appendAudio(Buffer.alloc(640)));
    assert.equal(writes.n, 1, "the next tick batches again");
    assert.ok(link.commitTurn());
    assert.equal(writes.n, 2);
    await s.received(before + 4);
    t.mock.restoreAll();
    assert.equal((JSON.parse(s.messages.at(-1)!) as { event_type: string }).event_type, C.complete);
    await link.stop();
  });
});
