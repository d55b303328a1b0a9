/**
 * An OpenAI-Realtime-compatible server over one long-lived link (../link/ws-link.ts,
 * which keeps it open): the Volcengine AI gateway (`flavour: volcengine`) or OpenAI
 * (`flavour: openai`). Here: the session setup (session.update first and once,
 * link.ready on session.updated), the turns, the server's errors, and the
 * translation into normalized AgentEvents. Responses and tool calls: responses.ts;
 * the gateway's idle close: keepalive.ts; a Coze bot's conversation across links:
 * conversation-id.ts.
 */
import type WebSocket from "ws";
import type { Logger } from "../../log/logger";
import { realClock, type Clock } from "../../core/clock";
import { ConfigError } from "../../core/config-error";
import type { ConversationBook } from "../../core/conversations";
import type { AgentBackend, AgentSpeech, BackendCapabilities, Credentials, HeardAnnouncement, ToolOutput, TurnContext } from "../backend";
import { LinkedBackend } from "../link/linked-backend";
import { WsLink, type LinkEnd, type LinkFailure } from "../link/ws-link";
import type { LinkSettings } from "../link-settings";
import {
  audioMs,
  C,
  classifyError,
  decodeServerEvent,
  encodeEvent,
  errorHint,
  GATEWAY_IDLE_MS,
  MIN_COMMIT_MS,
  newEventId,
  obj,
  primeServerChecks,
  readError,
  S,
  str,
  type RealtimeFlavour,
  type WireError,
  type WireEvent,
} from "./protocol";
import { AgentVoice, announcementResponse } from "./agent-voice";
import { SavedConversation } from "./conversation-id";
import { Keepalive } from "./keepalive";
import { authHint, classifyRejection } from "./rejection";
import { Responses } from "./responses";
import { buildSession, checkFormats, checkSessionUpdated, turnDetection, type RealtimeSessionSettings, type TurnMode } from "./session-config";
import { newTracker, translate, type AudioItem } from "./translate";

export interface RealtimeOptions extends LinkSettings {
  flavour: RealtimeFlavour;
  token: string;
  /** Volcengine: the model behind the gateway (`ag-custom-model`). */
  customModel?: string;
  /** Volcengine: a Coze bot behind the gateway (`ag-coze-bot-id`); its conversation is continued across links. */
  cozeBotId?: string;
  session: Omit<RealtimeSessionSettings, "flavour">;
  mode: TurnMode;
  /** A harmless client message after this long without one; 0: none (the gateway closes idle sessions). */
  keepaliveMs: number;
  /** Keeps the Coze bot's conversation id across restarts (BackendContext.conversations). */
  conversations(scope: string): ConversationBook;
  /** conversation.user_id: the user of a turn whose button names none; absent: every turn is the device's user's. */
  deviceUserId?: string;
}

/**
 * OpenAI hears the end of a turn itself; the Volcengine gateway is driven turn by turn. A Coze
 * bot behind the gateway cannot be interrupted (seed 001).
 */
export function realtimeCapabilities(flavour: RealtimeFlavour, cozeBotId: string | undefined): BackendCapabilities {
  return { serverVad: flavour === "openai", interruption: cozeBotId === undefined };
}

export class RealtimeBackend extends LinkedBackend implements AgentBackend {
  readonly name = "realtime";
  readonly capabilities: BackendCapabilities;
  protected readonly link: WsLink;
  private readonly cozeBotId: string | undefined;
  private readonly settings: RealtimeSessionSettings;
  private readonly conversation: SavedConversation;
  private readonly keepalive: Keepalive;
  private mode: TurnMode;
  /** Unknown event types already warned about; later ones are logged at debug level. */
  private readonly warnedTypes = new Set<string>();

  // Per link; reset when it closes.
  private readonly responses: Responses;
  /** An error the server sent while the session was being set up. */
  private setupError: string | null = null;
  private tracker = newTracker();
  private turnOpen = false;
  private appendedMs = 0;
  private renewAfterTurn = false;
  /** Ids of our input_audio_buffer.clear events: an error about one is not the user's business. */
  private readonly clearIds = new Set<string>();
  /**
   * OpenAI documents input_audio_buffer.clear; the Volcengine gateway does not (seed 001),
   * so there the start of a turn stays on the device until the turn is sure to be
   * committed: audio the gateway never got needs no taking back.
   */
  private readonly canClear: boolean;
  /** The turn's audio held back while it may still come to nothing (canClear false); null: streaming. */
  private held: Buffer[] | null = null;
  private heldMs = 0;
  /** The announcement being spoken in the agent's voice (agent-voice.ts). */
  private voice: AgentVoice | null = null;
  private voiceSeq = 0;
  /**
   * Responses that are announcements, until their response.done: their events (late audio
   * after a cut, their end) are never a reply's. Few at a time: one runs, one is being cancelled.
   */
  private readonly announcementIds = new Set<string>();
  /** OpenAI: the user the model was last told is speaking (a button's user_id); null: the device's. */
  private speaker: string | null = null;

  constructor(
    private readonly opts: RealtimeOptions,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {
    super();
    // The event checks are compiled here, at start-up, not on the first reply's way to the speaker.
    primeServerChecks();
    const issues = checkFormats(opts.flavour, opts.session.input, opts.session.output);
    if (issues.length > 0) throw new ConfigError(`agent.backend realtime, agent.realtime.flavour ${opts.flavour}`, issues);
    if (opts.flavour !== "volcengine") {
      if (opts.cozeBotId) log.warn("agent.realtime.coze_bot_id only applies to agent.realtime.flavour volcengine; ignoring it");
      if (opts.customModel) log.warn("agent.realtime.custom_model only applies to agent.realtime.flavour volcengine; ignoring it (pick OpenAI's model in agent.url)");
    }
    this.cozeBotId = opts.flavour === "volcengine" ? opts.cozeBotId : undefined;
    // A Coze bot behind the gateway uses its own plugins; the gateway ignores session tools there (seed 001).
    this.settings = { ...opts.session, flavour: opts.flavour, tools: this.cozeBotId ? [] : opts.session.tools };
    this.capabilities = realtimeCapabilities(opts.flavour, this.cozeBotId);
    this.mode = opts.mode;
    this.conversation = new SavedConversation(this.cozeBotId ? opts.conversations(`realtime.coze.${this.cozeBotId}`) : null, log);
    this.canClear = opts.flavour === "openai";
    this.keepalive = new Keepalive({
      // The keepalive is a clear: only where the server documents it. The gateway closes a session
      // after 120 s without a client message and the link reconnects at once (explainClose).
      everyMs: this.canClear ? opts.keepaliveMs : 0,
      clock,
      log,
      betweenTurns: () => !this.turnOpen && this.appendedMs === 0,
      sendClear: () => this.sendClear(),
    });
    this.responses = new Responses({
      send: (type, fields) => this.send(type, fields),
      replyCanceled: (replyId) => this.later(() => this.emit({ type: "reply.done", replyId, status: "canceled" })),
      announcementFailed: (why) => this.voice?.fail(new Error(why)),
      createTimeoutMs: opts.connectTimeoutMs,
      clock,
      log,
    });
    this.link = new WsLink(
      opts,
      {
        prepare: (url) => this.prepareLink(url),
        opened: (ws) => {
          // Exactly once per link and first: the gateway takes session.update only at the start.
          this.write(ws, C.sessionUpdate, { session: buildSession(this.settings, this.mode) });
        },
        message: (_ws, data, isBinary) => this.onMessage(data, isBinary),
        rejected: (status, body) => this.onRejected(status, body),
        setupTimedOut: () => this.onSetupTimeout(),
        closed: () => this.resetLink(),
        explainClose: (wasReady) => {
          const silentMs = this.keepalive.silentMs;
          if (!wasReady || silentMs < GATEWAY_IDLE_MS * 0.9) return undefined;
          return { problem: "network", message: this.keepalive.idleMessage(silentMs), retryNow: true };
        },
        heldMessage: "not reconnecting on button press: the server rejected the key or the settings; fix agent.token or agent.url / agent.realtime (the log above says which), then run: sudo systemctl reload talkbox",
        maxFrame: { bytes: 2 * 1024 * 1024, largest: "a response.audio.delta or response.done: tens of kB; 10 s of 24 kHz pcm16 is 640 kB of base64" },
        emit: (e) => this.emit(e),
      },
      log,
      clock,
    );
  }

  override stop(): Promise<void> {
    this.resetLink();
    return super.stop();
  }

  beginTurn(turn: TurnContext): boolean {
    if (!this.isReady()) return false;
    this.tellSpeaker(turn.userId);
    if (this.renewAfterTurn) {
      // The turn during which a new conversation was asked for ended without a commit.
      this.later(() => this.renew());
      return false;
    }
    // Whatever is still in the server's buffer (a turn that was never committed) must not join this one.
    if (this.canClear) this.sendClear();
    else this.hold();
    this.turnOpen = true;
    return true;
  }

  appendAudio(frame: Buffer): boolean {
    if (this.held) {
      if (!this.isReady()) return false;
      this.held.push(frame);
      this.heldMs += this.frameMs(frame);
      // Enough to be committed: from here on the turn is a question whatever happens to the press.
      if (this.heldMs >= MIN_COMMIT_MS) return this.releaseHeld();
      return true;
    }
    if (!this.append(frame)) return false;
    this.appendedMs += this.frameMs(frame);
    return true;
  }

  abortTurn(): void {
    if (!this.turnOpen) return;
    this.turnOpen = false;
    if (this.held) {
      // Nothing of it reached the gateway.
      this.held = null;
      this.heldMs = 0;
      return;
    }
    if (this.appendedMs === 0) return;
    if (this.canClear) {
      this.sendClear();
      return;
    }
    // Audio the gateway cannot be asked to drop: a fresh session is the one documented empty buffer.
    this.appendedMs = 0;
    this.log.info("a turn was abandoned after its audio reached the gateway, which has no way to clear it: opening a fresh session");
    this.later(() => this.renew());
  }

  commitTurn(): boolean {
    if (!this.isReady()) return false;
    this.turnOpen = false;
    const ms = this.appendedMs + this.heldMs;
    if (this.renewAfterTurn) {
      // A long press is a gesture, not a question: the new conversation starts with the next press
      // (on a new session, whose buffer is empty: no clear needed where there is none).
      this.dropTurnAudio();
      this.later(() => {
        this.emit({ type: "input.empty", message: "started a new conversation; press again to talk" });
        this.renew();
      });
      return true;
    }
    if (ms < MIN_COMMIT_MS) {
      // OpenAI rejects a commit of less than 100 ms; the gateway would answer silence.
      this.dropTurnAudio();
      const message =
        ms === 0 ? "no audio reached the agent during the press; hold the button while you speak" : `the press carried only ${Math.round(ms)} ms of audio; hold the button while you speak`;
      // After commitTurn returns: the device only waits for an answer once the commit is done.
      this.later(() => this.emit({ type: "input.empty", message }));
      return true;
    }
    if (this.held && !this.releaseHeld()) return false;
    this.send(C.commit);
    this.link.setReplyExpected(true);
    this.appendedMs = 0;
    // With server VAD the server answers every committed turn by itself.
    if (!this.serverVad) this.responses.request();
    return true;
  }

  /**
   * An announcement in the agent's voice (agent-voice.ts): a response asked to say the text
   * word for word, in the default conversation, so it joins the history as the agent's words.
   * Not for a Coze bot behind the gateway: the gateway does not pass instructions to it (seed 001).
   */
  synthesize(text: string, _rate: number, signal: AbortSignal): AgentSpeech {
    const output = this.negotiated?.output;
    if (!this.isReady() || !output) throw new Error("the link to the agent is down");
    if (this.cozeBotId) throw new Error("a Coze bot behind the gateway speaks only its own answers (response.create instructions do not reach it)");
    const previous = this.voice;
    if (previous) {
      // Not expected (the device speaks one announcement at a time), but never two responses for one voice.
      previous.fail(new Error("a newer announcement took the agent's voice"));
      this.voice = null;
      this.responses.cancelAnnouncement(this.tracker.active?.id);
    }
    const voice = new AgentVoice(this.clock, this.opts.connectTimeoutMs);
    this.voice = voice;
    this.responses.request({ kind: "announcement", response: announcementResponse(text, this.opts.flavour, `announcement-${++this.voiceSeq}`) });
    const ended = (): void => {
      if (this.voice !== voice) return;
      this.voice = null;
      // Stopped before its end (a press, a newer announcement): the server stops too.
      this.responses.cancelAnnouncement(this.tracker.active?.id);
    };
    return { format: output, audio: voice.audio(signal, ended) };
  }

  /**
   * An announcement ends in the history as the agent's words (seed 004, Q2/Q3). Said in the
   * agent's voice, its response put it there: cut short, the response is stopped and, on
   * OpenAI, its item truncated to what was heard, as for a reply. Said in the device's voice,
   * it becomes an assistant message item on OpenAI; the gateway takes no items but function
   * outputs, so there it is not kept (false).
   */
  rememberAnnouncement(a: HeardAnnouncement): boolean {
    if (a.byAgent) {
      const voice = this.voice;
      if (a.complete || !voice) return true;
      this.voice = null;
      this.responses.cancelAnnouncement(this.tracker.active?.id);
      if (this.opts.flavour === "openai" && voice.item) this.truncateItem(voice.item, a.heardMs);
      return true;
    }
    if (this.opts.flavour !== "openai" || a.heard === "") return false;
    return this.send(C.itemCreate, { item: { type: "message", role: "assistant", content: [{ type: "text", text: a.heard }] } }) !== null;
  }

  /**
   * A typed question: a user message item, then a response. OpenAI only: the gateway takes
   * no items but function outputs (seed 001).
   */
  sendText(text: string, turn: TurnContext): boolean {
    if (this.opts.flavour !== "openai" || !this.isReady()) return false;
    this.tellSpeaker(turn.userId);
    if (this.send(C.itemCreate, { item: { type: "message", role: "user", content: [{ type: "input_text", text }] } }) === null) return false;
    this.link.setReplyExpected(true);
    this.responses.request();
    return true;
  }

  cancelReply(heardMs?: number): boolean {
    if (!this.isReady()) return false;
    this.responses.dropQueued();
    if (!this.capabilities.interruption) {
      // The gateway cannot interrupt a Coze bot: its reply runs to the end on the server, the device
      // has already dropped it, and the next turn's response waits for its response.done.
      this.log.debug("a Coze bot behind the gateway cannot be interrupted; its reply finishes on the server unheard");
      return true;
    }
    this.responses.interrupt(this.tracker.active?.id);
    this.truncate(heardMs);
    this.responses.abandonTools();
    return true;
  }

  submitToolOutputs(outputs: ToolOutput[]): boolean {
    if (!this.isReady()) return false;
    this.responses.submit(outputs);
    return true;
  }

  resetConversation(): void {
    this.conversation.forget();
    // The server keeps the history per connection (and the Coze bot's conversation was resumed by
    // header), so a new conversation needs a new link. An open turn finishes first (see commitTurn).
    const phase = this.link.phase;
    if (phase === "ready" && this.turnOpen) this.renewAfterTurn = true;
    else if (phase === "ready" || (phase === "connecting" && this.conversation.resumed)) this.later(() => this.renew());
  }

  updateCredentials(c: Credentials): void {
    this.opts.token = c.token;
    this.link.reconnectNow("reconnecting with the new key");
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

  /** A server may echo the key back (e.g. "invalid key sk-…"); it must not reach a log or the status. */
  private scrub(text: string): string {
    const t = this.opts.token;
    return t.length >= 4 && text.includes(t) ? text.split(t).join("[redacted]") : text;
  }

  private isReady(): boolean {
    return this.link.readySocket() !== null;
  }

  /**
   * The Realtime API has no user per turn: the conversation is one, as at a family table. On
   * OpenAI a system message tells the model who speaks from now on when that changes, so it
   * can tell the driver from the passenger. The gateway takes no message items: there all
   * users are one.
   */
  private tellSpeaker(userId: string): void {
    if (this.opts.flavour !== "openai") return;
    const user = this.opts.deviceUserId === undefined || userId === this.opts.deviceUserId ? null : userId;
    if (user === this.speaker) return;
    this.speaker = user;
    const text = user === null ? "From now on the device's usual user is speaking." : `From now on the speaker is the user "${user}".`;
    this.send(C.itemCreate, { item: { type: "message", role: "system", content: [{ type: "input_text", text }] } });
  }

  /** Sends on the ready link; the event id, or null when the link is not ready. */
  private send(type: string, fields?: Record<string, unknown>): string | null {
    const ws = this.link.readySocket();
    if (!ws) return null;
    return this.write(ws, type, fields);
  }

  /** Sends now (behind the appends this tick held: the link's sendSoon). */
  private write(ws: WebSocket, type: string, fields?: Record<string, unknown>): string {
    const id = newEventId();
    this.link.send(ws, encodeEvent(type, fields, id));
    this.keepalive.sent();
    return id;
  }

  /** An append: the ones of one mic read leave together at the end of the tick. */
  private append(frame: Buffer): boolean {
    const ws = this.link.readySocket();
    if (!ws) return false;
    this.link.sendSoon(ws, encodeEvent(C.append, { audio: frame.toString("base64") }, newEventId()));
    this.keepalive.sent();
    return true;
  }

  private frameMs(frame: Buffer): number {
    const input = this.negotiated?.input ?? this.settings.input;
    return audioMs(input.codec, input.sampleRate, frame.length);
  }

  /** Starts holding the turn's audio on the device. */
  private hold(): void {
    this.held = [];
    this.heldMs = 0;
  }

  /** The held audio goes out, and the rest of the turn streams. */
  private releaseHeld(): boolean {
    const frames = this.held ?? [];
    this.held = null;
    this.heldMs = 0;
    for (const f of frames) {
      if (!this.append(f)) return false;
      this.appendedMs += this.frameMs(f);
    }
    return true;
  }

  /** The turn comes to nothing: held audio is forgotten, streamed audio cleared where the server can. */
  private dropTurnAudio(): void {
    this.held = null;
    this.heldMs = 0;
    if (this.canClear) this.sendClear();
    else this.appendedMs = 0;
  }

  private sendClear(): void {
    const id = this.send(C.clear);
    this.appendedMs = 0;
    if (!id) return;
    // Only the latest few can still be answered.
    if (this.clearIds.size >= 8) this.clearIds.delete(this.clearIds.values().next().value!);
    this.clearIds.add(id);
  }

  /** OpenAI: keep only what the user heard of the interrupted reply in the history. */
  private truncate(heardMs: number | undefined): void {
    const item = this.tracker.audio;
    if (this.opts.flavour !== "openai" || heardMs === undefined || !item) return;
    this.truncateItem(item, heardMs);
  }

  private truncateItem(item: AudioItem, heardMs: number): void {
    // The server rejects an end beyond the audio it sent.
    const end = Math.max(0, Math.min(Math.round(heardMs - item.startMs), Math.floor(item.ms)));
    this.send(C.itemTruncate, { item_id: item.id, content_index: 0, audio_end_ms: end });
    if (this.tracker.audio === item) this.tracker.audio = null;
  }

  /** Events caused by a method call reach listeners after the call returns, never inside it. */
  private later(fn: () => void): void {
    queueMicrotask(fn);
  }

  private prepareLink(url: URL): { headers: Record<string, string>; log: Record<string, unknown> } {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.opts.token}` };
    if (this.opts.flavour === "openai") headers["OpenAI-Beta"] = "realtime=v1";
    if (this.opts.flavour === "volcengine") {
      if (this.opts.customModel) url.searchParams.set("ag-custom-model", this.opts.customModel);
      if (this.cozeBotId) url.searchParams.set("ag-coze-bot-id", this.cozeBotId);
    }
    const resumeFrom = this.conversation.resume();
    if (resumeFrom) headers["X-Conversation-Id"] = resumeFrom;
    return { headers, log: { resuming: resumeFrom !== undefined } };
  }

  private onRejected(status: number, body: string): LinkEnd {
    // A saved conversation the gateway no longer knows must not keep the device offline.
    const retryNow = (status === 400 || status === 404 || status === 410) && this.conversation.resumed;
    if (retryNow) this.conversation.forgetIfResumed(`the gateway refused to continue the saved conversation (HTTP ${status})`);
    const { problem, message } = classifyRejection(status, body, this.opts.flavour, this.cozeBotId !== undefined);
    return { problem, message: this.scrub(message), retryNow };
  }

  private onSetupTimeout(): LinkFailure | undefined {
    if (!this.setupError) return undefined;
    const message = `the agent did not accept the session within ${this.opts.connectTimeoutMs} ms: ${this.setupError}; check agent.realtime.voice, instructions, temperature and flavour, and audio.*`;
    this.conversation.forgetIfResumed("the gateway did not continue the saved conversation");
    return { problem: "server", message };
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const decoded = decodeServerEvent(data, isBinary);
    if (!decoded.ok) {
      this.log.warn({ reason: decoded.reason }, "ignored a malformed message from the agent");
      return;
    }
    const ev = decoded.event;
    if (ev.type === S.error) {
      this.onError(readError(ev));
      return;
    }
    if (ev.type === S.sessionCreated) {
      this.conversation.note(str(obj(ev.session)?.id));
      return;
    }
    if (this.link.phase === "connecting") {
      if (ev.type === S.sessionUpdated) this.onSessionUpdated(ev);
      else this.log.debug({ type: ev.type }, "event before session setup finished; ignored");
      return;
    }
    this.onServerEvent(ev);
  }

  private onSessionUpdated(ev: WireEvent): void {
    const check = checkSessionUpdated(ev, this.settings, this.mode);
    if (!check.ok) {
      this.link.fail("protocol", check.message);
      return;
    }
    for (const w of check.warnings) this.log.warn(w);
    this.conversation.note(check.sessionId);
    this.negotiated = { input: check.input, output: check.output };
    this.link.ready();
    this.keepalive.start();
    this.emit({ type: "link.ready", input: check.input, output: check.output });
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
    if (ev.type === S.responseCreated && this.responses.created(this.tracker.active?.id) === "announcement") {
      const id = this.tracker.active?.id;
      if (id) this.noteAnnouncement(id);
    }
    // Only response.* events belong to a response (VAD and transcription events are the user's).
    const ownerId = ev.type.startsWith("response.") ? (t.finished?.id ?? str(ev.response_id) ?? this.tracker.active?.id) : undefined;
    if (ownerId && this.announcementIds.has(ownerId)) {
      this.onAnnouncementEvent(ownerId, t);
      return;
    }
    // The user speaks again before the tool answered: that answer is no longer wanted.
    if (ev.type === S.speechStarted) this.responses.abandonTools();
    // Server VAD: the server commits; what was appended so far is gone from its buffer.
    if (ev.type === S.bufferCommitted && this.serverVad) this.appendedMs = 0;
    const responseId = t.finished?.id ?? this.tracker.active?.id ?? str(ev.response_id) ?? "";
    for (const e of t.events) if (e.type === "tool.call") this.responses.noteCall(e.callId, responseId);
    if (t.finished) this.responses.done(t.finished);
    for (const e of t.events) this.emit(e);
  }

  private onError(e: WireError): void {
    const kind = classifyError(e);
    const silentMs = this.keepalive.silentMs;
    switch (kind) {
      case "cancel-not-active":
        this.log.debug("the reply had already ended when the cancel arrived");
        // If its response.done never came, this is how we learn nothing runs there.
        if (e.eventId) this.responses.refused(e.eventId);
        return;
      case "already-active":
        this.log.debug("a response was still running; asking again after it ends");
        this.responses.askAgainAfterActive();
        return;
      case "auth":
        this.link.fail("auth", `the server rejected the key: ${this.scrub(e.message)}; ${authHint(this.opts.flavour, this.cozeBotId !== undefined)}`);
        return;
      case "quota":
        this.link.fail("quota", `the agent refused: the account's quota is used up (${this.scrub(e.message)}); top it up on the platform's billing page`);
        return;
      case "not-found":
        this.link.fail("not_found", `the agent refused: ${this.scrub(e.message)}; check the model in agent.url${this.opts.flavour === "volcengine" ? ", agent.realtime.custom_model and agent.realtime.coze_bot_id" : ""}`);
        return;
      case "session-gone": {
        const why = `the agent ended the session (${this.scrub(e.message)}); reconnecting now`;
        this.log.info(why);
        this.link.restart(why);
        return;
      }
      case "idle":
        // Only a real pause counts: an "idle" word in a fresh session's error is something else.
        if (silentMs >= GATEWAY_IDLE_MS / 2) {
          this.log.info(`the agent closed the session after ${Math.round(silentMs / 1000)} s without a client message; reconnecting now`);
          this.link.restart(this.keepalive.idleMessage(silentMs));
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
    if (e.eventId) this.responses.refused(e.eventId);
    else if (this.link.phase === "ready") this.responses.failedWhileRequested();
    const message = this.scrub(`${e.message}${e.param ? ` (${e.param})` : ""}`);
    if (this.link.phase === "connecting") {
      this.setupError = message;
      this.log.warn({ code: e.code }, `the agent objected during session setup: ${message}`);
      return;
    }
    const hint = errorHint(e);
    this.emit({ type: "agent.error", error: { code: e.code || e.type || "error", message, ...(hint ? { hint } : {}) } });
  }

  private noteAnnouncement(id: string): void {
    if (this.announcementIds.size >= 8) this.announcementIds.delete(this.announcementIds.values().next().value!);
    this.announcementIds.add(id);
    if (this.voice && this.voice.responseId === null) this.voice.responseId = id;
  }

  /** An announcement's response: its audio to the announcer, never a reply event to the device. */
  private onAnnouncementEvent(id: string, t: Extract<ReturnType<typeof translate>, { kind: "events" }>): void {
    const voice = this.voice?.responseId === id ? this.voice : null;
    for (const e of t.events) {
      if (e.type === "reply.audio") {
        if (voice) voice.item = this.tracker.audio;
        voice?.push(e.audio);
      } else if (e.type === "reply.done") voice?.finish(e.status, e.error?.message);
    }
    if (!t.finished) return;
    this.announcementIds.delete(id);
    // The calls a model may still make instead of speaking are not followed up: nothing asked for them.
    this.responses.done({ ...t.finished, calls: [] });
  }

  /** A new conversation: the gateway keeps history per link, so the link is replaced. */
  private renew(): void {
    const phase = this.link.phase;
    if (phase === "stopped" || phase === "waiting") return;
    this.log.info("starting a new conversation: opening a new session");
    this.link.restart("starting a new conversation");
  }

  private resetLink(): void {
    this.voice?.fail(new Error("the link to the agent dropped"));
    this.voice = null;
    this.announcementIds.clear();
    this.keepalive.stop();
    this.responses.reset();
    this.setupError = null;
    this.tracker = newTracker();
    this.turnOpen = false;
    this.appendedMs = 0;
    this.renewAfterTurn = false;
    this.clearIds.clear();
    // A new link is a new conversation (or one resumed by id): the model is told again.
    this.speaker = null;
    this.held = null;
    this.heldMs = 0;
  }
}
