/**
 * The device's conversation state, explicit and named. It knows no wire format,
 * no GPIO and no audio: inputs are normalized facts, outputs are effects that the
 * conversation carries out (uplink, backend, playback) and the state that the
 * LEDs and `talkbox status` show.
 *
 * Push-to-talk: press → listening (the mic streams) → release → thinking →
 * speaking → idle. A press while thinking/speaking interrupts (barge-in).
 *
 * Free conversation: the mic streams whenever the link is up and the device is
 * not muted; the server's VAD decides turns (speech started → listening, speech
 * stopped → thinking). The button interrupts the agent while it thinks or
 * speaks, and otherwise mutes / unmutes the mic.
 *
 * Announcements (seed 004): text the device speaks on its own, in `announcing`. Mode 1
 * ends the current interaction (a held turn is aborted, a reply cancelled, an announcement
 * cut) and speaks at once; mode 2 waits for the interaction to end, in order, and is
 * dropped if the user interrupts by voice; mode 3 is dropped while the device interacts.
 * A press cuts an announcement as it cuts a reply. The machine decides; the announcer
 * (announcer.ts) holds the text and the voices.
 */
import type { LinkProblem } from "../agent/events";
import type { Clock, ClockTimer } from "../core/clock";
import type { ConversationMode, DeviceState } from "../core/device-state";
import type { InterruptMode } from "../core/announcement";


export type DeviceInput =
  | { type: "link.connecting" }
  | { type: "link.ready" }
  | { type: "link.down"; problem: LinkProblem; message: string }
  | { type: "button.down"; userId: string }
  /** `empty`: no audio was captured during the press (it was too short). */
  | { type: "button.up"; empty?: boolean }
  | { type: "speech.started" }
  | { type: "speech.stopped" }
  /** The backend did not commit the turn: too little audio to be a question. */
  | { type: "turn.empty"; message: string }
  /** The agent has the end of the user's turn (Coze input_audio_buffer.completed, Realtime committed). */
  | { type: "turn.acknowledged" }
  | { type: "reply.started" }
  | { type: "reply.audio" }
  | { type: "reply.done"; status: "completed" | "failed" | "canceled"; message?: string }
  /** The agent reported an error that does not end the link (in place of a reply, say). */
  | { type: "agent.error"; message: string }
  /** A new conversation (long press) was confirmed by the agent, or was not. */
  | { type: "conversation.reset"; ok: boolean; message: string }
  | { type: "playback.drained" }
  /** The speaker ran dry in the middle of a reply: its audio stopped coming (or comes late). */
  | { type: "playback.starved" }
  /** The speaker refused audio (a write failed): what the agent says cannot be heard. */
  | { type: "playback.failed"; message: string }
  /** Something asks the device to speak an announcement (its text stays with the announcer). */
  | { type: "announce.request"; id: string; mode: InterruptMode }
  /** The announcement was heard to its end, or no voice could speak it. */
  | { type: "announce.done"; id: string; ok: boolean; message?: string }
  /** A typed question (its text stays with the conversation), as `userId`. */
  | { type: "text.turn"; id: string; userId: string }
  /** Another agent takes over: what goes on ends; its link is being opened. */
  | { type: "agent.switch" };

export type Effect =
  /** Push-to-talk: start streaming the mic to the agent as the given user. */
  | { type: "turn.begin"; userId: string }
  /** Push-to-talk: stop streaming and tell the agent the user is done. */
  | { type: "turn.commit" }
  /** Push-to-talk: stop streaming without committing (the link went away mid-turn, or nothing was said). */
  | { type: "turn.abort" }
  /** Push-to-talk: the link died as the turn ended, before the agent had it: send the whole turn again on the next link. */
  | { type: "turn.resend" }
  /** Push-to-talk: the link dropped mid-turn but is coming back: keep the turn's audio and send it all when it is. */
  | { type: "turn.hold" }
  /** Free conversation: stream the mic continuously / stop it (muted, offline). */
  | { type: "stream.start" }
  | { type: "stream.stop" }
  /** Ask the agent to stop its reply. */
  | { type: "reply.cancel" }
  /** The agent stops its reply by itself (it heard the user): late audio of it must not play. */
  | { type: "reply.discard" }
  | { type: "playback.flush" }
  /** Reconnect now instead of waiting out the back-off. */
  | { type: "link.wake" }
  | { type: "notice"; level: "info" | "warn" | "error"; message: string }
  /** Speak this announcement now. */
  | { type: "announce.speak"; id: string }
  /** It waits for the current interaction to end (mode 2). */
  | { type: "announce.queue"; id: string; position: number }
  /** It will not be spoken. */
  | { type: "announce.drop"; id: string; reason: string }
  /** Cut the announcement being spoken short (what was heard of it is kept in the history). */
  | { type: "announce.stop"; id: string }
  /** The agent is slow to answer: say the slow-reply phrase (once per turn). */
  | { type: "filler.start" }
  /** The wait is over (the answer came, or the turn ended otherwise): the phrase stops if it still plays. */
  | { type: "filler.stop" }
  /** Send the typed question to the agent (a text turn: no speech recognition). */
  | { type: "text.send"; id: string; userId: string }
  /** The typed question will not be sent: why. */
  | { type: "text.refuse"; id: string; reason: string };

export interface StateMachineOptions {
  clock: Clock;
  mode: ConversationMode;
  /** How long `thinking` may last before the turn is given up as failed. */
  replyTimeoutMs: number;
  /** How long `error` is shown before the device is usable again. */
  errorHoldMs: number;
  /** A press held longer than this is taken as released (a stuck button, a client that died holding it). */
  maxTurnMs: number;
  /** The longest an announcement may take before it is given up (the announcer never said it ended). */
  announceTimeoutMs?: number;
  /** After this long in `thinking`, the slow-reply phrase (filler.start); absent or 0: never. */
  slowReplyMs?: number;
}

/** Mode-2 announcements waiting at most; more are dropped, so a chatty client costs bounded memory. */
export const MAX_WAITING_ANNOUNCEMENTS = 16;

export interface StateChange {
  from: DeviceState;
  to: DeviceState;
  cause: DeviceInput["type"] | "timeout" | "mode";
}

export class DeviceStateMachine {
  private current: DeviceState = "connecting";
  private linkUp = false;
  /** A connect attempt is under way. */
  private attempting = false;
  /** When the link last went from up to down (null: up, or never up yet), and why it is down. */
  private downAt: number | null = null;
  private downProblem: LinkProblem | null = null;
  private muted = false;
  /** Push-to-talk: the turn was committed and the agent has not yet said it has it. */
  private unacked = false;
  /** That turn is to go again on the next link (turn.resend). */
  private resendPending = false;
  private replyDone = false;
  private playbackIdle = true;
  private timer: ClockTimer | undefined;
  private free: boolean;
  /** Free conversation: the server's (or the device's) VAD hears the user (speech started, not yet stopped). */
  private userSpeaking = false;
  /** The announcement being spoken (state `announcing`). */
  private announcing: string | null = null;
  /** Mode-2 announcements waiting for the current interaction to end, oldest first. */
  private readonly waiting: string[] = [];
  /** Inputs (and timeouts) that came while one was being handled: each runs to completion, in order. */
  /** Inputs, and timer expiries (functions), waiting for the one being handled. */
  private readonly inbox: Array<DeviceInput | (() => void)> = [];
  private handling = false;
  /** The slow-reply phrase's wait in `thinking`, and whether it is being said. */
  private fillerTimer: ClockTimer | undefined;
  private filling = false;

  constructor(
    private readonly opts: StateMachineOptions,
    private readonly onEffect: (effect: Effect) => void,
    private readonly onChange: (change: StateChange) => void = () => {},
  ) {
    this.free = opts.mode === "free";
  }

  get state(): DeviceState {
    return this.current;
  }

  get mode(): ConversationMode {
    return this.free ? "free" : "push-to-talk";
  }

  /**
   * Switches between push-to-talk and free conversation (a double press). Not while
   * the agent thinks or speaks. A push-to-talk turn just begun (the double press's
   * second press) is dropped, not sent.
   */
  setMode(mode: ConversationMode): boolean {
    if (mode === this.mode) return true;
    if (this.current === "thinking" || this.current === "speaking" || this.current === "announcing") return false;
    if (this.current === "listening" && !this.free) {
      this.disarm();
      this.effect({ type: "turn.abort" });
    }
    const streaming = this.free && this.linkUp && !this.muted;
    this.free = mode === "free";
    this.muted = false;
    this.userSpeaking = false;
    if (streaming) this.effect({ type: "stream.stop" });
    if (this.free && this.linkUp) this.effect({ type: "stream.start" });
    if (this.linkUp && this.current !== "error") this.go(this.rest, "mode");
    return true;
  }

  /** Whether the device is back at rest: nothing going on (a turn that was is over). */
  get resting(): boolean {
    return this.current === this.rest;
  }

  /** The state the device rests in when nothing is going on. */
  private get rest(): DeviceState {
    if (!this.free) return "idle";
    return this.muted ? "muted" : "listening";
  }

  /**
   * Handles one input to completion before the next: an effect that leads back here (a
   * backend that answers a cancel at once) queues its input behind the current one, so
   * the order of transitions never depends on who calls whom.
   */
  dispatch(input: DeviceInput): void {
    this.serialise(input);
  }

  private serialise(step: DeviceInput | (() => void)): void {
    // The common case (nothing being handled) runs at once, without touching the queue.
    if (this.handling) {
      this.inbox.push(step);
      return;
    }
    this.handling = true;
    try {
      for (let next: DeviceInput | (() => void) | undefined = step; next; next = this.inbox.shift()) {
        if (typeof next === "function") next();
        else this.handle(next);
        this.startWaiting();
      }
    } catch (err) {
      // A bug in an effect: what was queued behind it is not run out of its context later.
      this.inbox.length = 0;
      throw err;
    } finally {
      this.handling = false;
    }
  }

  private handle(input: DeviceInput): void {
    switch (input.type) {
      case "link.connecting":
        // Retries while offline keep showing `offline`; only the first connect shows `connecting`.
        this.attempting = true;
        return;
      case "link.ready":
        this.linkUp = true;
        this.attempting = false;
        this.downAt = null;
        this.downProblem = null;
        if (this.current === "connecting" || this.current === "offline" || this.current === "error") this.toRest(input.type);
        return;
      case "link.down":
        return this.onLinkDown(input);
      case "button.down":
        return this.onPress(input.userId);
      case "button.up":
        if (!this.free) this.onRelease(input);
        return;
      case "speech.started":
        return this.onSpeechStarted();
      case "speech.stopped":
        this.userSpeaking = false;
        if (this.free && this.current === "listening") this.think(input.type);
        return;
      case "turn.acknowledged":
        this.unacked = false;
        this.resendPending = false;
        return;
      case "turn.empty":
        this.unacked = false;
        // Nothing will answer a turn that was never committed: don't wait for the reply timeout.
        if (this.current !== "thinking") return;
        this.disarm();
        this.effect({ type: "notice", level: "info", message: input.message });
        this.toRest(input.type);
        return;
      case "reply.started":
        this.unacked = false;
        this.resendPending = false;
        if (this.current === "thinking") this.arm(this.opts.replyTimeoutMs, () => this.onReplyTimeout());
        return;
      case "reply.audio":
        this.unacked = false;
        this.resendPending = false;
        this.playbackIdle = false;
        if (this.current === "speaking") this.disarm();
        if (this.current === "thinking" || (this.free && this.current === "listening")) {
          this.disarm();
          this.replyDone = false;
          this.go("speaking", input.type);
        }
        return;
      case "reply.done":
        return this.onReplyDone(input);
      case "agent.error":
        // An error in place of the answer: nothing else is coming, say so now (not after reply_timeout_ms).
        if (this.current !== "thinking") return;
        this.effect({ type: "reply.cancel" });
        this.effect({ type: "notice", level: "error", message: `the agent answered with an error: ${input.message}` });
        this.enterError(input.type);
        return;
      case "conversation.reset":
        // Said whatever the state: it changes what the next question means, not what the device does now.
        this.effect({ type: "notice", level: input.ok ? "info" : "warn", message: input.message });
        return;
      case "playback.drained":
        this.playbackIdle = true;
        if (this.current !== "speaking") return;
        if (this.replyDone) this.toRest(input.type);
        // Everything heard, but the agent never said the reply is over: wait as long as for an answer, then stop waiting.
        else this.arm(this.opts.replyTimeoutMs, () => this.onReplyNeverEnded());
        return;
      case "playback.failed":
        // A reply nobody can hear: stop it on the server and show the error, once (a
        // failing sink fails every write; later failures find the device out of speaking).
        if (this.current !== "speaking") return;
        this.effect({ type: "reply.cancel" });
        this.effect({ type: "playback.flush" });
        this.effect({ type: "notice", level: "error", message: `stopped the reply: the speaker cannot play it (${input.message})` });
        this.enterError(input.type);
        return;
      case "playback.starved":
        // The same wait when the audio stops without an end; more audio disarms it.
        if (this.current === "speaking" && !this.replyDone) this.arm(this.opts.replyTimeoutMs, () => this.onReplyNeverEnded());
        return;
      case "announce.request":
        return this.onAnnounceRequest(input.id, input.mode);
      case "text.turn":
        return this.onTextTurn(input.id, input.userId);
      case "agent.switch":
        return this.onAgentSwitch();
      case "announce.done":
        if (input.id !== this.announcing) return;
        if (!input.ok) this.effect({ type: "notice", level: "error", message: `an announcement could not be spoken: ${input.message ?? "no voice"}` });
        this.announcing = null;
        this.disarm();
        this.settle(input.type);
        return;
    }
  }

  /** The user (or the agent) is in an interaction that announcements of mode 2 wait for and of mode 3 give way to. */
  private get interacting(): boolean {
    if (this.current === "thinking" || this.current === "speaking" || this.current === "announcing") return true;
    if (this.free) return this.userSpeaking;
    return this.current === "listening";
  }

  private onAnnounceRequest(id: string, mode: InterruptMode): void {
    if (mode === 1) {
      this.endInteraction();
      this.startAnnouncement(id, "announce.request");
      return;
    }
    if (!this.interacting) {
      this.startAnnouncement(id, "announce.request");
      return;
    }
    if (mode === 3) {
      const doing = this.current === "listening" ? "listening to the user" : this.current;
      this.effect({ type: "announce.drop", id, reason: `the device is ${doing}; a mode-3 announcement is spoken only when nothing else goes on` });
      return;
    }
    if (this.waiting.length >= MAX_WAITING_ANNOUNCEMENTS) {
      this.effect({ type: "announce.drop", id, reason: `${MAX_WAITING_ANNOUNCEMENTS} announcements are already waiting; try again when the device is idle` });
      return;
    }
    this.waiting.push(id);
    this.effect({ type: "announce.queue", id, position: this.waiting.length });
  }

  /**
   * A typed question: like a press and a release at once. Whatever the agent says or the
   * device announces is interrupted, as by a press; not while the user holds the button
   * (their spoken question comes first), nor without a link.
   */
  private onTextTurn(id: string, userId: string): void {
    if (!this.linkUp) {
      this.effect({ type: "text.refuse", id, reason: `the device is ${this.current}: the agent is not reachable; try again when the link is up` });
      return;
    }
    if (this.current === "listening" && !this.free) {
      this.effect({ type: "text.refuse", id, reason: "the talk button is held: the spoken question goes first; send the text after it" });
      return;
    }
    if (this.current === "announcing") this.stopAnnouncement();
    else if (this.current === "thinking" || this.current === "speaking") this.interrupt();
    this.userSpeaking = false;
    this.effect({ type: "text.send", id, userId });
    this.unacked = false;
    this.think("text.turn");
  }

  /**
   * The old agent's link closes, the new one's opens: the interaction ends as for a mode-1
   * announcement, and the device waits for the new link like at start. What waits to be
   * announced waits on (it is said once the new agent is there).
   */
  private onAgentSwitch(): void {
    this.endInteraction();
    this.disarm();
    this.dropResend();
    this.unacked = false;
    if (this.free && this.linkUp && !this.muted) this.effect({ type: "stream.stop" });
    this.linkUp = false;
    this.attempting = true;
    this.downAt = null;
    this.downProblem = null;
    this.go("connecting", "agent.switch");
  }

  /** Mode 1: whatever goes on stops now (a held turn is dropped, a reply cancelled, an announcement cut). */
  private endInteraction(): void {
    if (this.current === "announcing") this.stopAnnouncement();
    else if (this.current === "thinking" || this.current === "speaking") this.interrupt();
    else if (this.current === "listening" && !this.free) {
      this.disarm();
      this.effect({ type: "turn.abort" });
    }
    this.userSpeaking = false;
  }

  private startAnnouncement(id: string, cause: StateChange["cause"]): void {
    this.announcing = id;
    this.effect({ type: "announce.speak", id });
    this.go("announcing", cause);
    this.arm(this.opts.announceTimeoutMs ?? DeviceStateMachine.ANNOUNCE_TIMEOUT_MS, () => {
      this.effect({ type: "notice", level: "warn", message: "an announcement did not end in time; cutting it" });
      this.stopAnnouncement();
      this.settle("timeout");
    });
  }

  /** The announcement being spoken is cut, its queued audio dropped; the state is left to the caller. */
  private stopAnnouncement(): void {
    const id = this.announcing;
    if (id === null) return;
    this.announcing = null;
    this.disarm();
    this.effect({ type: "announce.stop", id });
    this.effect({ type: "playback.flush" });
    this.playbackIdle = true;
  }

  /** Nothing goes on any more: rest, or offline when the link went while the device spoke. */
  private settle(cause: StateChange["cause"]): void {
    if (this.linkUp) this.toRest(cause);
    else if (this.downAt === null && this.downProblem === null) this.go("connecting", cause);
    else this.go("offline", cause);
  }

  /** Mode-2 announcements go once the interaction they waited for is over (not in `error`, which is shown first). */
  private startWaiting(): void {
    if (this.waiting.length === 0 || this.interacting || this.current === "error") return;
    this.startAnnouncement(this.waiting.shift()!, "announce.request");
  }

  /** The user interrupted by voice: what waited for the interaction is dropped (seed 004, Q1). */
  private dropWaiting(reason: string): void {
    for (const id of this.waiting.splice(0)) this.effect({ type: "announce.drop", id, reason });
  }

  /** The longest an announcement may take: 200 characters read slowly, with a margin. */
  static readonly ANNOUNCE_TIMEOUT_MS = 120_000;

  private onPress(userId: string): void {
    if (this.current === "announcing") {
      // A press cuts an announcement as it cuts a reply; push-to-talk then starts the turn.
      this.stopAnnouncement();
      if (this.free) {
        this.settle("button.down");
        return;
      }
      if (this.linkUp) {
        this.startTurn(userId);
        return;
      }
      this.settle("button.down");
    }
    if (!this.linkUp && this.canHoldTurn()) {
      // A blip (Wi-Fi roaming, the server closing an idle session) moments ago: the user
      // talks now while the link comes back, the conversation holds the audio and sends
      // it when the link is ready; a failed attempt aborts the turn and says so.
      if (!this.attempting) this.effect({ type: "link.wake" });
      this.startTurn(userId);
      return;
    }
    if (!this.linkUp) {
      this.effect({ type: "link.wake" });
      const message =
        this.current === "connecting" ? "still connecting to the agent; press again in a moment" : "offline: the agent is not reachable, reconnecting now";
      this.effect({ type: "notice", level: "warn", message });
      if (this.current !== "connecting") this.go("offline", "button.down");
      return;
    }
    if (this.current === "thinking" || this.current === "speaking") {
      this.interrupt();
      if (this.free) {
        this.toRest("button.down");
        return;
      }
    } else if (this.free) {
      // Nothing to interrupt: the button mutes and unmutes the mic.
      this.muted = !this.muted;
      this.effect({ type: this.muted ? "stream.stop" : "stream.start" });
      this.toRest("button.down");
      return;
    } else if (this.current === "listening") {
      return;
    }
    this.startTurn(userId);
  }

  /** Push-to-talk presses at most this long after the link dropped are held while it comes back, not refused. */
  static readonly HOLD_WINDOW_MS = 5000;

  private canHoldTurn(): boolean {
    // Rejected credentials do not come back by themselves: say so at once.
    if (this.free || this.downAt === null || this.downProblem === "auth") return false;
    return this.opts.clock.now() - this.downAt <= DeviceStateMachine.HOLD_WINDOW_MS;
  }

  private startTurn(userId: string): void {
    this.disarm();
    this.effect({ type: "turn.begin", userId });
    this.go("listening", "button.down");
    this.arm(this.opts.maxTurnMs, () => {
      this.effect({ type: "notice", level: "warn", message: `the talk button was held for ${this.opts.maxTurnMs / 1000} s; taking it as released (is it stuck?)` });
      this.onRelease({ type: "button.up" });
    });
  }

  /**
   * Barge-in: stop what is already queued and the agent, in the same tick. The speaker
   * first: the user hears the cut, not the cancel, whose socket write would come before it.
   */
  private interrupt(): void {
    this.effect({ type: "playback.flush" });
    // A reply the server has finished sending only needs its queued audio dropped.
    if (!this.replyDone) this.effect({ type: "reply.cancel" });
    this.playbackIdle = true;
    this.disarm();
  }

  private onRelease(input: Extract<DeviceInput, { type: "button.up" }>): void {
    if (this.current !== "listening") return;
    if (input.empty) {
      this.effect({ type: "turn.abort" });
      this.effect({ type: "notice", level: "info", message: "the press was too short to hear anything: hold the button while you speak" });
      this.disarm();
      this.go("idle", input.type);
      return;
    }
    this.effect({ type: "turn.commit" });
    this.unacked = true;
    this.resendPending = false;
    this.think(input.type);
  }

  private onSpeechStarted(): void {
    if (!this.free) return;
    this.userSpeaking = true;
    if (this.current === "announcing") {
      // The user talks over an announcement: it stops, and what waited goes with it (seed 004, Q1, Q3).
      this.stopAnnouncement();
      this.dropWaiting("the user interrupted by voice");
      this.go("listening", "speech.started");
      return;
    }
    if (this.current === "thinking" || this.current === "speaking") {
      this.dropWaiting("the user interrupted the reply by voice");
      // The server heard the user over its reply and stops it itself; the device
      // must drop what it has queued at once (seed 003, free conversation, step 5).
      if (!this.replyDone) this.effect({ type: "reply.discard" });
      this.effect({ type: "playback.flush" });
      this.playbackIdle = true;
      this.disarm();
      this.go("listening", "speech.started");
    }
  }

  private think(cause: StateChange["cause"]): void {
    this.replyDone = false;
    this.go("thinking", cause);
    this.arm(this.opts.replyTimeoutMs, () => this.onReplyTimeout());
    const slowMs = this.opts.slowReplyMs ?? 0;
    if (slowMs > 0) {
      // Once per turn: think() is entered once per turn, and the wait ends with `thinking` (go).
      this.fillerTimer = this.opts.clock.setTimeout(() => {
        this.fillerTimer = undefined;
        this.serialise(() => {
          if (this.current !== "thinking") return;
          this.filling = true;
          this.effect({ type: "filler.start" });
        });
      }, slowMs);
    }
  }

  private onReplyDone(input: Extract<DeviceInput, { type: "reply.done" }>): void {
    this.replyDone = true;
    if (this.current !== "thinking" && this.current !== "speaking") return;
    if (input.status === "failed") {
      this.effect({ type: "notice", level: "error", message: `the agent's reply failed${input.message ? `: ${input.message}` : ""}` });
      this.enterError(input.type);
      return;
    }
    if (input.status === "canceled") {
      // The server stopped the reply (e.g. it heard the user): what is queued must not play on.
      this.effect({ type: "playback.flush" });
      this.playbackIdle = true;
    }
    this.disarm();
    if (this.current === "thinking" || this.playbackIdle) this.toRest(input.type);
  }

  /** A turn waiting to be sent again is given up. */
  private dropResend(): void {
    if (!this.resendPending) return;
    this.resendPending = false;
    this.unacked = false;
    this.effect({ type: "turn.abort" });
  }

  private onReplyTimeout(): void {
    this.dropResend();
    this.effect({ type: "reply.cancel" });
    this.effect({ type: "notice", level: "error", message: `no answer from the agent within ${this.opts.replyTimeoutMs} ms; try again` });
    this.enterError("timeout");
  }

  private onReplyNeverEnded(): void {
    this.effect({ type: "reply.cancel" });
    this.effect({
      type: "notice",
      level: "warn",
      message: `the agent's reply stopped without an end for ${this.opts.replyTimeoutMs} ms after its last audio; taking it as over`,
    });
    this.replyDone = true;
    this.toRest("timeout");
  }

  private onLinkDown(input: Extract<DeviceInput, { type: "link.down" }>): void {
    const wasUp = this.linkUp;
    this.linkUp = false;
    this.attempting = false;
    if (wasUp) this.downAt = this.opts.clock.now();
    this.downProblem = input.problem;
    if (!this.free && this.current === "listening" && wasUp && this.canHoldTurn()) {
      // The user is talking: a blip must not cost them the question. The turn (and its
      // stuck-button timer) goes on, the link is retried at once, and the audio goes out
      // on the new link. If that attempt fails too, the turn is aborted (below).
      this.effect({ type: "turn.hold" });
      this.effect({ type: "link.wake" });
      return;
    }
    if (!this.free && this.current === "thinking" && wasUp && this.unacked && this.canHoldTurn()) {
      // The turn ended as the link died, and the agent never said it had it (its end may have
      // gone into a dead socket): the whole turn goes again on the new link. The wait for an
      // answer goes on; if the link does not come back in it, the turn ends as any unanswered one.
      this.resendPending = true;
      this.effect({ type: "turn.resend" });
      this.effect({ type: "link.wake" });
      return;
    }
    if (this.current === "announcing") {
      // The announcement goes on (the announcer falls back to the device's own voice); the
      // device shows offline once it has ended (settle).
      this.dropResend();
      if (this.free && wasUp && !this.muted) this.effect({ type: "stream.stop" });
      return;
    }
    this.disarm();
    this.dropResend();
    if (this.free && wasUp && !this.muted) this.effect({ type: "stream.stop" });
    if (!this.free && this.current === "listening") {
      this.effect({ type: "turn.abort" });
      this.effect({ type: "notice", level: "warn", message: "the link dropped while you were talking; press again when it is back" });
    } else if (this.current === "thinking" || (this.current === "speaking" && !this.replyDone)) {
      this.effect({ type: "notice", level: "warn", message: "the link dropped before the answer was complete; press again when it is back" });
    }
    if (wasUp || this.current !== "offline") this.go("offline", input.type);
  }

  private toRest(cause: StateChange["cause"]): void {
    // Free conversation: (re)entering listening from a state without a stream starts it.
    if (this.free && !this.muted && (this.current === "connecting" || this.current === "offline")) this.effect({ type: "stream.start" });
    // What waited for the interaction to end is spoken now, without a moment of rest between.
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.startAnnouncement(next, cause);
      return;
    }
    this.go(this.rest, cause);
  }

  private enterError(cause: StateChange["cause"]): void {
    this.go("error", cause);
    this.arm(this.opts.errorHoldMs, () => (this.linkUp ? this.toRest("timeout") : this.go("offline", "timeout")));
  }

  private go(to: DeviceState, cause: StateChange["cause"]): void {
    const from = this.current;
    if (from === to) return;
    if (from === "thinking") this.endFiller();
    this.current = to;
    this.onChange({ from, to, cause });
  }

  private endFiller(): void {
    this.opts.clock.clearTimeout(this.fillerTimer);
    this.fillerTimer = undefined;
    if (!this.filling) return;
    this.filling = false;
    this.effect({ type: "filler.stop" });
  }

  private arm(ms: number, fn: () => void): void {
    this.disarm();
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.serialise(fn);
    }, ms);
  }

  private disarm(): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private effect(e: Effect): void {
    this.onEffect(e);
  }
}
