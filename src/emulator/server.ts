/**
 * A local stand-in for Coze's realtime voice endpoint (`/v1/chat`) and for the
 * OpenAI-Realtime-compatible one (`/v1/realtime`, as OpenAI or the Volcengine AI gateway):
 * developers run the daemon without cloud credentials, and integration tests start it
 * in-process and look at what it received. HTTP upgrade, auth and the session lists live
 * here; the protocols are in session.ts and realtime/session.ts.
 */
import { EventEmitter } from "node:events";
import { STATUS_CODES, createServer, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type WebSocket from "ws";
import type { ChatUpdateData } from "../agent/coze/protocol";
import { cozeBackend } from "../agent/coze/descriptor";
import type { BackendDescriptor } from "../agent/descriptor";
import { realtimeBackend } from "../agent/realtime/descriptor";
import { silentLogger, type Logger } from "../log/logger";
import type { ClientEventRecord, ScriptedToolCall, ToolOutputRecord, TurnRecord, VadEventRecord } from "./shared/records";
import type { Flavour, RealtimeResponseRecord, RealtimeSessionView } from "./realtime/records";
import { RealtimeSession, type RealtimePacing } from "./realtime/session";
import { EmulatorSession } from "./coze/session";
import { SpeechSession, type SpeechRecord } from "./coze/speech";
import { ToolScript } from "./shared/tool-script";
import { stampArrivals } from "./shared/arrival";
import { PATHS as VOICE_PATHS } from "../agent/voiceapi/names";
import { VoiceApiSession, type VoiceApiSessionView, type VoiceApiTurnRecord, type VoiceApiVersion } from "./voiceapi/session";

export type {
  CanceledBy,
  ClientEventRecord,
  ScriptedToolCall,
  ToolCallRecord,
  ToolEndpoint,
  ToolOutputRecord,
  TurnRecord,
  VadEventRecord,
} from "./shared/records";
export type {
  CommitRecord,
  Flavour,
  FunctionCallOutputRecord,
  RealtimeCancelReason,
  RealtimeClientEventRecord,
  RealtimeErrorRecord,
  RealtimeResponseRecord,
  RealtimeSessionView,
  TruncateRecord,
} from "./realtime/records";
export type { RealtimePacing } from "./realtime/session";

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When set, the handshake needs `Authorization: Bearer <token>`, else HTTP 401. */
  token?: string;
  log?: Logger;
  /** How long the agent "thinks" before conversation.chat.created (Realtime: between response.created and its items). Default 0. */
  replyDelayMs?: number;
  /** Realtime: reply audio at real time, or (default "fast") at 4× real time like speech synthesis. */
  realtimePacing?: RealtimePacing;
  /** Realtime, Volcengine flavour: `error` and close after this long without a client message. Default 120000. */
  idleCloseMs?: number;
  /** Further protocols to serve: every descriptor that brings its own stand-in (`emulator.serve`), at its path. */
  backends?: readonly BackendDescriptor<any>[];
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
  /** ws://HOST:PORT: a descriptor's emulator.url() makes its endpoint's URL from it. */
  base: string;
  /** ws://HOST:PORT/v1/chat */
  url: string;
  /** ws://HOST:PORT/v1/realtime?model=AG-voice-chat-agent (send `OpenAI-Beta: realtime=v1` for OpenAI's behaviour). */
  realtimeUrl: string;
  port: number;
  /**
   * Coze: 'connection'(sessionIndex, {headers, query}), 'client-event'(sessionIndex, ClientEventRecord),
   * 'turn'(TurnRecord) when a reply completes or is cut short, 'close'(sessionIndex).
   * Realtime (own session indices): 'realtime-connection'(index, {headers, query, flavour}),
   * 'realtime-client-event'(index, RealtimeClientEventRecord), 'realtime-response'(RealtimeResponseRecord)
   * when a response ends, 'realtime-close'(index).
   * Both: 'tool-output'(ToolOutputRecord) when a client answers a scripted tool call.
   */
  events: EventEmitter;
  sessions(): EmulatorSessionView[];
  turns(): TurnRecord[];
  realtimeSessions(): RealtimeSessionView[];
  /** Every Realtime response that has ended, in order. */
  realtimeResponses(): RealtimeResponseRecord[];
  /**
   * Queues a tool call for the next reply on either endpoint (whichever answers next); the
   * reply takes every call queued by then. `arguments` goes out verbatim, even if not JSON.
   */
  scriptToolCall(call: ScriptedToolCall): void;
  /** Every tool output clients have sent, in order. */
  toolOutputs(): ToolOutputRecord[];
  /** Coze speech synthesis (`/v1/audio/speech`): one record per connection, in order ('speech' event when one completes). */
  speeches(): SpeechRecord[];
  /**
   * The voice API (seed 002, v1 and v2 paths): one view per connection, in order. Events:
   * 'voiceapi-message'(index, VoiceApiClientMessage), 'voiceapi-turn'(VoiceApiTurnRecord) once
   * an answer has gone out, 'voiceapi-close'(index).
   */
  voiceApiSessions(): VoiceApiSessionView[];
  voiceApiTurns(): VoiceApiTurnRecord[];
  /** Sends any raw message on a voice API connection. */
  injectVoiceApi(session: number, data: string | Buffer, opts?: { binary?: boolean }): void;
  /** Sends any raw frame, to test how a client copes with malformed server messages. */
  inject(session: number, data: string | Buffer, opts?: { binary?: boolean }): void;
  /** inject() for a Realtime session. */
  injectRealtime(session: number, data: string | Buffer, opts?: { binary?: boolean }): void;
  /** Terminates every connection without a close handshake (a network drop). */
  dropAll(): void;
  /** While false, new upgrades get HTTP 503 (an outage). */
  setAcceptConnections(accept: boolean): void;
  /** Stop reading from every open connection (a link that died silently: no pongs, no FIN). */
  freezeAll(): void;
  close(): Promise<void>;
}

const PATH = cozeBackend.emulator.path;
const REALTIME_PATH = realtimeBackend.emulator.path;
/** Coze's speech synthesis, on the host of /v1/chat. */
const SPEECH_PATH = "/v1/audio/speech";
const REALTIME_MODEL = "AG-voice-chat-agent";
const DEFAULT_IDLE_CLOSE_MS = 120_000;
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
  const realtimeSessions: RealtimeSession[] = [];
  const realtimeResponses: RealtimeResponseRecord[] = [];
  const toolScript = new ToolScript();
  const toolOutputs: ToolOutputRecord[] = [];
  const speeches: SpeechRecord[] = [];
  const voiceSessions: VoiceApiSession[] = [];
  const voiceSockets: WebSocket[] = [];
  const voiceTurns: VoiceApiTurnRecord[] = [];
  const onToolOutput = (record: ToolOutputRecord): void => {
    toolOutputs.push(record);
    events.emit("tool-output", record);
  };
  const sockets = new Set<Socket>();
  const sessionSockets: Duplex[] = [];
  const realtimeSockets: Duplex[] = [];
  /** Connections to the stand-ins descriptors bring: the emulator only drops, freezes and closes them. */
  const served = new Map<WebSocket, Duplex>();
  const extra = new Map<string, NonNullable<BackendDescriptor<any>["emulator"]["serve"]>>();
  for (const d of opts.backends ?? []) {
    const serve = d.emulator.serve;
    if (!serve || d.emulator.path === PATH || d.emulator.path === REALTIME_PATH) continue;
    extra.set(d.emulator.path, serve.bind(d.emulator));
  }
  const paths = [`${PATH}?bot_id=<id>`, SPEECH_PATH, `${REALTIME_PATH}?model=${REALTIME_MODEL}`, VOICE_PATHS.v1, VOICE_PATHS.v2, ...extra.keys()];
  const voiceVersion = (path: string): VoiceApiVersion | null => (path === VOICE_PATHS.v1 ? "v1" : path === VOICE_PATHS.v2 ? "v2" : null);
  let accepting = true;

  const wss = new WebSocketServer({ noServer: true });
  const http = createServer((req, res) => {
    // The voice API's health check (seed 002): a plain GET.
    if (new URL(req.url ?? "/", "http://emulator").pathname === VOICE_PATHS.ping && req.method === "GET") {
      res.writeHead(accepting ? 200 : 503, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(accepting ? "pong\n" : "unavailable (simulated outage)\n");
      return;
    }
    res.writeHead(426, { "Content-Type": "text/plain; charset=utf-8" });
    res.end(`talkbox emulator: open a WebSocket to ${PATH}?bot_id=<any id> (Coze) or ${REALTIME_PATH}?model=${REALTIME_MODEL} (Realtime)\n`);
  });
  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  // Every client socket's reads are stamped (shared/arrival.ts): receipt times are when the bytes came.
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, serve: (ws: WebSocket) => void): void =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      stampArrivals(ws, socket);
      serve(ws);
    });

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", (err) => log.debug({ err: err.message }, "emulator: handshake socket error"));
    const url = new URL(req.url ?? "/", "http://emulator");
    const refuse = (status: number, body: string): void => {
      log.info({ status, path: url.pathname, reason: body }, "emulator: refused connection");
      rejectUpgrade(socket, status, body);
    };
    const serve = extra.get(url.pathname);
    const voice = voiceVersion(url.pathname);
    if (url.pathname !== PATH && url.pathname !== REALTIME_PATH && url.pathname !== SPEECH_PATH && !serve && !voice) {
      return refuse(404, `no endpoint ${url.pathname}: connect to ${paths.join(" or ")}`);
    }
    if (!accepting) return refuse(503, "the emulator is not accepting connections (simulated outage)");
    // The voice API's key goes in its open frame, not in a header.
    if (token && !voice && !headerMatches(req.headers.authorization, token)) {
      return refuse(401, "missing or wrong token: send the header Authorization: Bearer <token> with the emulator's token");
    }
    if (url.pathname === REALTIME_PATH) return upgradeRealtime(req, socket, head, url, refuse);
    if (voice) {
      upgrade(req, socket, head, (ws) => {
        const index = voiceSessions.length;
        served.set(ws, socket);
        const session = new VoiceApiSession(index, voice, ws, log, opts.token ?? null, {
          message: (record) => events.emit("voiceapi-message", index, record),
          turn: (record) => {
            voiceTurns.push(record);
            events.emit("voiceapi-turn", record);
          },
          closed: () => {
            served.delete(ws);
            events.emit("voiceapi-close", index);
          },
        });
        voiceSessions.push(session);
        voiceSockets.push(ws);
        log.info({ voiceapi: index, version: voice }, "emulator: voice API client connected");
      });
      return;
    }
    if (url.pathname === SPEECH_PATH) {
      upgrade(req, socket, head, (ws) => {
        const record: SpeechRecord = { index: speeches.length, text: "", voiceId: null, sampleRate: 24000, audioBytes: 0, completed: false };
        speeches.push(record);
        served.set(ws, socket);
        ws.once("close", () => {
          served.delete(ws);
          events.emit("speech", record);
        });
        log.info({ path: url.pathname }, "emulator: speech client connected");
        new SpeechSession(record, ws, log);
      });
      return;
    }
    if (serve) {
      upgrade(req, socket, head, (ws) => {
        served.set(ws, socket);
        ws.once("close", () => served.delete(ws));
        log.info({ path: url.pathname }, "emulator: client connected");
        serve(ws, { query: Object.fromEntries(url.searchParams), headers: req.headers, log });
      });
      return;
    }
    const botId = url.searchParams.get("bot_id");
    if (!botId) return refuse(400, `missing query parameter bot_id: connect to ${PATH}?bot_id=<id>`);
    if (botId === "forbidden") return refuse(403, 'no permission for this bot (the emulator refuses bot_id "forbidden" so clients can test HTTP 403)');

    upgrade(req, socket, head, (ws) => {
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
        toolCalls: () => toolScript.take(),
        toolOutput: onToolOutput,
      });
      sessions.push(session);
      sessionSockets.push(socket);
      log.info({ session: index, query }, "emulator: client connected");
      events.emit("connection", index, { headers, query });
      session.start();
    });
  });

  function upgradeRealtime(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, refuse: (status: number, body: string) => void): void {
    const model = url.searchParams.get("model");
    if (!model) return refuse(400, `missing query parameter model: connect to ${REALTIME_PATH}?model=${REALTIME_MODEL}`);
    const flavour: Flavour = /realtime=v1/i.test(String(req.headers["openai-beta"] ?? "")) ? "openai" : "volcengine";
    const conversationId = req.headers["x-conversation-id"];
    upgrade(req, socket, head, (ws) => {
      const index = realtimeSessions.length;
      const query = Object.fromEntries(url.searchParams);
      const headers = flattenHeaders(req.headers);
      const session = new RealtimeSession(
        {
          index,
          flavour,
          query,
          headers,
          model,
          cozeBotId: url.searchParams.get("ag-coze-bot-id") || null,
          customModel: url.searchParams.get("ag-custom-model") || null,
          conversationId: typeof conversationId === "string" && conversationId !== "" ? conversationId : null,
        },
        ws,
        log,
        { replyDelayMs, pacing: opts.realtimePacing ?? "fast", idleCloseMs: opts.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS },
        {
          clientEvent: (record) => events.emit("realtime-client-event", index, record),
          response: (record) => {
            realtimeResponses.push(record);
            events.emit("realtime-response", record);
          },
          closed: () => events.emit("realtime-close", index),
          toolCalls: () => toolScript.take(),
          toolOutput: onToolOutput,
        },
      );
      realtimeSessions.push(session);
      realtimeSockets.push(socket);
      log.info({ realtime: index, flavour, query }, "emulator: realtime client connected");
      events.emit("realtime-connection", index, { headers, query, flavour });
      session.start();
    });
  }

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
  const openRealtime = (index: number): RealtimeSession => {
    const s = realtimeSessions[index];
    if (!s || !s.open) throw new Error(`emulator realtime session ${index} is not open (realtime sessions so far: ${realtimeSessions.length})`);
    return s;
  };
  const all = (): Array<EmulatorSession | RealtimeSession> => [...sessions, ...realtimeSessions];

  const base = `ws://${urlHost}:${port}`;
  return {
    base,
    url: cozeBackend.emulator.url(base),
    realtimeUrl: realtimeBackend.emulator.url(base),
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
    realtimeSessions: () =>
      realtimeSessions.map((s) => ({
        index: s.info.index,
        flavour: s.info.flavour,
        query: s.info.query,
        headers: s.info.headers,
        sessionId: s.sessionId,
        resumed: s.info.conversationId !== null,
        cozeBotId: s.info.cozeBotId,
        customModel: s.info.customModel,
        session: s.session,
        received: s.received,
        commits: s.commits,
        responses: s.responses,
        functionCallOutputs: s.functionCallOutputs,
        errors: s.errors,
        vadEvents: s.vadEvents,
        open: s.open,
        idleClosedAtNs: s.idleClosedAtNs,
      })),
    realtimeResponses: () => realtimeResponses.slice(),
    scriptToolCall: (call) => toolScript.add(call),
    toolOutputs: () => toolOutputs.slice(),
    speeches: () => speeches.slice(),
    voiceApiSessions: () => voiceSessions.map((s) => s.view),
    voiceApiTurns: () => voiceTurns.slice(),
    injectVoiceApi: (index, data, injectOpts) => {
      const ws = voiceSockets[index];
      if (!ws || !voiceSessions[index]!.view.open) throw new Error(`emulator voice API session ${index} is not open`);
      ws.send(data, { binary: injectOpts?.binary ?? Buffer.isBuffer(data) });
    },
    inject: (index, data, injectOpts) => openSession(index).inject(data, injectOpts?.binary ?? Buffer.isBuffer(data)),
    injectRealtime: (index, data, injectOpts) => openRealtime(index).inject(data, injectOpts?.binary ?? Buffer.isBuffer(data)),
    dropAll: () => {
      for (const s of all()) if (s.open) s.terminate();
      for (const ws of served.keys()) ws.terminate();
    },
    freezeAll: () => {
      // Stop reading: pings go unanswered, as on a link that died without a FIN.
      sessions.forEach((s, i) => {
        if (s.open) sessionSockets[i]?.pause();
      });
      realtimeSessions.forEach((s, i) => {
        if (s.open) realtimeSockets[i]?.pause();
      });
      for (const socket of served.values()) socket.pause();
    },
    setAcceptConnections: (accept) => {
      accepting = accept;
    },
    close: async () => {
      accepting = false;
      const open = all().filter((s) => s.open);
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
      for (const ws of served.keys()) ws.terminate();
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
