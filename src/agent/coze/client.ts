/**
 * Coze's `/v1/chat` over one long-lived link (../link/ws-link.ts, which keeps it
 * open): the session setup (chat.created → chat.update → chat.updated), the wire
 * format, and its translation into normalized AgentEvents.
 */
import type WebSocket from "ws";
import type { Logger } from "../../log/logger";
import { realClock, type Clock, type ClockTimer } from "../../core/clock";
import type { ConversationBook } from "../../core/conversations";
import type { AgentBackend, AgentSpeech, BackendCapabilities, Credentials, HeardAnnouncement, ToolOutput, TurnContext } from "../backend";
import { LinkedBackend } from "../link/linked-backend";
import { WsLink, type LinkProtocol } from "../link/ws-link";
import type { LinkSettings } from "../link-settings";
import { encodeAppend } from "./append";
import { primeSpeechChecks, synthesizeSpeech } from "./speech";
import { C, decodeServerEvent, encodeEvent, errorHint, linkHoldingProblem, primeServerChecks, S, str } from "./protocol";
import { classifyRejection } from "./rejection";
import { buildChatUpdate, formatsFromChatUpdated, type CozeSessionSettings } from "./session-config";
import { translate, type ReplyTracker } from "./translate";

export interface CozeLinkOptions extends LinkSettings {
  botId: string;
  token: string;
  deviceId?: string;
  session: CozeSessionSettings;
  /** Server VAD settings for when free conversation is switched on. */
  vad: { prefixPaddingMs: number; silenceDurationMs: number };
  /** The saved conversations of a bot, per user (BackendContext.conversations). */
  conversations(scope: string): ConversationBook;
}

/** How a held problem is reported when an error event ends an open session. */
const HOLDING_WHAT = {
  auth: "the agent rejected the credentials",
  quota: "the agent refused: the account's quota is used up",
  not_found: "the agent refused: the bot is not published as an API service",
  bad_request: "the agent refused the device's settings",
} as const;

/**
 * Coze's server VAD and chat.cancel work for every bot. Speech synthesis has its own
 * connection (speech.ts): it can speak while the chat answers.
 */
export const COZE_CAPABILITIES: BackendCapabilities = { serverVad: true, interruption: true, speaksBesideReplies: true };

export class CozeBackend extends LinkedBackend implements AgentBackend {
  readonly name = "coze";
  protected readonly link: WsLink;
  private readonly replies: ReplyTracker = { current: null };
  private conversationId: string | undefined;
  /** Whose turns go out now (chat_config.user_id): a button's user_id, or the device's. */
  private user: string;
  /** Each user's conversation with this bot, saved across restarts: a user coming back continues theirs. */
  private book: ConversationBook;
  /** Audio went out since the last complete or clear: an abandoned turn must take it back. */
  private appended = false;
  /** A conversation.clear waiting for conversation.cleared. */
  private clearTimer: ClockTimer | undefined;

  constructor(
    private readonly opts: CozeLinkOptions,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {
    super();
    // The event checks are compiled here, at start-up, not on the first reply's way to the speaker.
    primeServerChecks();
    primeSpeechChecks();
    this.user = opts.session.userId;
    this.book = opts.conversations(`coze.${opts.botId}`);
    // conversation.conversation_id is where the device user starts; a conversation saved since wins.
    this.conversationId = this.book.get(this.user) ?? opts.session.conversationId;
    const protocol: LinkProtocol = {
      prepare: (url) => {
        url.searchParams.set("bot_id", opts.botId);
        if (opts.deviceId) url.searchParams.set("device_id", opts.deviceId);
        return { headers: { Authorization: `Bearer ${opts.token}` } };
      },
      message: (ws, data, isBinary) => this.onMessage(ws, data, isBinary),
      rejected: classifyRejection,
      closed: () => {
        this.replies.current = null;
        this.replies.awaiting = null;
        this.appended = false;
        // The next link sends no conversation_id: that is a new conversation too.
        if (this.clearTimer !== undefined) this.conversationCleared("started a new conversation (on the next link)");
      },
      heldMessage: "not reconnecting on button press: the server rejected the credentials or the settings; fix agent.token / agent.coze (the log above says which), then run: sudo systemctl reload talkbox",
      maxFrame: { bytes: 4 * 1024 * 1024, largest: "a conversation.audio.delta: 10 s of 48 kHz PCM is 1.3 MB of base64" },
      emit: (e) => this.emit(e),
    };
    this.link = new WsLink(opts, protocol, log, clock);
  }

  // Coze's server VAD and chat.cancel work for every bot.
  // Speech synthesis has its own connection (speech.ts): it can speak while the chat answers.
  readonly capabilities = COZE_CAPABILITIES;

  beginTurn(turn: TurnContext): boolean {
    // A push-to-talk turn begins with its first append; only another user needs a chat.update first.
    if (this.link.phase !== "ready") return false;
    this.asUser(turn.userId);
    return true;
  }

  /**
   * Turns from now on are `userId`'s (seed 003: chat_config.user_id), each user in a conversation
   * of their own: the one they had, or a new one (chat_config without conversation_id).
   */
  private asUser(userId: string): void {
    const user = userId || this.opts.session.userId;
    if (user === this.user) return;
    this.user = user;
    this.conversationId = this.book.get(user);
    this.log.info({ user, continuing: this.conversationId !== undefined }, "turns are another user's now: telling the agent (chat.update)");
    const extra = this.opts.session.extraParams?.();
    this.send(C.chatUpdate, {
      chat_config: { user_id: user, auto_save_history: true, ...(this.conversationId ? { conversation_id: this.conversationId } : {}), ...(extra ? { extra_params: extra } : {}) },
    });
  }

  appendAudio(frame: Buffer): boolean {
    const ws = this.link.readySocket();
    if (!ws) return false;
    this.link.sendSoon(ws, encodeAppend(frame), { binary: false });
    this.appended = true;
    return true;
  }

  commitTurn(): boolean {
    if (!this.send(C.complete)) return false;
    this.appended = false;
    this.link.setReplyExpected(true);
    return true;
  }

  abortTurn(): void {
    // Coze documents input_audio_buffer.clear: what the server holds of the turn is dropped.
    if (this.appended && this.send(C.clear)) this.log.debug("abandoned turn: asked the agent to clear its input buffer");
    this.appended = false;
  }

  cancelReply(): boolean {
    return this.send(C.cancel);
  }

  /** An announcement in the bot's voice, from Coze's speech WebSocket (speech.ts, a connection of its own); needs the link up. */
  synthesize(text: string, rate: number, signal: AbortSignal): AgentSpeech {
    if (!this.link.readySocket()) throw new Error("the link to Coze is down");
    const s = this.opts.session;
    const audio = synthesizeSpeech(
      { chatUrl: this.opts.url, token: this.opts.token, ...(s.voiceId ? { voiceId: s.voiceId } : {}), speechRate: s.speechRate, timeoutMs: this.opts.connectTimeoutMs },
      text,
      rate,
      signal,
    );
    return { format: { codec: "pcm", sampleRate: rate, channels: 1 }, audio };
  }

  /**
   * An announcement joins the conversation as the bot's words (seed 004, Q2/Q3): what was heard
   * of it, as an assistant message on the chat link, which Coze keeps in the history and does
   * not answer. Whichever voice spoke it: the speech connection keeps no history.
   */
  rememberAnnouncement(a: HeardAnnouncement): boolean {
    if (a.heard === "") return false;
    return this.send(C.messageCreate, { role: "assistant", content_type: "text", content: a.heard });
  }

  /** The position moved: Coze hears it as the chat's extra_params (the same user and conversation). */
  updateContext(context: Record<string, string>): void {
    this.send(C.chatUpdate, {
      chat_config: { user_id: this.user, auto_save_history: true, ...(this.conversationId ? { conversation_id: this.conversationId } : {}), extra_params: context },
    });
  }

  /** A typed question: a user message on the chat link, which Coze answers as a spoken turn. */
  sendText(text: string, turn: TurnContext): boolean {
    if (this.link.phase !== "ready") return false;
    this.asUser(turn.userId);
    return this.send(C.messageCreate, { role: "user", content_type: "text", content: text });
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

  updateCredentials(c: Credentials): void {
    this.opts.token = c.token;
    if (c.botId !== undefined && c.botId !== this.opts.botId) {
      // Another bot: its users' conversations, never the old bot's ids.
      this.opts.botId = c.botId;
      this.book = this.opts.conversations(`coze.${c.botId}`);
      this.conversationId = this.book.get(this.user);
    }
    this.link.reconnectNow("reconnecting with the new credentials");
  }

  resetConversation(userId?: string): void {
    if (userId !== undefined && userId !== this.user) {
      // Not the user the link speaks for now: their next turn simply names no conversation.
      this.book.forget(userId);
      queueMicrotask(() => this.emit({ type: "conversation.reset", ok: true, message: `started a new conversation for ${userId} (from their next turn)` }));
      return;
    }
    this.book.forget(this.user);
    this.conversationId = undefined;
    // Coze starts a new context section; a link opened later simply sends no conversation_id.
    if (!this.send(C.conversationClear)) {
      queueMicrotask(() => this.emit({ type: "conversation.reset", ok: true, message: "started a new conversation (on the next link)" }));
      return;
    }
    this.clock.clearTimeout(this.clearTimer);
    const waitMs = this.opts.connectTimeoutMs;
    this.clearTimer = this.clock.setTimeout(() => {
      this.clearTimer = undefined;
      this.emit({
        type: "conversation.reset",
        ok: false,
        message: `the agent did not confirm the new conversation within ${waitMs} ms: the next question may still see the old one; long-press again`,
      });
    }, waitMs);
  }

  private conversationCleared(message: string): void {
    this.clock.clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
    this.emit({ type: "conversation.reset", ok: true, message });
  }

  private send(eventType: string, data?: unknown): boolean {
    const ws = this.link.readySocket();
    if (!ws) return false;
    // Someone waits for this one (a commit, a cancel): out now, behind the tick's appends.
    this.link.send(ws, encodeEvent(eventType, data));
    return true;
  }

  private onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    const decoded = decodeServerEvent(data, isBinary);
    if (!decoded.ok) {
      this.log.warn({ reason: decoded.reason }, "ignored a malformed message from the agent");
      return;
    }
    const ev = decoded.event;
    if (this.link.phase === "connecting") {
      this.onSetupEvent(ws, ev.event_type, ev.data);
      return;
    }
    const holding = ev.event_type === S.error ? linkHoldingProblem((ev.data?.code as number | string | undefined) ?? "") : null;
    if (holding) {
      const what = HOLDING_WHAT[holding];
      this.link.fail(holding, `${what}: ${str(ev.data?.msg) ?? ""} (${String(ev.data?.code)}); ${errorHint(ev.data?.code as number) ?? ""}`);
      return;
    }
    if (ev.event_type === S.conversationCleared) {
      if (this.clearTimer !== undefined) this.conversationCleared("started a new conversation");
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
      if (e.type === "reply.started" && e.conversationId) {
        this.conversationId = e.conversationId;
        this.book.set(this.user, e.conversationId);
      }
      this.emit(e);
    }
  }

  private onSetupEvent(ws: WebSocket, type: string, data: Record<string, unknown> | undefined): void {
    if (type === S.chatCreated) {
      const settings: CozeSessionSettings = { ...this.opts.session, userId: this.user };
      if (this.conversationId) settings.conversationId = this.conversationId;
      else delete settings.conversationId;
      ws.send(encodeEvent(C.chatUpdate, buildChatUpdate(settings)));
      return;
    }
    if (type === S.chatUpdated) {
      this.negotiated = formatsFromChatUpdated(data, { input: this.opts.session.input, output: this.opts.session.output });
      this.link.ready();
      this.emit({ type: "link.ready", input: this.negotiated.input, output: this.negotiated.output });
      return;
    }
    if (type === S.error) {
      const code = (data?.code as number | string | undefined) ?? "unknown";
      const msg = str(data?.msg) ?? "error during session setup";
      const hint = errorHint(code);
      this.link.fail(linkHoldingProblem(code, true) ?? "server", `${msg} (${String(code)})${hint ? `; ${hint}` : ""}`);
      return;
    }
    this.log.debug({ event_type: type }, "event before session setup finished; ignored");
  }
}
