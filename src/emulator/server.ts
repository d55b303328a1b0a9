/**
 * A local stand-in for Coze's realtime voice endpoint (`/v1/chat`): developers run the
 * daemon without cloud credentials, and integration tests start it in-process and look
 * at what it received. HTTP upgrade, auth and the session list live here; the protocol
 * itself is in session.ts.
 */
import { EventEmitter } from "node:events";
import { STATUS_CODES, createServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { ChatUpdateData } from "../agent/coze/protocol";
import { silentLogger, type Logger } from "../log/logger";
import type { ClientEventRecord, TurnRecord, VadEventRecord } from "./records";
import { EmulatorSession } from "./session";

export type { CanceledBy, ClientEventRecord, TurnRecord, VadEventRecord } from "./records";

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When set, the handshake needs `Authorization: Bearer <token>`, else HTTP 401. */
  token?: string;
  log?: Logger;
  /** How long the agent "thinks" before conversation.chat.created. Default 0. */
  replyDelayMs?: number;
}

export interface EmulatorSessionView {
  index: number;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  received: ClientEventRecord[];
  effectiveConfig: ChatUpdateData | null;
  open: boolean;
  /** server_vad decisions in the order they were sent (the live list: it grows as the session goes on). */
  vadEvents: VadEventRecord[];
}

export interface Emulator {
  /** ws://HOST:PORT/v1/chat */
  url: string;
  port: number;
  /**
   * 'connection'(sessionIndex, {headers, query}), 'client-event'(sessionIndex, ClientEventRecord),
   * 'turn'(TurnRecord) when a reply completes or is cut short, 'close'(sessionIndex).
   */
  events: EventEmitter;
  sessions(): EmulatorSessionView[];
  turns(): TurnRecord[];
  /** Sends any raw frame, to test how a client copes with malformed server messages. */
  inject(session: number, data: string | Buffer, opts?: { binary?: boolean }): void;
  /** Terminates every connection without a close handshake (a network drop). */
  dropAll(): void;
  /** While false, new upgrades get HTTP 503 (an outage). */
  setAcceptConnections(accept: boolean): void;
  /** Stop reading from every open connection (a link that died silently: no pongs, no FIN). */
  freezeAll(): void;
  close(): Promise<void>;
}

const PATH = "/v1/chat";
/** How long close() waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 1000;

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log ?? silentLogger();
  const replyDelayMs = opts.replyDelayMs ?? 0;
  const token = opts.token ? Buffer.from(`Bearer ${opts.token}`, "utf8") : null;
  const events = new EventEmitter();
  const sessions: EmulatorSession[] = [];
  const turns: TurnRecord[] = [];
  const sockets = new Set<Socket>();
  const sessionSockets: Duplex[] = [];
  let accepting = true;

  const wss = new WebSocketServer({ noServer: true });
  const http = createServer((_req, res) => {
    res.writeHead(426, { "Content-Type": "text/plain; charset=utf-8" });
    res.end(`talkbox Coze emulator: open a WebSocket to ${PATH}?bot_id=<any id>\n`);
  });
  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", (err) => log.debug({ err: err.message }, "emulator: handshake socket error"));
    const url = new URL(req.url ?? "/", "http://emulator");
    const refuse = (status: number, body: string): void => {
      log.info({ status, path: url.pathname, reason: body }, "emulator: refused connection");
      rejectUpgrade(socket, status, body);
    };
    if (url.pathname !== PATH) return refuse(404, `no endpoint ${url.pathname}: connect to ${PATH}?bot_id=<id>`);
    if (!accepting) return refuse(503, "the emulator is not accepting connections (simulated outage)");
    if (token && !headerMatches(req.headers.authorization, token)) {
      return refuse(401, "missing or wrong token: send the header Authorization: Bearer <token> with the emulator's token");
    }
    const botId = url.searchParams.get("bot_id");
    if (!botId) return refuse(400, `missing query parameter bot_id: connect to ${PATH}?bot_id=<id>`);
    if (botId === "forbidden") return refuse(403, 'no permission for this bot (the emulator refuses bot_id "forbidden" so clients can test HTTP 403)');

    wss.handleUpgrade(req, socket, head, (ws) => {
      const index = sessions.length;
      const query = Object.fromEntries(url.searchParams);
      const headers = flattenHeaders(req.headers);
      const session = new EmulatorSession({ index, botId, query, headers }, ws, log, replyDelayMs, {
        clientEvent: (record) => events.emit("client-event", index, record),
        turn: (turn) => {
          turns.push(turn);
          events.emit("turn", turn);
        },
        closed: () => events.emit("close", index),
      });
      sessions.push(session);
      sessionSockets.push(socket);
      log.info({ session: index, query }, "emulator: client connected");
      events.emit("connection", index, { headers, query });
      session.start();
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port ?? 0, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  const openSession = (index: number): EmulatorSession => {
    const s = sessions[index];
    if (!s || !s.open) throw new Error(`emulator session ${index} is not open (sessions so far: ${sessions.length})`);
    return s;
  };

  return {
    url: `ws://${urlHost}:${port}${PATH}`,
    port,
    events,
    sessions: () =>
      sessions.map((s) => ({
        index: s.info.index,
        query: s.info.query,
        headers: s.info.headers,
        received: s.received,
        effectiveConfig: s.effectiveConfig,
        open: s.open,
        vadEvents: s.vadEvents,
      })),
    turns: () => turns.slice(),
    inject: (index, data, injectOpts) => openSession(index).inject(data, injectOpts?.binary ?? Buffer.isBuffer(data)),
    dropAll: () => {
      for (const s of sessions) if (s.open) s.terminate();
    },
    freezeAll: () => {
      // Stop reading: pings go unanswered, as on a link that died without a FIN.
      sessions.forEach((s, i) => {
        if (s.open) sessionSockets[i]?.pause();
      });
    },
    setAcceptConnections: (accept) => {
      accepting = accept;
    },
    close: async () => {
      accepting = false;
      const open = sessions.filter((s) => s.open);
      for (const s of open) s.close(1001, "emulator shutting down");
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(open.map((s) => s.closed)),
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, CLOSE_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      for (const s of open) if (s.open) s.terminate();
      await Promise.all(open.map((s) => s.closed));
      wss.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function rejectUpgrade(socket: Duplex, status: number, body: string): void {
  const text = `${body}\n`;
  // Destroy only after the response is flushed, or the client may see a reset instead of the status.
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      "Connection: close\r\n\r\n" +
      text,
  );
}

function headerMatches(value: string | undefined, expected: Buffer): boolean {
  if (value === undefined) return false;
  const got = Buffer.from(value, "utf8");
  return got.length === expected.length && timingSafeEqual(got, expected);
}

function flattenHeaders(h: IncomingMessage["headers"]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}
