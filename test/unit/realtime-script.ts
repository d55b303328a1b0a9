/**
 * Test support for the Realtime link: a small WebSocket server on 127.0.0.1 that
 * plays the server's side as protocols.md §2 describes, step by step as the test
 * scripts it, plus a client-side event recorder and a log capture.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { EventEmitter } from "node:events";
import { WebSocket, WebSocketServer } from "ws";
import pino from "pino";
import { RealtimeBackend, type RealtimeOptions } from "../../src/agent/realtime/client";
import type { AgentEvent } from "../../src/agent/events";
import type { Logger } from "../../src/log/logger";
import { noConversations } from "../../src/core/conversations";
import { FakeClock } from "../support/fake-clock";

export type Msg = { type: string; event_id?: string; [k: string]: unknown };

/** Resolves when `pred` holds for an item of `list` at or after `from`; re-checked on each `signal`. */
function waitIn<T>(list: T[], from: () => number, pred: (x: T) => boolean, signal: EventEmitter, what: string): Promise<{ item: T; index: number }> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      for (let i = from(); i < list.length; i++) {
        if (pred(list[i]!)) {
          signal.off("push", check);
          clearTimeout(guard);
          resolve({ item: list[i]!, index: i });
          return true;
        }
      }
      return false;
    };
    // A failure guard only: every wait ends on an event long before this.
    const guard = setTimeout(() => {
      signal.off("push", check);
      reject(new Error(`timed out waiting for ${what}`));
    }, 5000);
    if (!check()) signal.on("push", check);
  });
}

export class ServerConn {
  readonly received: Msg[] = [];
  private readonly signal = new EventEmitter();
  private readonly cursor = new Map<string, number>();
  readonly closed: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    readonly headers: http.IncomingHttpHeaders,
    readonly url: URL,
  ) {
    ws.on("message", (data) => {
      this.received.push(JSON.parse(String(data)) as Msg);
      this.signal.emit("push");
    });
    this.closed = new Promise((resolve) => ws.once("close", () => resolve()));
  }

  /** The next client event of this type not yet taken by next(). */
  async next(type: string): Promise<Msg> {
    const { item, index } = await waitIn(this.received, () => this.cursor.get(type) ?? 0, (m) => m.type === type, this.signal, `client event ${type}`);
    this.cursor.set(type, index + 1);
    return item;
  }

  /** The first client event (from the start) that satisfies pred. */
  async until(pred: (m: Msg) => boolean, what = "a matching client event"): Promise<{ item: Msg; index: number }> {
    return waitIn(this.received, () => 0, pred, this.signal, what);
  }

  types(): string[] {
    return this.received.map((m) => m.type);
  }

  send(ev: Msg): void {
    this.ws.send(JSON.stringify(ev));
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** The server's half of a session setup: session.updated echoing what the client asked for. */
  async acceptSession(id?: string): Promise<Msg> {
    const update = await this.next("session.update");
    this.send({ type: "session.updated", session: { ...(id ? { id } : {}), ...(update.session as object) } });
    return update;
  }
}

export interface ServerOptions {
  /** Send session.created on connect (with this id; default sess_<n>). */
  sessionId?: (n: number, headers: http.IncomingHttpHeaders) => string;
}

export class ScriptedServer {
  readonly conns: ServerConn[] = [];
  private readonly signal = new EventEmitter();
  /** When set, the next handshakes are refused with this HTTP status and body. */
  reject: { status: number; body: string } | null = null;

  private constructor(
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(opts: ServerOptions = {}): Promise<ScriptedServer> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const s = new ScriptedServer(server, wss, `ws://127.0.0.1:${port}/v1/realtime?model=test-model`);
    server.on("upgrade", (req, socket, head) => {
      if (s.reject) {
        const { status, body } = s.reject;
        socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = new ServerConn(ws, req.headers, new URL(req.url ?? "/", "http://127.0.0.1"));
        s.conns.push(conn);
        const n = s.conns.length;
        conn.send({ type: "session.created", session: { id: opts.sessionId?.(n, req.headers) ?? `sess_${n}`, object: "realtime.session" } });
        s.signal.emit("push");
      });
    });
    return s;
  }

  /** The n-th connection (1-based), once it is there. */
  async conn(n: number): Promise<ServerConn> {
    const { item } = await waitIn(this.conns, () => n - 1, () => true, this.signal, `connection ${n}`);
    return item;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Records a backend's events; next(type) takes them in order, one at a time. */
export class Recorder {
  readonly events: AgentEvent[] = [];
  private readonly signal = new EventEmitter();
  private readonly cursor = new Map<string, number>();

  listener = (e: AgentEvent): void => {
    this.events.push(e);
    this.signal.emit("push");
  };

  async next<T extends AgentEvent["type"]>(type: T): Promise<Extract<AgentEvent, { type: T }>> {
    const { item, index } = await waitIn(this.events, () => this.cursor.get(type) ?? 0, (e) => e.type === type, this.signal, `agent event ${type}`);
    this.cursor.set(type, index + 1);
    return item as Extract<AgentEvent, { type: T }>;
  }

  of<T extends AgentEvent["type"]>(type: T): Array<Extract<AgentEvent, { type: T }>> {
    return this.events.filter((e) => e.type === type) as Array<Extract<AgentEvent, { type: T }>>;
  }
}

/** A logger whose lines the test can wait for. */
export class LogCapture {
  readonly lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  private readonly signal = new EventEmitter();
  readonly logger: Logger = pino({ level: "debug" }, { write: (line: string) => this.push(line) });

  private push(line: string): void {
    this.lines.push(JSON.parse(line) as { level: number; msg: string });
    this.signal.emit("push");
  }

  async waitFor(re: RegExp): Promise<void> {
    await waitIn(this.lines, () => 0, (l) => re.test(l.msg), this.signal, `log line ${re}`);
  }

  warnings(): string[] {
    return this.lines.filter((l) => l.level === 40).map((l) => l.msg);
  }
}

export const pcm16k = { codec: "pcm" as const, sampleRate: 16000, channels: 1 as const };
export const pcm24k = { codec: "pcm" as const, sampleRate: 24000, channels: 1 as const };

export interface Harness {
  backend: RealtimeBackend;
  rec: Recorder;
  clock: FakeClock;
  logs: LogCapture;
  opts: RealtimeOptions;
}

export function makeBackend(server: ScriptedServer, over: Partial<RealtimeOptions> = {}, clock = new FakeClock()): Harness {
  const logs = new LogCapture();
  const opts: RealtimeOptions = {
    flavour: "volcengine",
    url: server.url,
    token: "sk-secret-token-123",
    session: {
      instructions: "be brief",
      voice: "zh_female_tianmeixiaoyuan_moon_bigtts",
      temperature: 0.8,
      tools: [{ name: "set_volume", description: "Set the speaker volume", parameters: { type: "object", properties: { percent: { type: "integer" } } } }],
      input: pcm16k,
      output: pcm16k,
      vad: { prefixPaddingMs: 300, silenceDurationMs: 700 },
    },
    mode: "push-to-talk",
    keepaliveMs: 100_000,
    connectTimeoutMs: 5000,
    // Far out: pings are not what these tests are about, and a fake clock would fire them without a pong.
    pingIntervalMs: 1e9,
    pingTimeoutMs: 10_000,
    reconnect: { initialMs: 500, maxMs: 30_000, authFailureMs: 300_000 },
    conversations: () => noConversations,
    ...over,
  };
  const backend = new RealtimeBackend(opts, logs.logger, clock);
  const rec = new Recorder();
  backend.subscribe(rec.listener);
  return { backend, rec, clock, logs, opts };
}

/** Starts the backend and completes the session setup on connection n (default: the next one). */
export async function ready(h: Harness, server: ScriptedServer, n = server.conns.length + 1, sessionId?: string): Promise<ServerConn> {
  h.backend.start();
  const conn = await server.conn(n);
  await conn.acceptSession(sessionId);
  await h.rec.next("link.ready");
  return conn;
}

/** Runs `body` on a backend linked to `server` (session accepted, link ready) and stops the backend afterwards, whatever happened. */
export async function linked(server: ScriptedServer, body: (h: Harness, conn: ServerConn) => Promise<void>): Promise<void> {
  const h = makeBackend(server);
  const conn = await ready(h, server);
  try {
    await body(h, conn);
  } finally {
    await h.backend.stop();
  }
}

/** 20 ms of pcm16 at the given rate. */
export function frame20ms(rate = 16000): Buffer {
  return Buffer.alloc((rate / 50) * 2, 1);
}

let markers = 0;

/**
 * Sends a distinctive append and waits for it: every client event sent before it
 * has then arrived (one socket keeps order). Returns its index in conn.received.
 */
export async function marker(h: Harness, conn: ServerConn): Promise<number> {
  const tag = Buffer.from([0x5a, 0xa5, ++markers & 0xff, 0x01]).toString("base64");
  if (!h.backend.appendAudio(Buffer.from(tag, "base64"))) throw new Error("marker not sent: the link is not ready");
  const { index } = await conn.until((m) => m.type === "input_audio_buffer.append" && m.audio === tag, "the marker");
  return index;
}

export function b64(bytes: number, fill = 7): string {
  return Buffer.alloc(bytes, fill).toString("base64");
}
