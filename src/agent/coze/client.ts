/**
 * One long-lived WebSocket link to Coze's `/v1/chat`: opened at start-up, kept
 * alive with WebSocket pings, re-opened with back-off when it drops, and at once
 * when the user presses the button. Speaks the wire format; emits only
 * normalized AgentEvents.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import WebSocket from "ws";
import type { Logger } from "../../log/logger";
import { Backoff } from "../../net/backoff";
import { realClock, type Clock, type ClockTimer } from "../../device/clock";
import type { AgentBackend, ToolOutput, TurnContext } from "../backend";
import type { AgentEvent, AudioFormat, LinkProblem } from "../events";
import { encodeAppend } from "./append";
import { C, decodeEvent, encodeEvent, errorHint, isAuthError, S, str } from "./protocol";
import { buildChatUpdate, formatsFromChatUpdated, type CozeSessionSettings } from "./session-config";
import { translate, type ReplyTracker } from "./translate";

export interface CozeLinkOptions {
  url: string;
  botId: string;
  token: string;
  deviceId?: string;
  session: CozeSessionSettings;
  /** Server VAD settings for when free conversation is switched on. */
  vad: { prefixPaddingMs: number; silenceDurationMs: number };
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number; authFailureMs: number };
}

type Phase = "stopped" | "connecting" | "ready" | "waiting";

export class CozeBackend implements AgentBackend {
  readonly name = "coze";
  private ws: WebSocket | null = null;
  /** The link's TCP (or TLS) socket, from the handshake response; corked to batch a tick's sends. */
  private socket: Socket | null = null;
  private corked = false;
  private phase: Phase = "stopped";
  private failure: { problem: LinkProblem; message: string } | null = null;
  private readonly listeners: Array<(e: AgentEvent) => void> = [];
  private readonly backoff: Backoff;
  private readonly replies: ReplyTracker = { current: null };
  private negotiated: { input: AudioFormat; output: AudioFormat } | null = null;
  private conversationId: string | undefined;
  private setupTimer: ClockTimer | undefined;
  private retryTimer: ClockTimer | undefined;
  private pingTimer: ClockTimer | undefined;
  private pongPending = false;
  private holdForAuth = false;
  private attempt = 0;

  constructor(
    private readonly opts: CozeLinkOptions,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {
    this.backoff = new Backoff({ initialMs: opts.reconnect.initialMs, maxMs: opts.reconnect.maxMs });
    this.conversationId = opts.session.conversationId;
  }

  // Coze's server VAD and chat.cancel work for every bot.
  readonly capabilities = { serverVad: true, interruption: true };

  get formats(): { input: AudioFormat; output: AudioFormat } | null {
    return this.phase === "ready" ? this.negotiated : null;
  }

  subscribe(listener: (event: AgentEvent) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.phase !== "stopped") return;
    this.connect();
  }

  async stop(): Promise<void> {
    this.phase = "stopped";
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once("close", () => resolve());
      ws.close(1000, "daemon stopping");
      // A dead peer never completes the closing handshake.
      const t = setTimeout(() => ws.terminate(), 1000);
      t.unref();
    });
  }

  wake(): void {
    if (this.phase !== "waiting") return;
    if (this.holdForAuth) {
      this.log.warn("not reconnecting on button press: the server rejected the credentials; fix agent.token / agent.bot_id and restart talkbox");
      return;
    }
    this.clock.clearTimeout(this.retryTimer);
    this.log.info("button pressed while offline: reconnecting now");
    this.connect();
  }

  beginTurn(_turn: TurnContext): boolean {
    // Coze takes the user per link (chat.update), and a push-to-talk turn begins
    // with its first append; nothing to send here.
    return this.phase === "ready";
  }

  appendAudio(frame: Buffer): boolean {
    const ws = this.openLink();
    if (!ws) return false;
    ws.send(encodeAppend(frame));
    return true;
  }

  commitTurn(): boolean {
    return this.send(C.complete);
  }

  cancelReply(): boolean {
    return this.send(C.cancel);
  }

  /**
   * Coze wants every call of a requires_action answered in one submit_tool_outputs:
   * answers are held until the last one is in. False when no chat waits for them
   * (it was canceled, or the link dropped) or the link is down.
   */
  submitToolOutputs(outputs: ToolOutput[]): boolean {
    const awaiting = this.replies.awaiting;
    const ids = outputs.map((o) => o.callId);
    if (!awaiting) {
      this.log.warn({ callIds: ids }, "tool answers dropped: no reply waits for them (it was interrupted, or the link dropped)");
      return false;
    }
    const mine = outputs.filter((o) => awaiting.callIds.includes(o.callId));
    if (mine.length < outputs.length) {
      this.log.warn({ callIds: ids.filter((id) => !awaiting.callIds.includes(id)), chatId: awaiting.chatId }, "tool answers for calls this reply did not make dropped");
    }
    if (mine.length === 0) return false;
    for (const o of mine) awaiting.answers.set(o.callId, o.output);
    if (!awaiting.callIds.every((id) => awaiting.answers.has(id))) return true;
    this.replies.awaiting = null;
    const tool_outputs = awaiting.callIds.map((id) => ({ tool_call_id: id, output: awaiting.answers.get(id)! }));
    if (this.send(C.submitToolOutputs, { chat_id: awaiting.chatId, tool_outputs })) return true;
    this.log.warn({ chatId: awaiting.chatId }, "tool answers not sent: the link to the agent is down");
    return false;
  }

  setTurnDetection(mode: "push-to-talk" | "free"): void {
    const s = this.opts.session;
    const vad = this.opts.vad;
    s.turnDetection =
      mode === "free" ? { type: "server_vad", prefixPaddingMs: vad.prefixPaddingMs, silenceDurationMs: vad.silenceDurationMs } : { type: "client_interrupt" };
    // chat.update may change the config mid-session; later links send it with the rest.
    this.send(C.chatUpdate, { turn_detection: buildChatUpdate(s).turn_detection });
  }

  resetConversation(): void {
    this.conversationId = undefined;
    // Coze starts a new context section; a link opened later simply sends no conversation_id.
    this.send(C.conversationClear);
  }

  private send(eventType: string, data?: unknown): boolean {
    const ws = this.openLink();
    if (!ws) return false;
    ws.send(encodeEvent(eventType, data));
    return true;
  }

  /**
   * The ready link, with everything sent in this tick batched into one write: the two
   * 20 ms appends of a 40 ms capture period leave as one TCP segment, not two (each
   * write is a syscall and a wake-up of the peer; on a Pi that is most of an append's cost).
   */
  private openLink(): WebSocket | null {
    const ws = this.ws;
    if (this.phase !== "ready" || !ws || ws.readyState !== WebSocket.OPEN) return null;
    const socket = this.socket;
    if (socket && !this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    return ws;
  }

  private emit(e: AgentEvent): void {
    for (const l of this.listeners) l(e);
  }

  private connect(): void {
    this.phase = "connecting";
    this.failure = null;
    this.attempt++;
    this.emit({ type: "link.connecting", attempt: this.attempt });
    let url: URL;
    try {
      url = new URL(this.opts.url);
    } catch {
      this.failure = { problem: "protocol", message: `agent.url is not a valid URL` };
      this.scheduleRetry();
      return;
    }
    url.searchParams.set("bot_id", this.opts.botId);
    if (this.opts.deviceId) url.searchParams.set("device_id", this.opts.deviceId);
    this.log.debug({ url: `${url.origin}${url.pathname}`, attempt: this.attempt }, "connecting to agent");

    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${this.opts.token}` },
      handshakeTimeout: this.opts.connectTimeoutMs,
      perMessageDeflate: false,
    });
    this.ws = ws;
    this.socket = null;
    // chat.created must arrive within the connect timeout too, not just the handshake.
    this.setupTimer = this.clock.setTimeout(
      () => this.fail(ws, "network", `no session from the agent within ${this.opts.connectTimeoutMs} ms`),
      this.opts.connectTimeoutMs,
    );

    ws.on("unexpected-response", (_req, res) => this.onHandshakeRejected(ws, res));
    ws.on("upgrade", (res) => {
      if (ws === this.ws) this.socket = res.socket;
    });
    ws.on("message", (data, isBinary) => this.onMessage(ws, data as Buffer, isBinary));
    ws.on("pong", () => {
      this.pongPending = false;
    });
    ws.on("error", (err) => {
      if (!this.failure) this.failure = { problem: "network", message: describeSocketError(err) };
    });
    ws.on("close", (code, reason) => this.onClose(ws, code, reason.toString("utf8")));
  }

  private onHandshakeRejected(ws: WebSocket, res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    let body = "";
    // The body may name the reason (a Coze error code); read a little of it before giving up on the socket.
    const giveUp = setTimeout(() => conclude(), 2000);
    const conclude = (): void => {
      clearTimeout(giveUp);
      const { problem, message } = classifyRejection(status, parseErrorBody(body));
      // terminate() also ends a handshake whose HTTP response has completed.
      this.fail(ws, problem, message);
    };
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      if (body.length < 2048) body += chunk;
    });
    res.on("end", conclude);
    res.on("error", conclude);
  }

  private onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.ws) return;
    const decoded = decodeEvent(data, isBinary);
    if (!decoded.ok) {
      this.log.warn({ reason: decoded.reason }, "ignored a malformed message from the agent");
      return;
    }
    const ev = decoded.event;
    if (this.phase === "connecting") {
      this.onSetupEvent(ws, ev.event_type, ev.data);
      return;
    }
    if (ev.event_type === S.error && isAuthError((ev.data?.code as number | string | undefined) ?? "")) {
      this.fail(ws, "auth", `the agent rejected the credentials: ${str(ev.data?.msg) ?? ""} (${String(ev.data?.code)}); ${errorHint(ev.data?.code as number) ?? ""}`);
      return;
    }
    const t = translate(ev, this.replies);
    if (t.kind === "ignored") {
      this.log.debug({ event_type: ev.event_type, why: t.why }, "ignored agent event");
      return;
    }
    if (t.kind === "invalid") {
      this.log.warn({ event_type: ev.event_type, why: t.why }, "ignored an invalid event from the agent");
      return;
    }
    for (const e of t.events) {
      if (e.type === "reply.started" && e.conversationId) this.conversationId = e.conversationId;
      this.emit(e);
    }
  }

  private onSetupEvent(ws: WebSocket, type: string, data: Record<string, unknown> | undefined): void {
    if (type === S.chatCreated) {
      const settings: CozeSessionSettings = { ...this.opts.session };
      if (this.conversationId) settings.conversationId = this.conversationId;
      else delete settings.conversationId;
      ws.send(encodeEvent(C.chatUpdate, buildChatUpdate(settings)));
      return;
    }
    if (type === S.chatUpdated) {
      this.clock.clearTimeout(this.setupTimer);
      this.negotiated = formatsFromChatUpdated(data, { input: this.opts.session.input, output: this.opts.session.output });
      this.phase = "ready";
      this.backoff.reset();
      this.holdForAuth = false;
      this.schedulePing(ws);
      this.emit({ type: "link.ready", input: this.negotiated.input, output: this.negotiated.output });
      return;
    }
    if (type === S.error) {
      const code = (data?.code as number | string | undefined) ?? "unknown";
      const msg = str(data?.msg) ?? "error during session setup";
      const hint = errorHint(code);
      this.fail(ws, isAuthError(code) ? "auth" : "server", `${msg} (${String(code)})${hint ? `; ${hint}` : ""}`);
      return;
    }
    this.log.debug({ event_type: type }, "event before session setup finished; ignored");
  }

  /** Ping, then check for the pong; a dead link (Wi-Fi gone, NAT timeout) shows up here, not in TCP. */
  private schedulePing(ws: WebSocket): void {
    this.pingTimer = this.clock.setTimeout(() => {
      if (ws !== this.ws || this.phase !== "ready") return;
      this.pongPending = true;
      ws.ping();
      this.pingTimer = this.clock.setTimeout(() => {
        if (this.pongPending) this.fail(ws, "network", `no answer to WebSocket ping within ${this.opts.pingTimeoutMs} ms`);
        else this.schedulePing(ws);
      }, this.opts.pingTimeoutMs);
    }, this.opts.pingIntervalMs);
  }

  private fail(ws: WebSocket, problem: LinkProblem, message: string): void {
    if (ws !== this.ws) return;
    if (!this.failure || this.failure.problem === "network") this.failure = { problem, message };
    // terminate() emits 'close', which schedules the retry.
    ws.terminate();
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.clearTimers();
    this.pongPending = false;
    this.replies.current = null;
    this.replies.awaiting = null;
    if (this.phase === "stopped") return;
    if (!this.failure) {
      this.failure = { problem: "network", message: `the agent closed the connection (code ${code}${reason ? `, ${reason}` : ""})` };
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const failure = this.failure ?? { problem: "network" as const, message: "connection lost" };
    this.holdForAuth = failure.problem === "auth";
    // A rejected token will not start working in a second: wait minutes, not a hot loop.
    const delay = this.holdForAuth ? this.opts.reconnect.authFailureMs : this.backoff.next();
    this.phase = "waiting";
    this.emit({ type: "link.down", problem: failure.problem, message: failure.message, retryInMs: delay });
    this.retryTimer = this.clock.setTimeout(() => {
      if (this.phase === "waiting") this.connect();
    }, delay);
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.setupTimer);
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.pingTimer);
  }
}

function describeSocketError(err: Error & { code?: string }): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused by the agent's host";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the agent's host name does not resolve (no network or DNS?)";
    case "ETIMEDOUT":
      return "connection timed out";
    case "ENETUNREACH":
    case "EHOSTUNREACH":
      return "network unreachable (is Wi-Fi up?)";
    default:
      return err.message;
  }
}

function classifyRejection(status: number, detail: { code: number | string; msg: string } | null): { problem: LinkProblem; message: string } {
  const why = detail ? `: ${detail.msg} (${detail.code})` : "";
  if (status === 401 || status === 403 || (detail && isAuthError(detail.code))) {
    const hint =
      status === 401
        ? "check agent.token / TALKBOX_TOKEN: create a new personal access token with chat permission"
        : "check that the token may use this bot (agent.bot_id) and that the account is enabled for voice chat";
    return { problem: "auth", message: `${status === 401 ? "the token was rejected (HTTP 401)" : `access denied (HTTP ${status})`}${why}; ${hint}` };
  }
  const hint = detail ? errorHint(detail.code) : undefined;
  return { problem: "server", message: `the agent refused the connection (HTTP ${status})${why}${hint ? `; ${hint}` : ""}` };
}

function parseErrorBody(body: string): { code: number | string; msg: string } | null {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const inner = (typeof v.data === "object" && v.data !== null ? v.data : v) as Record<string, unknown>;
    const code = inner.code;
    if (typeof code === "number" || typeof code === "string") return { code, msg: str(inner.msg) ?? str(inner.message) ?? "" };
  } catch {
    // not JSON: the status code alone has to do
  }
  return null;
}
