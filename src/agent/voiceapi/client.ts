/**
 * The voice API (seed 002): speech in, the bot's synthesised answer out, over one long-lived
 * link (../link/ws-link.ts). v1 streams binary linear16 both ways after one open frame; v2
 * speaks JSON frames and carries each user in a session of their own on the one connection.
 *
 * The protocol has no turn and no reply markers: the server's speech recognition ends a turn
 * when the user falls silent, and the bot's audio simply arrives. So push-to-talk streams the
 * mic while the button is held and ends the turn with `endSilenceMs` of silence (what the
 * server's recognition needs to hear the end), and a reply is the bot's audio from its first
 * frame until none has come for `replyEndMs`. A barge-in cannot stop the bot on the server:
 * the rest of its answer arrives under the same reply id, which the device then drops.
 */
import type WebSocket from "ws";
import type { Logger } from "../../log/logger";
import { realClock, type Clock, type ClockTimer } from "../../core/clock";
import type { AudioFormat } from "../../core/media";
import type { AgentBackend, BackendCapabilities, Credentials, ToolOutput, TurnContext } from "../backend";
import { MAX_ATTACHMENT_CHARS, type LinkProblem } from "../events";
import { LinkedBackend } from "../link/linked-backend";
import { WsLink, type LinkEnd } from "../link/ws-link";
import type { LinkSettings } from "../link-settings";
import {
  closeFrame,
  decodeV2,
  openFrame,
  primeServerChecks,
  sessionAudioFrame,
  sessionContextFrame,
  sessionEndFrame,
  sessionStartFrame,
  sessionTextFrame,
  type ServerFrame,
  type Version,
} from "./protocol";

export interface VoiceApiOptions extends LinkSettings {
  version: Version;
  /** The voice box channel's API key (agent.token). */
  token: string;
  /** The user when a button names none (agent.voiceapi.user_id, else conversation.user_id). */
  userId: string;
  /** conversation.user_id: what a turn carries when its button names no user of its own. */
  deviceUserId: string;
  context?: Record<string, string>;
  overrides?: Record<string, unknown>;
  /** The bot speaks first (a greeting), before the user. */
  triggerBotFirst: boolean;
  /** The mic's rate on the wire (the STT's) and the bot's (the TTS's). */
  sttRate: number;
  ttsRate: number;
  /** Silence sent after a push-to-talk release: what the server's recognition needs to end the turn. */
  endSilenceMs: number;
  /** The bot's answer is over when no audio of it has come for this long. */
  replyEndMs: number;
}

/** v1 has no answer to the open frame: a server that refuses it closes within this time. */
const V1_OPEN_GRACE_MS = 500;
/** Silence goes out in frames of this much audio. */
const SILENCE_FRAME_MS = 20;

/**
 * What an error frame in answer to the open frame means. The seed gives the error's message
 * only (its example: an invalid API key), no code: its words decide, and what they do not
 * name is a plain server error (the ordinary back-off).
 */
export function refusalProblem(message: string): LinkProblem {
  if (/key|auth|unauthori[sz]ed|forbidden|credential/i.test(message)) return "auth";
  if (/quota|credit|balance|limit (reached|exceeded)/i.test(message)) return "quota";
  if (/not found|no such|unknown (bot|channel|scenario)|not published/i.test(message)) return "not_found";
  if (/invalid|override|parameter|sample.?rate/i.test(message)) return "bad_request";
  return "server";
}

/** The service ends no turn by itself here: the device's VAD does in free conversation. */
export const VOICEAPI_CAPABILITIES: BackendCapabilities = { serverVad: false, interruption: true };

export class VoiceApiBackend extends LinkedBackend implements AgentBackend {
  readonly name = "voiceapi";
  readonly capabilities: BackendCapabilities = VOICEAPI_CAPABILITIES;
  protected readonly link: WsLink;
  private readonly input: AudioFormat;
  private readonly output: AudioFormat;
  /** v2: the users with a session on this link. */
  private readonly sessions = new Set<string>();
  /** The user of the turn being spoken. */
  private turnUser: string | null = null;
  /** The bot's answer being received: its reply id. */
  private reply: string | null = null;
  private replySeq = 0;
  private replyTimer: ClockTimer | undefined;
  private graceTimer: ClockTimer | undefined;
  /** The open frame went out on this link (a close before any answer to it is the key refused). */
  private openSent = false;
  private heardSinceOpen = false;
  /** What the device told about itself (the position), merged over agent.voiceapi.context. */
  private deviceContext: Record<string, string> = {};
  /** Unknown kinds already warned about. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly opts: VoiceApiOptions,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {
    super();
    // The frame checks are compiled here, at start-up, not on the first reply's way to the speaker.
    primeServerChecks();
    this.input = { codec: "pcm", sampleRate: opts.sttRate, channels: 1 };
    this.output = { codec: "pcm", sampleRate: opts.ttsRate, channels: 1 };
    this.link = new WsLink(
      opts,
      {
        prepare: () => ({ headers: {}, log: { version: opts.version } }),
        opened: (ws) => this.onOpened(ws),
        message: (_ws, data, isBinary) => this.onMessage(data, isBinary),
        rejected: (status, body) => ({
          problem: status === 401 || status === 403 ? "auth" : status === 404 ? "not_found" : status === 400 ? "bad_request" : "server",
          message: `the voice API refused the connection (HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ""})${status === 404 ? "; check agent.voiceapi.host and agent.voiceapi.version" : ""}`,
        }),
        closed: () => this.resetLink(),
        explainClose: (wasReady, code, reason) => this.explainClose(wasReady, code, reason),
        heldMessage: "not reconnecting on button press: the voice API refused the API key or the settings; fix agent.token or agent.voiceapi (the log above says which), then run: sudo systemctl reload talkbox",
        maxFrame: { bytes: 4 * 1024 * 1024, largest: "a bot audio frame: a few seconds of linear16, under 1 MiB as base64" },
        emit: (e) => this.emit(e),
      },
      log,
      clock,
    );
  }

  override stop(): Promise<void> {
    // Seed 002: ask the endpoint to close gracefully; the link's close follows.
    if (this.opts.version === "v2") this.sendFrames([...[...this.sessions].map((u) => sessionEndFrame(u)), closeFrame()]);
    this.resetLink();
    return super.stop();
  }

  beginTurn(turn: TurnContext): boolean {
    if (!this.isReady()) return false;
    const user = this.userFor(turn);
    this.turnUser = user;
    if (this.opts.version === "v2") this.ensureSession(user);
    return true;
  }

  appendAudio(frame: Buffer): boolean {
    const ws = this.link.readySocket();
    if (!ws) return false;
    // The frames of one mic read leave together at the end of the tick (the link's sendSoon).
    if (this.opts.version === "v1") {
      this.link.sendSoon(ws, frame, { binary: true });
      return true;
    }
    // Audio outside a begun turn (free conversation streams) is the default user's.
    const user = this.turnUser ?? this.opts.userId;
    this.ensureSession(user);
    this.link.sendSoon(ws, JSON.stringify([sessionAudioFrame(user, frame)]));
    return true;
  }

  commitTurn(): boolean {
    const ws = this.link.readySocket();
    if (!ws) return false;
    // The protocol has no end-of-turn frame: the server's recognition ends a turn on silence.
    const silence = Buffer.alloc(Math.round((this.opts.sttRate * SILENCE_FRAME_MS) / 1000) * 2);
    const frames = Math.ceil(this.opts.endSilenceMs / SILENCE_FRAME_MS);
    if (this.opts.version === "v1") {
      this.link.send(ws, Buffer.concat(Array.from({ length: frames }, () => silence)), { binary: true });
    } else {
      // One message for all of it: a batch is one write.
      const user = this.turnUser ?? this.opts.userId;
      this.sendFrames(Array.from({ length: frames }, () => sessionAudioFrame(user, silence)));
    }
    queueMicrotask(() => this.emit({ type: "input.committed" }));
    return true;
  }

  /** A typed question (v2): the user's text frame, which skips the server's recognition. v1 has none. */
  sendText(text: string, turn: TurnContext): boolean {
    if (this.opts.version !== "v2" || !this.isReady()) return false;
    const user = this.userFor(turn);
    this.ensureSession(user);
    this.sendFrames([sessionTextFrame(user, text)]);
    queueMicrotask(() => this.emit({ type: "input.committed" }));
    return true;
  }

  abortTurn(): void {
    // What was streamed cannot be taken back; with no end silence the server may still hear a fragment.
    this.turnUser = null;
  }

  cancelReply(): boolean {
    // The server cannot be asked to stop: the rest of the answer keeps its reply id, which the device drops.
    return this.isReady();
  }

  submitToolOutputs(_outputs: ToolOutput[]): boolean {
    return false;
  }

  resetConversation(userId?: string): void {
    // v2: a user's session is their conversation; a new one starts with their next turn. v1: a new link.
    if (this.opts.version === "v2" && this.isReady()) {
      const ending = userId === undefined ? [...this.sessions] : [...this.sessions].filter((u) => u === userId);
      this.sendFrames(ending.map((u) => sessionEndFrame(u)));
      for (const u of ending) this.sessions.delete(u);
      const whose = userId === undefined ? "" : ` for ${userId}`;
      queueMicrotask(() => this.emit({ type: "conversation.reset", ok: true, message: `started a new conversation${whose}` }));
      return;
    }
    this.link.restart("starting a new conversation");
  }

  setTurnDetection(): void {
    // The server's recognition always ends turns; the device decides when it streams.
  }

  updateCredentials(c: Credentials): void {
    this.opts.token = c.token;
    this.link.reconnectNow("reconnecting with the new API key");
  }

  /**
   * What the device knows changed (the position): v2 sends each open user session a context
   * update, and new sessions start with it. v1 can only send it with the next link's open frame.
   */
  updateContext(context: Record<string, string>): void {
    this.deviceContext = { ...this.deviceContext, ...context };
    if (this.opts.version !== "v2" || !this.isReady()) return;
    this.sendFrames([...this.sessions].map((u) => sessionContextFrame(u, this.context())));
  }

  /** The configured context with what the device knows over it. */
  private context(): Record<string, string> | undefined {
    const c = { ...(this.opts.context ?? {}), ...this.deviceContext };
    return Object.keys(c).length > 0 ? c : undefined;
  }

  /** A button's own user_id wins; the device's default user is this backend's default user. */
  private userFor(turn: TurnContext): string {
    return turn.userId && turn.userId !== this.opts.deviceUserId ? turn.userId : this.opts.userId;
  }

  private isReady(): boolean {
    return this.link.readySocket() !== null;
  }

  private ensureSession(user: string): void {
    if (this.sessions.has(user)) return;
    this.sessions.add(user);
    const context = this.context();
    this.sendFrames([sessionStartFrame(user, { ...(context ? { context } : {}) })]);
  }

  /** v2: one message, a frame array. */
  private sendFrames(frames: Record<string, unknown>[]): void {
    const ws = this.link.readySocket();
    if (!ws || frames.length === 0) return;
    this.link.send(ws, JSON.stringify(frames));
  }

  private onOpened(ws: WebSocket): void {
    const open = openFrame(this.opts.version, {
      apiKey: this.opts.token,
      userId: this.opts.userId,
      ...(this.context() ? { context: this.context()! } : {}),
      ...(this.opts.overrides ? { overrides: this.opts.overrides } : {}),
      triggerBot: this.opts.triggerBotFirst,
    });
    this.openSent = true;
    this.heardSinceOpen = false;
    if (this.opts.version === "v2") {
      ws.send(JSON.stringify([open]));
      return;
    }
    ws.send(JSON.stringify(open));
    // v1 never confirms the open frame; a refused one is closed at once.
    this.graceTimer = this.clock.setTimeout(() => this.becomeReady(), V1_OPEN_GRACE_MS);
  }

  private becomeReady(): void {
    this.negotiated = { input: this.input, output: this.output };
    this.link.ready();
    this.emit({ type: "link.ready", input: this.input, output: this.output });
    if (this.opts.version === "v2" && this.opts.triggerBotFirst) this.ensureSessionWithGreeting(this.opts.userId);
  }

  /** v2: the default user's session, asking the bot to speak first. */
  private ensureSessionWithGreeting(user: string): void {
    if (this.sessions.has(user)) return;
    this.sessions.add(user);
    const context = this.context();
    this.sendFrames([sessionStartFrame(user, { ...(context ? { context } : {}), triggerBot: true })]);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.heardSinceOpen = true;
    if (this.opts.version === "v1") {
      if (!isBinary) {
        this.log.warn({ bytes: data.length }, "the voice API (v1) sent a text message where only audio is expected; ignored");
        return;
      }
      if (this.link.phase !== "ready") {
        // Audio before the grace ended: the open frame was taken.
        this.clock.clearTimeout(this.graceTimer);
        this.becomeReady();
      }
      this.onBotAudio(data.length % 2 ? data.subarray(0, data.length - 1) : data);
      return;
    }
    const decoded = decodeV2(data, isBinary);
    for (const p of decoded.problems) this.log.warn(`ignored a malformed frame from the voice API: ${p}`);
    for (const f of decoded.frames) this.onFrame(f);
  }

  private onFrame(f: ServerFrame): void {
    switch (f.kind) {
      case "opened":
        if (this.link.phase === "connecting") this.becomeReady();
        return;
      case "error":
        if (this.link.phase === "connecting") {
          // An error instead of opened: the open frame was refused (the seed's example: an invalid API key).
          this.link.fail(refusalProblem(f.message), `the voice API refused the open frame: ${f.message}`);
          return;
        }
        this.emit({ type: "agent.error", error: { code: "error", message: f.message } });
        return;
      case "closed":
        this.log.info("the voice API closed the stream");
        this.link.restart("the voice API closed the stream");
        return;
      case "session.started":
        this.log.debug({ user: f.userId }, "user session started");
        return;
      case "session.ended":
        this.sessions.delete(f.userId);
        this.log.debug({ user: f.userId }, "user session ended");
        return;
      case "bot.audio":
        if (f.userId !== null && !this.sessions.has(f.userId)) {
          this.log.warn({ user: f.userId }, "the voice API sent audio for a user without a session; ignored");
          return;
        }
        this.onBotAudio(f.pcm);
        return;
      case "bot.attachment": {
        // Not spoken (seed 002): passed on as JSON text, bounded.
        let content = JSON.stringify(f.attachment ?? null);
        if (content.length > MAX_ATTACHMENT_CHARS) content = `${content.slice(0, MAX_ATTACHMENT_CHARS)}… (${content.length} characters, cut)`;
        this.emit({ type: "reply.attachment", content, ...(f.userId !== null ? { userId: f.userId } : {}) });
        return;
      }
      case "unknown":
        if (this.warned.has(f.name)) return;
        this.warned.add(f.name);
        this.log.warn({ kind: f.name }, "ignored a frame kind talkbox does not know (further ones are not logged)");
        return;
    }
  }

  private onBotAudio(pcm: Buffer): void {
    if (pcm.length === 0) return;
    if (!this.reply) {
      this.reply = `voiceapi-${++this.replySeq}`;
      this.emit({ type: "reply.started", replyId: this.reply });
    }
    const id = this.reply;
    this.emit({ type: "reply.audio", replyId: id, audio: pcm });
    this.clock.clearTimeout(this.replyTimer);
    this.replyTimer = this.clock.setTimeout(() => this.endReply(), this.opts.replyEndMs);
  }

  private endReply(): void {
    const id = this.reply;
    if (!id) return;
    this.reply = null;
    this.emit({ type: "reply.done", replyId: id, status: "completed" });
  }

  private explainClose(wasReady: boolean, code: number, reason: string): LinkEnd | undefined {
    // Seed 002: an invalid open frame (an invalid API key) makes the server close the connection:
    // a close before the session was up (v2: before opened; v1: within the open frame's grace),
    // or one that says the client broke the rules (1008, policy violation).
    const refused = this.openSent && !this.heardSinceOpen && !wasReady;
    if (refused || code === 1008) {
      return {
        problem: "auth",
        message: `the voice API closed the connection right after the open frame (${code}${reason ? ` ${reason}` : ""}): it refused the API key or the overrides; check agent.token and agent.voiceapi.overrides`,
      };
    }
    return undefined;
  }

  private resetLink(): void {
    this.clock.clearTimeout(this.graceTimer);
    this.clock.clearTimeout(this.replyTimer);
    if (this.reply) this.endReply();
    this.sessions.clear();
    this.turnUser = null;
    // openSent stays: the link explains its close (explainClose) after this.
  }
}
