/** The shared agent link against a real WebSocket server on loopback; its timers on a fake clock. */
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { EventEmitter, once } from "node:events";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import WebSocket, { WebSocketServer } from "ws";
import { decodeJsonFrame } from "../../src/agent/wire/json-frame";
import { describeSocketError } from "../../src/agent/link/socket-error";
import { WsLink, type LinkProtocol } from "../../src/agent/link/ws-link";
import type { LinkSettings } from "../../src/agent/link-settings";
import { FakeClock } from "../support/fake-clock";
import { LogCapture, Recorder } from "./realtime-script";

/** A WebSocket server that takes or refuses handshakes as the test says and keeps what came in. */
class Server {
  readonly conns: Array<{ ws: WebSocket; req: http.IncomingMessage; received: string[]; closed: Promise<{ code: number; reason: string }> }> = [];
  /** When set, handshakes are refused with this HTTP status and body. */
  reject: { status: number; body: string } | null = null;
  private readonly signal = new EventEmitter();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(opts: { autoPong?: boolean } = {}): Promise<Server> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true, autoPong: opts.autoPong ?? true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const s = new Server(server, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/agent`);
    server.on("upgrade", (req, socket, head) => {
      if (s.reject) {
        const { status, body } = s.reject;
        socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const received: string[] = [];
        ws.on("message", (data) => received.push(String(data)));
        const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
        s.conns.push({ ws, req, received, closed });
        s.signal.emit("conn");
      });
    });
    return s;
  }

  /** The n-th connection (1-based), once it is there. */
  async conn(n: number): Promise<Server["conns"][number]> {
    while (this.conns.length < n) await once(this.signal, "conn", { signal: AbortSignal.timeout(5000) });
    return this.conns[n - 1]!;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const settings = (url: string): LinkSettings => ({
  url,
  connectTimeoutMs: 5000,
  pingIntervalMs: 15_000,
  pingTimeoutMs: 10_000,
  reconnect: { initialMs: 500, maxMs: 30_000, authFailureMs: 300_000 },
});

/**
 * A link whose protocol is the test's: the server's text "ready" completes the
 * session setup; every other message is recorded. The hooks' calls are recorded too.
 */
function makeLink(url: string, over: Partial<LinkProtocol> = {}) {
  const clock = new FakeClock();
  const rec = new Recorder();
  const logs = new LogCapture();
  const hooks: string[] = [];
  const messages = new EventEmitter();
  let link: WsLink;
  const protocol: LinkProtocol = {
    prepare: (u) => {
      u.searchParams.set("bot", "b-7");
      return { headers: { Authorization: "Bearer k-123" }, log: { extra: 1 } };
    },
    opened: () => hooks.push("opened"),
    message: (_ws, data, isBinary) => {
      const text = String(data);
      hooks.push(`message ${isBinary ? "binary" : text}`);
      if (text === "ready") link.ready();
      messages.emit("message", text);
    },
    rejected: (status, body) => ({ problem: "server", message: `refused ${status} ${body}` }),
    closed: () => hooks.push("closed"),
    heldMessage: "fix the key",
    maxFrame: { bytes: 64 * 1024, largest: "a test message" },
    emit: rec.listener,
    ...over,
  };
  link = new WsLink(settings(url), protocol, logs.logger, clock);
  /** Resolves when the protocol got this message from the server. */
  const message = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      // A failure guard only: the message arrives long before.
      const guard = setTimeout(() => reject(new Error(`timed out waiting for the message ${text}`)), 5000);
      const on = (m: string): void => {
        if (m !== text) return;
        messages.off("message", on);
        clearTimeout(guard);
        resolve();
      };
      messages.on("message", on);
    });
  return { link, clock, rec, logs, hooks, message };
}

/** Starts a link to a server of its own (refusing handshakes while `reject` is set), runs `fn`, then stops both. */
async function withOwnServer(
  opts: { autoPong?: boolean; reject?: { status: number; body: string }; protocol?: (s: Server) => Partial<LinkProtocol> },
  fn: (h: ReturnType<typeof makeLink>, s: Server) => Promise<void>,
): Promise<void> {
  const s = await Server.start(opts.autoPong === undefined ? {} : { autoPong: opts.autoPong });
  s.reject = opts.reject ?? null;
  const h = makeLink(s.url, opts.protocol?.(s));
  try {
    h.link.start();
    await fn(h, s);
  } finally {
    await h.link.stop();
    await s.close();
  }
}

describe("agent link", () => {
  let server: Server;
  before(async () => {
    server = await Server.start();
  });
  after(() => server.close());

  test("connects with the protocol's query and headers; usable only once the protocol says its session is ready", async () => {
    const h = makeLink(server.url);
    try {
      h.link.start();
      assert.deepEqual(h.rec.events, [{ type: "link.connecting", attempt: 1 }]);
      assert.equal(h.link.phase, "connecting");
      const conn = await server.conn(server.conns.length + 1);
      assert.equal(conn.req.url, "/v1/agent?bot=b-7");
      assert.equal(conn.req.headers.authorization, "Bearer k-123");
      const line = h.logs.lines.find((l) => l.msg === "connecting to agent");
      assert.deepEqual({ url: line?.url, attempt: line?.attempt, extra: line?.extra }, { url: server.url, attempt: 1, extra: 1 });
      assert.ok(!JSON.stringify(h.logs.lines).includes("k-123"));

      conn.ws.send("hello");
      await h.message("hello");
      assert.deepEqual(h.hooks, ["opened", "message hello"]);
      assert.equal(h.link.readySocket(), null, "not before the session is set up");
      conn.ws.send("ready");
      await h.message("ready");
      assert.equal(h.link.phase, "ready");
      h.clock.advance(5000);
      const ws = h.link.readySocket();
      assert.ok(ws, "the connect timeout no longer applies");
      ws.send("from the client");
      await new Promise<void>((resolve) => conn.ws.once("message", () => resolve()));
      assert.deepEqual(conn.received, ["from the client"]);
      assert.deepEqual(h.rec.events.map((e) => e.type), ["link.connecting"], "link.ready is the backend's to announce");
    } finally {
      await h.link.stop();
    }
  });

  test("no session within the connect timeout: a network failure, retried after the back-off", async () => {
    const h = makeLink(server.url);
    try {
      h.link.start();
      const conn = await server.conn(server.conns.length + 1);
      conn.ws.send("hi");
      await h.message("hi");
      h.clock.advance(4999);
      assert.equal(h.rec.of("link.down").length, 0);
      h.clock.advance(1);
      const down = await h.rec.next("link.down");
      assert.equal(down.problem, "network");
      assert.equal(down.message, "no session from the agent within 5000 ms");
      assert.ok(down.retryInMs! >= 250 && down.retryInMs! <= 500, `retry in ${down.retryInMs} ms`);
      assert.equal(h.hooks.at(-1), "closed");
      assert.equal(h.link.phase, "waiting");
      h.clock.advance(down.retryInMs!);
      assert.deepEqual(h.rec.of("link.connecting").at(-1), { type: "link.connecting", attempt: 2 });
    } finally {
      await h.link.stop();
    }
  });

  test("the protocol may name the failure of a setup that timed out", async () => {
    const h = makeLink(server.url, { setupTimedOut: () => ({ problem: "server", message: "the server objected to the session" }) });
    try {
      h.link.start();
      const conn = await server.conn(server.conns.length + 1);
      conn.ws.send("hi");
      await h.message("hi");
      h.clock.advance(5000);
      const down = await h.rec.next("link.down");
      assert.deepEqual([down.problem, down.message], ["server", "the server objected to the session"]);
    } finally {
      await h.link.stop();
    }
  });

  test("a refused handshake: the protocol classifies status and body; rejected credentials hold for minutes and a press does not retry", async () => {
    const seen: Array<[number, string]> = [];
    const rejected = (status: number, body: string) => {
      seen.push([status, body]);
      return { problem: "auth" as const, message: "the key was refused" };
    };
    await withOwnServer({ reject: { status: 401, body: '{"error":"bad key"}' }, protocol: () => ({ rejected }) }, async (h) => {
      const down = await h.rec.next("link.down");
      assert.deepEqual(seen, [[401, '{"error":"bad key"}']]);
      assert.deepEqual(down, { type: "link.down", problem: "auth", message: "the key was refused", retryInMs: 300_000 });
      h.link.wake();
      assert.equal(h.rec.of("link.connecting").length, 1, "a press does not hammer the server with a rejected key");
      assert.deepEqual(h.logs.warnings(), ["fix the key"]);
      h.clock.advance(300_000);
      assert.equal(h.rec.of("link.connecting").length, 2, "retried after the hold");
    });
  });

  test("a refusal marked retryNow reconnects at once and does not grow the back-off", async () => {
    const protocol = (s: Server): Partial<LinkProtocol> => ({
      rejected: () => {
        s.reject = null;
        return { problem: "server", message: "gone; starting afresh", retryNow: true };
      },
    });
    await withOwnServer({ reject: { status: 410, body: "" }, protocol }, async (h, s) => {
      const down = await h.rec.next("link.down");
      assert.equal(down.retryInMs, 0);
      assert.equal(h.rec.events.at(-1)?.type, "link.connecting", "the new link is opened at once, no timer");
      const conn = await s.conn(1);
      conn.ws.terminate();
      const next = await h.rec.next("link.down");
      assert.ok(next.retryInMs! >= 250 && next.retryInMs! <= 500, `the first back-off step, not the second: ${next.retryInMs} ms`);
    });
  });

  test("the back-off grows with each failure, also across sessions closed soon after ready, and starts over once a session stayed healthy", async () => {
    await withOwnServer({ reject: { status: 503, body: "" } }, async (h, s) => {
      for (const [min, max] of [
        [250, 500],
        [500, 1000],
        [1000, 2000],
      ] as const) {
        const down = await h.rec.next("link.down");
        assert.equal(down.message, "refused 503 ");
        assert.ok(down.retryInMs! >= min && down.retryInMs! <= max, `${down.retryInMs} ms, expected ${min}–${max}`);
        if (max === 2000) s.reject = null;
        h.clock.advance(down.retryInMs!);
      }
      // Ready, then closed by the server within seconds: one more failure, not a fresh start.
      let conn = await s.conn(1);
      conn.ws.send("ready");
      await h.message("ready");
      h.clock.advance(WsLink.HEALTHY_MS - 1000);
      conn.ws.terminate();
      let down = await h.rec.next("link.down");
      assert.ok(down.retryInMs! >= 2000 && down.retryInMs! <= 4000, `${down.retryInMs} ms after a session closed ${WsLink.HEALTHY_MS - 1000} ms after ready`);
      h.clock.advance(down.retryInMs!);
      // Ready and healthy for HEALTHY_MS: the next drop starts the back-off over.
      conn = await s.conn(2);
      conn.ws.send("ready");
      await h.message("ready");
      h.clock.advance(WsLink.HEALTHY_MS);
      conn.ws.terminate();
      down = await h.rec.next("link.down");
      assert.ok(down.retryInMs! >= 250 && down.retryInMs! <= 500, `${down.retryInMs} ms after a healthy session`);
    });
  });

  test("wake skips the back-off while the link is down, and does nothing while it is up", async () => {
    await withOwnServer({ reject: { status: 503, body: "" } }, async (h, s) => {
      await h.rec.next("link.down");
      s.reject = null;
      h.link.wake();
      assert.deepEqual(h.rec.events.at(-1), { type: "link.connecting", attempt: 2 });
      assert.ok(h.logs.lines.some((l) => l.msg === "button pressed while offline: reconnecting now"));
      const conn = await s.conn(1);
      conn.ws.send("ready");
      await h.message("ready");
      h.link.wake();
      assert.equal(h.rec.of("link.connecting").length, 2);
      assert.equal(s.conns.length, 1);
    });
  });

  test("a server's close: the plain message, or the protocol's explanation with an immediate reconnect", async () => {
    const calls: Array<[boolean, number, string]> = [];
    let explain = false;
    const h = makeLink(server.url, {
      explainClose: (wasReady, code, reason) => {
        calls.push([wasReady, code, reason]);
        return explain ? { problem: "network", message: "closed for silence", retryNow: true } : undefined;
      },
    });
    try {
      const first = server.conns.length + 1;
      h.link.start();
      let conn = await server.conn(first);
      conn.ws.send("ready");
      await h.message("ready");
      conn.ws.close(4000, "bye");
      const plain = await h.rec.next("link.down");
      assert.equal(plain.message, "the agent closed the connection (code 4000, bye)");
      assert.ok(plain.retryInMs! > 0);
      h.clock.advance(plain.retryInMs!);

      explain = true;
      conn = await server.conn(first + 1);
      conn.ws.close(1000);
      const explained = await h.rec.next("link.down");
      assert.deepEqual(explained, { type: "link.down", problem: "network", message: "closed for silence", retryInMs: 0 });
      assert.deepEqual(calls, [
        [true, 4000, "bye"],
        [false, 1000, ""],
      ]);
      await server.conn(first + 2);
    } finally {
      await h.link.stop();
    }
  });

  test("restart replaces the link at once, closes the old one with a closing handshake, and leaves the back-off alone", async () => {
    const h = makeLink(server.url);
    try {
      const first = server.conns.length + 1;
      h.link.start();
      // During the session setup: no ready() has reset the back-off.
      const old = await server.conn(first);
      old.ws.send("hi");
      await h.message("hi");
      h.link.restart("the agent ended the session");
      assert.deepEqual(h.rec.events.slice(-2), [
        { type: "link.down", problem: "network", message: "the agent ended the session", retryInMs: 0 },
        { type: "link.connecting", attempt: 2 },
      ]);
      assert.equal(h.hooks.at(-1), "closed");
      assert.deepEqual(await old.closed, { code: 1000, reason: "reconnecting" });
      const conn = await server.conn(first + 1);
      conn.ws.terminate();
      await h.rec.next("link.down");
      const down = await h.rec.next("link.down");
      assert.equal(down.message, "the agent closed the connection (code 1006)");
      assert.ok(down.retryInMs! >= 250 && down.retryInMs! <= 500, `the first back-off step, not the second: ${down.retryInMs} ms`);
    } finally {
      await h.link.stop();
    }
  });

  test("a listener that stops the link when it goes down stops it for good", async () => {
    const h = makeLink(server.url, {
      explainClose: () => ({ problem: "network", message: "closed for silence", retryNow: true }),
      emit: (e) => {
        h.rec.listener(e);
        if (e.type === "link.down") void h.link.stop();
      },
    });
    h.link.start();
    const conn = await server.conn(server.conns.length + 1);
    conn.ws.close(1000);
    await h.rec.next("link.down");
    assert.equal(h.link.phase, "stopped");
    assert.equal(h.rec.of("link.connecting").length, 1, "no new link after the stop");
  });

  test("fail(): the link ends with that problem; an auth problem is held", async () => {
    const h = makeLink(server.url, {
      message: (_ws, data) => {
        if (String(data) === "bad key") h.link.fail("auth", "the server rejected the key");
      },
    });
    try {
      h.link.start();
      const conn = await server.conn(server.conns.length + 1);
      conn.ws.send("bad key");
      const down = await h.rec.next("link.down");
      assert.deepEqual(down, { type: "link.down", problem: "auth", message: "the server rejected the key", retryInMs: 300_000 });
    } finally {
      await h.link.stop();
    }
  });

  test("stop closes with a closing handshake and reports nothing more", async () => {
    const h = makeLink(server.url);
    const conn = (async () => server.conn(server.conns.length + 1))();
    h.link.start();
    const c = await conn;
    c.ws.send("ready");
    await h.message("ready");
    await h.link.stop();
    assert.deepEqual(await c.closed, { code: 1000, reason: "daemon stopping" });
    assert.equal(h.link.phase, "stopped");
    assert.equal(h.link.readySocket(), null);
    assert.equal(h.rec.of("link.down").length, 0);
    assert.ok(!h.hooks.includes("closed"));
    assert.equal(h.clock.pending, 0, "no timer left behind");
  });

  test("a burst of the agent's messages in one read does not hold back a press that arrived with it", async () => {
    // The press stands in for the control socket or a button: another socket whose data is
    // ready in the same turn of the event loop as the burst, the burst's first.
    const presses = net.createServer();
    await new Promise<void>((resolve) => presses.listen(0, "127.0.0.1", resolve));
    const accepted = once(presses, "connection") as Promise<[net.Socket]>;
    const button = net.connect((presses.address() as AddressInfo).port, "127.0.0.1");
    const [pressSide] = await accepted;
    const h = makeLink(server.url);
    try {
      pressSide.on("data", () => h.hooks.push("press"));
      h.link.start();
      const c = await server.conn(server.conns.length + 1);
      c.ws.send("ready");
      await h.message("ready");
      const last = h.message("burst 20");
      for (let i = 1; i <= 20; i++) c.ws.send(`burst ${i}`);
      button.write("down");
      // The loop is held while both arrive, as a daemon's is when it wakes late: both sockets
      // are then ready together when it polls (loopback delivers each write at once; this
      // covers the kernel finishing that delivery later, under load).
      const heldUntil = performance.now() + 20;
      while (performance.now() < heldUntil);
      await last;
      const order = h.hooks.filter((x) => x === "press" || x.startsWith("message burst"));
      const press = order.indexOf("press");
      assert.ok(press >= 0, "the press was not seen by the time the burst had been handled");
      assert.ok(press < order.length - 1, `the press waited for the whole burst: ${order.join(", ")}`);
    } finally {
      button.destroy();
      await h.link.stop();
      await new Promise<void>((resolve) => presses.close(() => resolve()));
    }
  });

  test("a refused TCP connection and an invalid URL are reported in words, and retried", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const refused = makeLink(`ws://127.0.0.1:${port}/`);
    const invalid = makeLink("not a url");
    try {
      refused.link.start();
      const down = await refused.rec.next("link.down");
      assert.deepEqual([down.problem, down.message], ["network", "connection refused by the agent's host"]);
      invalid.link.start();
      const bad = invalid.rec.of("link.down")[0];
      assert.deepEqual([bad?.problem, bad?.message], ["protocol", "agent.url is not a valid URL"]);
      assert.ok(bad!.retryInMs! > 0);
    } finally {
      await refused.link.stop();
      await invalid.link.stop();
    }
  });
});

describe("agent link liveness", () => {
  test("answered pings keep the link; an unanswered one ends it", async () => {
    await withOwnServer({ autoPong: false }, async (h, s) => {
      const conn = await s.conn(1);
      conn.ws.send("ready");
      await h.message("ready");
      // The server answers the first ping itself; its message after the pong shows the pong arrived.
      conn.ws.once("ping", () => {
        conn.ws.pong();
        conn.ws.send("after the pong");
      });
      const pinged = once(conn.ws, "ping", { signal: AbortSignal.timeout(5000) });
      h.clock.advance(15_000);
      await pinged;
      await h.message("after the pong");
      h.clock.advance(10_000);
      assert.ok(h.link.readySocket(), "an answered ping keeps the link");

      const again = once(conn.ws, "ping", { signal: AbortSignal.timeout(5000) });
      h.clock.advance(15_000);
      await again;
      h.clock.advance(10_000);
      const down = await h.rec.next("link.down");
      assert.deepEqual([down.problem, down.message], ["network", "nothing from the agent within 10000 ms of a WebSocket ping"]);
    });
  });
});

describe("JSON frames and socket errors", () => {
  test("a JSON object per text frame; anything else is named, never thrown", () => {
    assert.deepEqual(decodeJsonFrame('{"a":1}', false), { ok: true, fields: { a: 1 } });
    assert.deepEqual(decodeJsonFrame(Buffer.from('{"a":[2]}'), false), { ok: true, fields: { a: [2] } });
    for (const [raw, binary, why] of [
      ["nope", false, /^not JSON: /],
      ["[1]", false, /^not a JSON object$/],
      ["null", false, /^not a JSON object$/],
      ["42", false, /^not a JSON object$/],
      ["", false, /^not JSON: /],
      [Buffer.from("{}"), true, /^binary frame of 2 bytes/],
    ] as const) {
      const d = decodeJsonFrame(raw, binary);
      assert.equal(d.ok, false);
      if (!d.ok) assert.match(d.reason, why);
    }
  });

  test("socket errors say what to check", () => {
    const err = (code: string): Error & { code: string } => Object.assign(new Error(`raw ${code}`), { code });
    assert.match(describeSocketError(err("ENOTFOUND")), /does not resolve/);
    assert.match(describeSocketError(err("EAI_AGAIN")), /does not resolve/);
    assert.match(describeSocketError(err("EHOSTUNREACH")), /Wi-Fi/);
    assert.equal(describeSocketError(err("ETIMEDOUT")), "connection timed out");
    assert.equal(describeSocketError(err("EPIPE")), "raw EPIPE");
  });
});
