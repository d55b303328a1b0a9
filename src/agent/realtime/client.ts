/**
 * One long-lived WebSocket link to an OpenAI-Realtime-compatible server: the
 * Volcengine AI gateway (`flavour: volcengine`) or OpenAI (`flavour: openai`).
 * Opened at start-up, kept alive with WebSocket pings and (for the gateway's
 * 120 s idle close) a harmless client message, re-opened with back-off when it
 * drops and at once when the user presses the button. Speaks the wire format;
 * emits only normalized AgentEvents.
 *
 * Responses: at most one runs at a time on the server, so `response.create` is
 * never sent while one is requested or running: it waits for `response.done`.
 * Tool calls: see translate.ts for which responses end a reply; the follow-up
 * `response.create` goes out once the function-call response is done AND every
 * call it made has its output.
 */
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import type { Logger } from "../../log/logger";
import { Backoff } from "../../net/backoff";
import { realClock, type Clock, type ClockTimer } from "../../device/clock";
import { ConfigError } from "../../config/errors";
import type { StateStore } from "../../state/store";
import type { AgentBackend, BackendCapabilities, ToolOutput, TurnContext } from "../backend";
import type { AgentEvent, AudioFormat, LinkProblem } from "../events";
import {
  audioMs,
  C,
  classifyError,
  decodeEvent,
  encodeEvent,
  errorHint,
  GATEWAY_IDLE_MS,
  MIN_COMMIT_MS,
  newEventId,
  obj,
  readError,
  S,
  str,
  type RealtimeFlavour,
  type WireError,
  type WireEvent,
} from "./protocol";
import { buildSession, checkFormats, checkSessionUpdated, turnDetection, type RealtimeSessionSettings, type TurnMode } from "./session-config";
import { newTracker, translate, type FinishedResponse } from "./translate";

export interface RealtimeOptions {
  flavour: RealtimeFlavour;
  url: string;
  token: string;
  /** Volcengine: the model behind the gateway (`ag-custom-model`). */
  customModel?: string;
  /** Volcengine: a Coze bot behind the gateway (`ag-coze-bot-id`); its conversation is continued across links. */
  cozeBotId?: string;
  session: Omit<RealtimeSessionSettings, "flavour">;
  mode: TurnMode;
  /** A harmless client message after this long without one; 0: none (the gateway closes idle sessions). */
  keepaliveMs: number;
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number; authFailureMs: number };
  /** Keeps the Coze bot's conversation id across restarts. */
  state: StateStore;
}

type Phase = "stopped" | "connecting" | "ready" | "waiting";

/** Where a `response.create` stands: sent and not yet answered by response.created, or running. */
type ResponseState = "idle" | "requested" | "active";

/** A function-call response whose calls wait for the device's outputs. */
interface ToolChain {
  responseId: string;
  pending: Set<string>;
  /** Its response.done arrived: the follow-up may be asked for once nothing is pending. */
  responseDone: boolean;
}

export class RealtimeBackend implements AgentBackend {
  readonly name = "realtime";
  readonly capabilities: BackendCapabilities;
  private readonly cozeBotId: string | undefined;
  private readonly settings: RealtimeSessionSettings;
  private ws: WebSocket | null = null;
  private phase: Phase = "stopped";
  private failure: { problem: LinkProblem; message: string } | null = null;
  /** The next reconnect is not a failure: at once, without growing the back-off. */
  private quietRetry = false;
  private readonly listeners: Array<(e: AgentEvent) => void> = [];
  private readonly backoff: Backoff;
  private negotiated: { input: AudioFormat; output: AudioFormat } | null = null;
  private setupTimer: ClockTimer | undefined;
  private retryTimer: ClockTimer | undefined;
  private pingTimer: ClockTimer | undefined;
  private keepaliveTimer: ClockTimer | undefined;
  private createTimer: ClockTimer | undefined;
  private pongPending = false;
  private holdForAuth = false;
  private attempt = 0;
  private lastSentAt = 0;
  /** An error the server sent while the session was being set up. */
  private setupError: string | null = null;
  /** The X-Conversation-Id this link was opened with. */
  private resumedFrom: string | undefined;
  private mode: TurnMode;

  // Per link; reset when it closes.
  private tracker = newTracker();
  private turnOpen = false;
  private appendedMs = 0;
  private renewAfterTurn = false;
  private response: ResponseState = "idle";
  private createQueued = false;
  private createEventId: string | null = null;
  private cancelOnCreate = false;
  /** The response the user interrupted: if it still completes with function calls, they are not followed up. */
  private interrupted: string | null = null;
  private chain: ToolChain | null = null;
  /** Calls of interrupted replies: their outputs are dropped, not sent. */
  private readonly droppedCalls = new Set<string>();
  /** Ids of our input_audio_buffer.clear events: an error about one is not the user's business. */
  private readonly clearIds = new Set<string>();
  private readonly warnedTypes = new Set<string>();

  constructor(
    private readonly opts: RealtimeOptions,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {
    const issues = checkFormats(opts.flavour, opts.session.input, opts.session.output);
    if (issues.length > 0) throw new ConfigError(`agent.backend realtime, agent.flavour ${opts.flavour}`, issues);
    if (opts.flavour !== "volcengine") {
      if (opts.cozeBotId) log.warn("agent.coze_bot_id only applies to agent.flavour volcengine; ignoring it");
      if (opts.customModel) log.warn("agent.custom_model only applies to agent.flavour volcengine; ignoring it (pick OpenAI's model in agent.url)");
    }
    this.cozeBotId = opts.flavour === "volcengine" ? opts.cozeBotId : undefined;
    // A Coze bot behind the gateway uses its own plugins; the gateway ignores session tools there (seed 001).
    this.settings = { ...opts.session, flavour: opts.flavour, tools: this.cozeBotId ? [] : opts.session.tools };
    this.capabilities = { serverVad: opts.flavour === "openai", interruption: this.cozeBotId === undefined };
    this.mode = opts.mode;
    this.backoff = new Backoff({ initialMs: opts.reconnect.initialMs, maxMs: opts.reconnect.maxMs });
  }

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
    if (ws) await closeGently(ws, "daemon stopping");
  }

  wake(): void {
    if (this.phase !== "waiting") return;
    if (this.holdForAuth) {
      this.log.warn("not reconnecting on button press: the server rejected the key; fix agent.token and restart talkbox");
      return;
    }
    this.clock.clearTimeout(this.retryTimer);
    this.log.info("button pressed while offline: reconnecting now");
    this.connect();
  }

  beginTurn(_turn: TurnContext): boolean {
    if (!this.isReady()) return false;
    if (this.renewAfterTurn) {
      // The turn during which a new conversation was asked for ended without a commit.
      this.later(() => this.renew());
      return false;
    }
    // Whatever is still in the server's buffer (a turn that was never committed) must not join this one.
    this.sendClear();
    this.turnOpen = true;
    return true;
  }

  appendAudio(frame: Buffer): boolean {
    if (!this.send(C.append, { audio: frame.toString("base64") })) return false;
    const input = this.negotiated?.input ?? this.settings.input;
    this.appendedMs += audioMs(input.codec, input.sampleRate, frame.length);
    return true;
  }

  commitTurn(): boolean {
    if (!this.isReady()) return false;
    this.turnOpen = false;
    const ms = this.appendedMs;
    if (this.renewAfterTurn) {
      // A long press is a gesture, not a question: the new conversation starts with the next press.
      this.sendClear();
      this.later(() => {
        this.emit({ type: "input.empty", message: "started a new conversation; press again to talk" });
        this.renew();
      });
      return true;
    }
    if (ms < MIN_COMMIT_MS) {
      // OpenAI rejects a commit of less than 100 ms; the gateway would answer silence.
      this.sendClear();
      const message =
        ms === 0 ? "no audio reached the agent during the press; hold the button while you speak" : `the press carried only ${Math.round(ms)} ms of audio; hold the button while you speak`;
      // After commitTurn returns: the device only waits for an answer once the commit is done.
      this.later(() => this.emit({ type: "input.empty", message }));
      return true;
    }
    this.send(C.commit);
    this.appendedMs = 0;
    // With server VAD the server answers every committed turn by itself.
    if (!this.serverVad) this.requestResponse();
    return true;
  }

  cancelReply(heardMs?: number): boolean {
    if (!this.isReady()) return false;
    // The user no longer waits for an answer that has not been asked for yet.
    this.createQueued = false;
    if (!this.capabilities.interruption) {
      // The gateway cannot interrupt a Coze bot: its reply runs to the end on the server, the device
      // has already dropped it, and the next turn's response waits for its response.done.
      this.log.debug("a Coze bot behind the gateway cannot be interrupted; its reply finishes on the server unheard");
      return true;
    }
    const active = this.tracker.active?.id;
    if (this.response === "active" && active) {
      if (this.interrupted !== active) {
        this.interrupted = active;
        this.send(C.responseCancel);
      }
    } else if (this.response === "requested") {
      this.cancelOnCreate = true;
    }
    this.truncate(heardMs);
    if (this.chain?.responseDone) this.dropChain(this.chain.responseId, true);
    return true;
  }

  submitToolOutputs(outputs: ToolOutput[]): boolean {
    if (!this.isReady()) return false;
    for (const o of outputs) {
      if (this.droppedCalls.delete(o.callId)) {
        this.log.debug({ callId: o.callId }, "dropped a tool output: the reply that asked for it was interrupted");
        continue;
      }
      const chain = this.chain;
      if (!chain?.pending.has(o.callId)) {
        this.log.warn({ callId: o.callId }, "no tool call with this id is waiting for an answer (the link may have reconnected since); its output is dropped");
        continue;
      }
      this.send(C.itemCreate, { item: { type: "function_call_output", call_id: o.callId, output: o.output } });
      chain.pending.delete(o.callId);
    }
    this.continueChain();
    return true;
  }

  resetConversation(): void {
    if (this.cozeBotId) this.opts.state.set(this.stateKey, undefined);
    // The server keeps the history per connection (and the Coze bot's conversation was resumed by
    // header), so a new conversation needs a new link. An open turn finishes first (see commitTurn).
    if (this.phase === "ready" && this.turnOpen) this.renewAfterTurn = true;
    else if (this.phase === "ready" || (this.phase === "connecting" && this.resumedFrom)) this.later(() => this.renew());
  }

  setTurnDetection(mode: TurnMode): void {
    this.mode = mode;
    if (this.opts.flavour !== "openai") {
      // The gateway has no server VAD and takes session.update only at the start: the device's VAD ends turns.
      this.log.debug({ mode }, "turn detection stays with the device (the gateway has no server VAD)");
      return;
    }
    this.send(C.sessionUpdate, { session: { turn_detection: turnDetection(this.settings, mode) } });
  }

  private get serverVad(): boolean {
    return turnDetection(this.settings, this.mode) !== null;
  }

  private get stateKey(): string {
    return `realtime.conversation_id.${this.cozeBotId ?? ""}`;
  }

  /** A server may echo the key back (e.g. "invalid key sk-…"); it must not reach a log or the status. */
  private scrub(text: string): string {
    const t = this.opts.token;
    return t.length >= 4 && text.includes(t) ? text.split(t).join("[redacted]") : text;
  }

  private isReady(): boolean {
    return this.phase === "ready" && this.ws?.readyState === WebSocket.OPEN;
  }

  /** Sends on the ready link; the event id, or null when the link is not ready. */
  private send(type: string, fields?: Record<string, unknown>): string | null {
    const ws = this.ws;
    if (!ws || !this.isReady()) return null;
    return this.write(ws, type, fields);
  }

  private write(ws: WebSocket, type: string, fields?: Record<string, unknown>): string {
    const id = newEventId();
    ws.send(encodeEvent(type, fields, id));
    this.lastSentAt = this.clock.now();
    return id;
  }

  private sendClear(): void {
    const id = this.send(C.clear);
    this.appendedMs = 0;
    if (!id) return;
    // Only the latest few can still be answered.
    if (this.clearIds.size >= 8) this.clearIds.delete(this.clearIds.values().next().value!);
    this.clearIds.add(id);
  }

  private requestResponse(): void {
    if (this.response !== "idle") {
      this.createQueued = true;
      return;
    }
    const id = this.send(C.responseCreate, { response: { modalities: ["audio", "text"] } });
    if (!id) return;
    this.createEventId = id;
    this.response = "requested";
    // A create the server silently dropped must not hold every later one back until the link drops.
    this.clock.clearTimeout(this.createTimer);
    this.createTimer = this.clock.setTimeout(() => {
      if (this.response !== "requested" || this.createEventId !== id) return;
      this.log.warn(`the agent did not start a response within ${this.opts.connectTimeoutMs} ms of response.create; not waiting for it any longer`);
      this.response = "idle";
      this.flushQueuedCreate();
    }, this.opts.connectTimeoutMs);
  }

  private flushQueuedCreate(): void {
    if (!this.createQueued) return;
    this.createQueued = false;
    this.requestResponse();
  }

  /** OpenAI: keep only what the user heard of the interrupted reply in the history. */
  private truncate(heardMs: number | undefined): void {
    const item = this.tracker.audio;
    if (this.opts.flavour !== "openai" || heardMs === undefined || !item) return;
    // The server rejects an end beyond the audio it sent.
    const end = Math.max(0, Math.min(Math.round(heardMs - item.startMs), Math.floor(item.ms)));
    this.send(C.itemTruncate, { item_id: item.id, content_index: 0, audio_end_ms: end });
    this.tracker.audio = null;
  }

  private continueChain(): void {
    const chain = this.chain;
    if (!chain?.responseDone || chain.pending.size > 0) return;
    this.chain = null;
    this.requestResponse();
  }

  /** The reply that asked for tools was interrupted: no follow-up; late outputs are dropped. */
  private dropChain(responseId: string, announce: boolean): void {
    if (this.chain?.responseId === responseId) {
      for (const id of this.chain.pending) this.droppedCalls.add(id);
      this.chain = null;
    }
    // Its function-call response got no reply.done (the answer was to go on): end the reply here.
    if (announce) this.later(() => this.emit({ type: "reply.done", replyId: responseId, status: "canceled" }));
  }

  private emit(e: AgentEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Events caused by a method call reach listeners after the call returns, never inside it. */
  private later(fn: () => void): void {
    queueMicrotask(fn);
  }

  private connect(): void {
    this.phase = "connecting";
    this.failure = null;
    this.setupError = null;
    this.attempt++;
    this.emit({ type: "link.connecting", attempt: this.attempt });
    let url: URL;
    try {
      url = new URL(this.opts.url);
    } catch {
      this.failure = { problem: "protocol", message: "agent.url is not a valid URL" };
      this.scheduleRetry();
      return;
    }
    const headers: Record<string, string> = { Authorization: `Bearer ${this.opts.token}` };
    if (this.opts.flavour === "openai") headers["OpenAI-Beta"] = "realtime=v1";
    if (this.opts.flavour === "volcengine") {
      if (this.opts.customModel) url.searchParams.set("ag-custom-model", this.opts.customModel);
      if (this.cozeBotId) url.searchParams.set("ag-coze-bot-id", this.cozeBotId);
    }
    const saved = this.cozeBotId ? this.opts.state.get(this.stateKey) : undefined;
    this.resumedFrom = typeof saved === "string" && saved.length > 0 ? saved : undefined;
    if (this.resumedFrom) headers["X-Conversation-Id"] = this.resumedFrom;
    this.log.debug({ url: `${url.origin}${url.pathname}`, attempt: this.attempt, resuming: this.resumedFrom !== undefined }, "connecting to agent");

    const ws = new WebSocket(url, { headers, handshakeTimeout: this.opts.connectTimeoutMs, perMessageDeflate: false });
    this.ws = ws;
    // session.updated must arrive within the connect timeout too, not just the handshake.
    this.setupTimer = this.clock.setTimeout(() => this.onSetupTimeout(ws), this.opts.connectTimeoutMs);
    ws.on("open", () => {
      if (ws !== this.ws) return;
      // Exactly once per link and first: the gateway takes session.update only at the start.
      this.write(ws, C.sessionUpdate, { session: buildSession(this.settings, this.mode) });
    });
    ws.on("unexpected-response", (_req, res) => this.onHandshakeRejected(ws, res));
    ws.on("message", (data, isBinary) => this.onMessage(ws, data as Buffer, isBinary));
    ws.on("pong", () => {
      this.pongPending = false;
    });
    ws.on("error", (err) => {
      if (!this.failure) this.failure = { problem: "network", message: describeSocketError(err) };
    });
    ws.on("close", (code, reason) => this.onClose(ws, code, reason.toString("utf8")));
  }

  private onSetupTimeout(ws: WebSocket): void {
    if (this.setupError) {
      const message = `the agent did not accept the session within ${this.opts.connectTimeoutMs} ms: ${this.setupError}; check agent.voice, agent.instructions, agent.temperature, agent.flavour and audio.*`;
      this.forgetConversationIfResumed("the gateway did not continue the saved conversation");
      this.fail(ws, "server", message);
      return;
    }
    this.fail(ws, "network", `no session from the agent within ${this.opts.connectTimeoutMs} ms`);
  }

  private onHandshakeRejected(ws: WebSocket, res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    let body = "";
    // The body may name the reason; read a little of it before giving up on the socket.
    const giveUp = setTimeout(() => conclude(), 2000);
    const conclude = (): void => {
      clearTimeout(giveUp);
      if (ws !== this.ws) return;
      if ((status === 400 || status === 404 || status === 410) && this.resumedFrom) {
        // A saved conversation the gateway no longer knows must not keep the device offline.
        this.forgetConversationIfResumed(`the gateway refused to continue the saved conversation (HTTP ${status})`);
        this.quietRetry = true;
      }
      const { problem, message } = classifyRejection(status, parseErrorBody(body), this.opts.flavour, this.cozeBotId !== undefined);
      this.fail(ws, problem, this.scrub(message));
    };
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      if (body.length < 2048) body += chunk;
    });
    res.on("end", conclude);
    res.on("error", conclude);
  }

  private forgetConversationIfResumed(why: string): void {
    if (!this.resumedFrom) return;
    this.log.warn(`${why}; the next link starts a new conversation`);
    this.opts.state.set(this.stateKey, undefined);
    this.resumedFrom = undefined;
  }

  private onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.ws) return;
    const decoded = decodeEvent(data, isBinary);
    if (!decoded.ok) {
      this.log.warn({ reason: decoded.reason }, "ignored a malformed message from the agent");
      return;
    }
    const ev = decoded.event;
    if (ev.type === S.error) {
      this.onError(ws, readError(ev));
      return;
    }
    if (ev.type === S.sessionCreated) {
      this.noteSessionId(str(obj(ev.session)?.id));
      return;
    }
    if (this.phase === "connecting") {
      if (ev.type === S.sessionUpdated) this.onSessionUpdated(ws, ev);
      else this.log.debug({ type: ev.type }, "event before session setup finished; ignored");
      return;
    }
    this.onServerEvent(ev);
  }

  private onSessionUpdated(ws: WebSocket, ev: WireEvent): void {
    const check = checkSessionUpdated(ev, this.settings, this.mode);
    if (!check.ok) {
      this.fail(ws, "protocol", check.message);
      return;
    }
    for (const w of check.warnings) this.log.warn(w);
    this.noteSessionId(check.sessionId);
    this.clock.clearTimeout(this.setupTimer);
    this.negotiated = { input: check.input, output: check.output };
    this.phase = "ready";
    this.backoff.reset();
    this.holdForAuth = false;
    this.schedulePing(ws);
    if (this.opts.keepaliveMs > 0) this.scheduleKeepalive(ws, this.opts.keepaliveMs);
    this.emit({ type: "link.ready", input: check.input, output: check.output });
  }

  /** Coze-bot mode: the first session id of a conversation is what continues it (X-Conversation-Id). */
  private noteSessionId(id: string | undefined): void {
    if (!this.cozeBotId || !id) return;
    const saved = this.opts.state.get(this.stateKey);
    if (saved === id) return;
    if (typeof saved === "string" && saved.length > 0) {
      this.log.debug({ saved, given: id }, "the gateway named a new session id while continuing a conversation; keeping the conversation's first");
      return;
    }
    this.opts.state.set(this.stateKey, id);
    this.log.info({ conversation: id }, "new conversation with the Coze bot; it continues across reconnects and restarts");
  }

  private onServerEvent(ev: WireEvent): void {
    if (ev.type === S.sessionUpdated) {
      this.log.debug("the agent confirmed the session change");
      return;
    }
    const output = this.negotiated?.output ?? this.settings.output;
    const t = translate(ev, this.tracker, output);
    if (t.kind === "ignored") {
      const unknown = t.why.startsWith("unknown event");
      if (unknown && !this.warnedTypes.has(ev.type)) {
        this.warnedTypes.add(ev.type);
        this.log.warn({ type: ev.type }, "ignored an event type talkbox does not know (further ones are logged at debug level)");
      } else this.log.debug({ type: ev.type, why: t.why }, "ignored agent event");
      return;
    }
    if (t.kind === "invalid") {
      this.log.warn({ type: ev.type, why: t.why }, "ignored an invalid event from the agent");
      return;
    }
    if (ev.type === S.responseCreated) this.onResponseCreated();
    if (ev.type === S.speechStarted && this.chain?.responseDone) {
      // The user speaks again before the tool answered: that answer is no longer wanted.
      this.dropChain(this.chain.responseId, true);
    }
    // Server VAD: the server commits; what was appended so far is gone from its buffer.
    if (ev.type === S.bufferCommitted && this.serverVad) this.appendedMs = 0;
    const responseId = t.finished?.id ?? this.tracker.active?.id ?? str(ev.response_id) ?? "";
    for (const e of t.events) if (e.type === "tool.call") this.noteCall(e.callId, responseId);
    if (t.finished) this.onResponseDone(t.finished);
    for (const e of t.events) this.emit(e);
  }

  private onResponseCreated(): void {
    this.response = "active";
    this.createEventId = null;
    this.clock.clearTimeout(this.createTimer);
    if (this.cancelOnCreate) {
      this.cancelOnCreate = false;
      this.interrupted = this.tracker.active?.id ?? null;
      this.send(C.responseCancel);
    }
  }

  private noteCall(callId: string, responseId: string): void {
    if (this.chain?.responseId !== responseId) {
      if (this.chain) this.dropChain(this.chain.responseId, false);
      this.chain = { responseId, pending: new Set(), responseDone: false };
    }
    this.chain.pending.add(callId);
  }

  private onResponseDone(f: FinishedResponse): void {
    this.response = "idle";
    this.cancelOnCreate = false;
    if (f.calls.length > 0) {
      const wanted = f.status === "completed" && this.interrupted !== f.id;
      if (wanted && this.chain?.responseId === f.id) {
        this.chain.responseDone = true;
        this.continueChain();
      } else {
        // Completed although interrupted (the cancel came too late): translate gave it no reply.done.
        this.dropChain(f.id, f.status === "completed");
      }
    }
    if (this.interrupted === f.id) this.interrupted = null;
    this.flushQueuedCreate();
  }

  private onError(ws: WebSocket, e: WireError): void {
    const kind = classifyError(e);
    const silentMs = this.clock.now() - this.lastSentAt;
    switch (kind) {
      case "cancel-not-active":
        this.log.debug("the reply had already ended when the cancel arrived");
        return;
      case "already-active":
        this.log.debug("a response was still running; asking again after it ends");
        this.createQueued = true;
        return;
      case "auth":
        this.fail(ws, "auth", `the server rejected the key: ${this.scrub(e.message)}; ${authHint(this.opts.flavour, this.cozeBotId !== undefined)}`);
        return;
      case "session-gone": {
        const why = `the agent ended the session (${this.scrub(e.message)}); reconnecting now`;
        this.log.info(why);
        this.drop(ws, why);
        return;
      }
      case "idle":
        // Only a real pause counts: an "idle" word in a fresh session's error is something else.
        if (silentMs >= GATEWAY_IDLE_MS / 2) {
          this.log.info(`the agent closed the session after ${Math.round(silentMs / 1000)} s without a client message; reconnecting now`);
          this.drop(ws, this.idleMessage(silentMs));
          return;
        }
        break;
      default:
        break;
    }
    if (e.eventId && this.clearIds.has(e.eventId)) {
      // The gateway does not list input_audio_buffer.clear among its events (seed 001); it may refuse it.
      this.log.debug({ code: e.code, message: e.message }, "the agent did not take input_audio_buffer.clear");
      return;
    }
    if (e.eventId && e.eventId === this.createEventId && this.response === "requested") {
      this.response = "idle";
      this.flushQueuedCreate();
    }
    const message = this.scrub(`${e.message}${e.param ? ` (${e.param})` : ""}`);
    if (this.phase === "connecting") {
      this.setupError = message;
      this.log.warn({ code: e.code }, `the agent objected during session setup: ${message}`);
      return;
    }
    const hint = errorHint(e);
    this.emit({ type: "agent.error", error: { code: e.code || e.type || "error", message, ...(hint ? { hint } : {}) } });
  }

  private idleMessage(silentMs: number): string {
    const why = `the agent closed the session after ${Math.round(silentMs / 1000)} s without a client message`;
    return this.opts.keepaliveMs > 0 ? `${why} despite the keepalive; reconnecting now` : `${why} (agent.keepalive_ms is 0); reconnecting now`;
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

  /**
   * The gateway closes a session after 120 s without a client message, and a
   * WebSocket ping is not one. The keepalive is `input_audio_buffer.clear`: it
   * changes nothing on the server when no turn is streaming (the buffer is empty
   * between turns, and beginTurn clears it anyway), needs no audio format, and
   * starts no response. While a turn streams, appends keep the link busy, and a
   * clear would throw the turn away, so none is sent then.
   */
  private scheduleKeepalive(ws: WebSocket, inMs: number): void {
    this.keepaliveTimer = this.clock.setTimeout(() => {
      if (ws !== this.ws || this.phase !== "ready") return;
      const every = this.opts.keepaliveMs;
      const quietFor = this.clock.now() - this.lastSentAt;
      if (quietFor < every) return this.scheduleKeepalive(ws, every - quietFor);
      if (!this.turnOpen && this.appendedMs === 0) {
        this.log.debug("keepalive: input_audio_buffer.clear");
        this.sendClear();
      }
      this.scheduleKeepalive(ws, every);
    }, inMs);
  }

  private fail(ws: WebSocket, problem: LinkProblem, message: string): void {
    if (ws !== this.ws) return;
    if (!this.failure || this.failure.problem === "network") this.failure = { problem, message };
    // terminate() emits 'close', which schedules the retry.
    ws.terminate();
  }

  /** Ends a link on purpose and reconnects at once; the old socket closes in the background. */
  private drop(ws: WebSocket, message: string): void {
    if (ws !== this.ws) return;
    this.failure = { problem: "network", message };
    this.quietRetry = true;
    this.onClose(ws, 1000, "");
    void closeGently(ws, "reconnecting");
  }

  /** A new conversation: the gateway keeps history per link, so the link is replaced. */
  private renew(): void {
    const ws = this.ws;
    if (!ws || this.phase === "stopped" || this.phase === "waiting") return;
    this.log.info("starting a new conversation: opening a new session");
    this.drop(ws, "starting a new conversation");
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = null;
    const wasReady = this.phase === "ready";
    this.clearTimers();
    this.resetLink();
    if (this.phase === "stopped") return;
    if (!this.failure) {
      const silentMs = this.clock.now() - this.lastSentAt;
      if (wasReady && silentMs >= GATEWAY_IDLE_MS * 0.9) {
        this.failure = { problem: "network", message: this.idleMessage(silentMs) };
        this.quietRetry = true;
      } else {
        this.failure = { problem: "network", message: `the agent closed the connection (code ${code}${reason ? `, ${reason}` : ""})` };
      }
    }
    this.scheduleRetry();
  }

  private resetLink(): void {
    this.pongPending = false;
    this.tracker = newTracker();
    this.turnOpen = false;
    this.appendedMs = 0;
    this.renewAfterTurn = false;
    this.response = "idle";
    this.createQueued = false;
    this.createEventId = null;
    this.cancelOnCreate = false;
    this.interrupted = null;
    this.chain = null;
    this.droppedCalls.clear();
    this.clearIds.clear();
  }

  private scheduleRetry(): void {
    const failure = this.failure ?? { problem: "network" as const, message: "connection lost" };
    this.holdForAuth = failure.problem === "auth";
    // A rejected key will not start working in a second: wait minutes, not a hot loop.
    const delay = this.holdForAuth ? this.opts.reconnect.authFailureMs : this.quietRetry ? 0 : this.backoff.next();
    this.quietRetry = false;
    this.phase = "waiting";
    this.emit({ type: "link.down", problem: failure.problem, message: failure.message, retryInMs: delay });
    if (this.phase !== "waiting") return;
    if (delay === 0) {
      this.connect();
      return;
    }
    this.retryTimer = this.clock.setTimeout(() => {
      if (this.phase === "waiting") this.connect();
    }, delay);
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.setupTimer);
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.keepaliveTimer);
    this.clock.clearTimeout(this.createTimer);
  }
}

async function closeGently(ws: WebSocket, reason: string): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    ws.once("close", () => resolve());
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, reason);
    // A dead peer never completes the closing handshake.
    const t = setTimeout(() => ws.terminate(), 1000);
    t.unref();
  });
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

function authHint(flavour: RealtimeFlavour, cozeBot: boolean): string {
  if (flavour === "openai") return "check agent.token / TALKBOX_TOKEN: an OpenAI API key whose project may use the Realtime model named in agent.url";
  return cozeBot
    ? "check agent.token / TALKBOX_TOKEN: the API key of a gateway access key bound to the voice chat agent (语音对话智能体) and to the Coze bot in agent.coze_bot_id"
    : "check agent.token / TALKBOX_TOKEN: the API key of a gateway access key bound to the voice chat agent (语音对话智能体)";
}

function classifyRejection(
  status: number,
  detail: { code: string; message: string } | null,
  flavour: RealtimeFlavour,
  cozeBot: boolean,
): { problem: LinkProblem; message: string } {
  const why = detail ? `: ${detail.message}${detail.code ? ` (${detail.code})` : ""}` : "";
  if (status === 401) return { problem: "auth", message: `the key was rejected (HTTP 401)${why}; ${authHint(flavour, cozeBot)}` };
  if (status === 403) {
    const hint =
      flavour === "openai"
        ? "the key's project may not use this model: check agent.token and the model in agent.url"
        : `the gateway access key is not bound to ${cozeBot ? "the voice chat agent and the Coze bot in agent.coze_bot_id" : "the voice chat agent (语音对话智能体)"}: edit the key's model selection, or check agent.token`;
    return { problem: "auth", message: `access denied (HTTP 403)${why}; ${hint}` };
  }
  if (status === 404) return { problem: "server", message: `nothing answers at agent.url (HTTP 404)${why}; check its path (/v1/realtime) and agent.flavour (${flavour})` };
  if (status === 400) {
    const hint = flavour === "openai" ? "check the model in agent.url" : "check the model in agent.url, agent.custom_model and agent.coze_bot_id";
    return { problem: "server", message: `the agent refused the request (HTTP 400)${why}; ${hint}` };
  }
  if (status === 429) return { problem: "server", message: `too many requests or no quota left (HTTP 429)${why}; wait, or check the account's limits and billing` };
  return { problem: "server", message: `the agent refused the connection (HTTP ${status})${why}` };
}

function parseErrorBody(body: string): { code: string; message: string } | null {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const inner = obj(v.error) ?? v;
    const message = str(inner.message) ?? str(inner.msg);
    if (message === undefined) return null;
    const code = inner.code;
    return { code: typeof code === "number" ? String(code) : (str(code) ?? str(inner.type) ?? ""), message };
  } catch {
    // not JSON: the status code alone has to do
    return null;
  }
}
