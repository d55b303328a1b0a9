/**
 * One conversation, as stages behind narrow interfaces: the uplink stream (mic frames →
 * echo gate → local turn detection → encode), the turn buffer (the turn as sent, held and
 * replayed across a reconnect), the reply player (stale-reply filter → downlink → playback,
 * heard milliseconds). What is left here is the mapping: agent events and playback events
 * → state-machine inputs, and the machine's effects → stage calls; plus the link's status
 * and the tool calls.
 */
import { EventEmitter } from "node:events";
import type { AgentBackend } from "../agent/backend";
import type { AgentEvent } from "../agent/events";
import type { CaptureSource } from "../audio/capture/source";
import type { Downlink } from "./downlink";
import type { PlaybackEngine } from "../audio/playback/engine";
import type { Uplink } from "./uplink";
import { UplinkStream } from "./uplink-stream";
import type { Logger } from "../log/logger";
import type { Clock } from "../core/clock";
import { EchoGate, type EchoMode } from "./echo-gate";
import { DeviceStateMachine, type Effect, type StateChange } from "./state-machine";
import { type ConversationMode, type DeviceState } from "../core/device-state";
import { TurnStats, type TurnTimings } from "./turn-stats";
import { ReplyPlayer } from "./reply-player";
import { LinkMonitor, type LinkStatus } from "./link-monitor";
import { TurnBuffer } from "./turn-buffer";
import { ToolBridge } from "./tool-bridge";
import type { ToolExecutor } from "../core/tool-spec";
import type { LocalTurnDetector } from "./local-turns";
import type { CapturePeriods } from "./capture-periods";
import type { DeviceActivity } from "../core/activity";

export interface ConversationOptions {
  backend: AgentBackend;
  capture: CaptureSource;
  uplink: Uplink;
  downlink: Downlink;
  playback: PlaybackEngine;
  log: Logger;
  clock: Clock;
  mode: ConversationMode;
  userId: string;
  replyTimeoutMs: number;
  maxTurnMs: number;
  /** The most reply audio kept queued ahead of the speaker (audio.reply_buffer_ms). */
  replyBufferMs: number;
  errorHoldMs?: number;
  echo: EchoMode;
  echoTailMs: number;
  /** Runs the agent's tool calls; without it every call is answered with an error. */
  tools?: ToolExecutor;
  /** Free conversation on a backend without server VAD: the device decides the turns. */
  localTurns?: LocalTurnDetector | null;
  /** The mic's period per mode, applied when a double press switches modes. */
  capturePeriods?: CapturePeriods;
}

/** What `talkbox status` and the state stream's snapshot say of the conversation. */
export interface DeviceStatus {
  State: DeviceState;
  Mode: ConversationMode;
  Link: LinkStatus;
  Playing: boolean;
  Underruns: number;
  LastTurn: TurnTimings | null;
}

export class Conversation extends EventEmitter {
  readonly machine: DeviceStateMachine;
  private readonly gate: EchoGate;
  private readonly stats: TurnStats;
  private readonly replies: ReplyPlayer;
  private readonly link: LinkMonitor;
  private readonly mic: UplinkStream;
  private readonly toolBridge: ToolBridge;
  private readonly turns: TurnBuffer;

  constructor(private readonly o: ConversationOptions) {
    super();
    this.gate = new EchoGate(o.echo, o.echoTailMs, o.clock);
    this.stats = new TurnStats(o.clock);
    this.link = new LinkMonitor({ wire: { uplink: o.uplink.wire, downlink: o.downlink.wire }, log: o.log, report: (a) => this.report(a) });
    this.toolBridge = new ToolBridge({ tools: o.tools, backend: o.backend, log: o.log });
    this.turns = new TurnBuffer({ backend: o.backend, stats: this.stats, log: o.log });
    this.mic = new UplinkStream({
      uplink: o.uplink,
      gate: this.gate,
      turns: this.turns,
      localTurns: o.localTurns ?? null,
      backend: o.backend,
      clock: o.clock,
      log: o.log,
      userId: o.userId,
      maxTurnMs: o.maxTurnMs,
      mode: () => this.machine.mode,
      linkUsable: () => this.link.usable,
      speechStarted: () => this.speechStarted(),
      speechStopped: () => this.speechStopped(),
    });
    this.replies = new ReplyPlayer({
      downlink: o.downlink,
      playback: o.playback,
      stats: this.stats,
      log: o.log,
      clock: o.clock,
      replyBufferMs: o.replyBufferMs,
      stopReply: (heardMs) => o.backend.cancelReply(heardMs),
    });
    this.machine = new DeviceStateMachine(
      { clock: o.clock, mode: o.mode, replyTimeoutMs: o.replyTimeoutMs, errorHoldMs: o.errorHoldMs ?? 3000, maxTurnMs: o.maxTurnMs },
      (e) => this.apply(e),
      (c) => this.onStateChange(c),
    );
    o.backend.subscribe((e) => this.onAgentEvent(e));
    o.capture.on("data", (chunk: Buffer) => o.uplink.push(chunk, (frame) => this.mic.frame(frame)));
    o.capture.on("error", (err: Error) => o.log.error(err.message));
    o.playback.on("started", (at: number) => {
      this.replies.playbackStarted(at);
      this.gate.playbackStarted();
      this.stats.playbackStarted(at);
    });
    o.playback.on("drained", () => {
      this.gate.playbackDrained();
      this.machine.dispatch({ type: "playback.drained" });
    });
    o.playback.on("underrun", () => {
      o.log.debug("playback underrun: reply audio arrived too late");
      this.machine.dispatch({ type: "playback.starved" });
    });
    o.playback.on("error", (err: Error) => {
      // Logged each time (the flood guard sums up repeats); the machine acts once, in a reply.
      o.log.error(err.message);
      this.machine.dispatch({ type: "playback.failed", message: err.message });
    });
  }

  get state(): DeviceState {
    return this.machine.state;
  }

  press(userId: string = this.o.userId): void {
    this.machine.dispatch({ type: "button.down", userId });
  }

  release(): void {
    const turn = this.stats.current;
    const empty = this.machine.mode === "push-to-talk" && this.mic.streaming && turn?.framesSent === 0 && this.o.uplink.pendingBytes === 0;
    this.machine.dispatch({ type: "button.up", empty });
  }

  /** Push-to-talk ⇄ free conversation (a double press); false when the agent is busy. */
  toggleMode(): boolean {
    const next = this.machine.mode === "free" ? "push-to-talk" : "free";
    const before = this.machine.state;
    if (!this.machine.setMode(next)) {
      this.o.log.info("not switching modes while the agent thinks or speaks; press to interrupt it first");
      return false;
    }
    this.o.backend.setTurnDetection(next);
    if (this.o.capturePeriods) this.o.capture.setPeriod(this.o.capturePeriods[next]);
    this.o.log.info(`switched to ${next === "free" ? "free conversation" : "push-to-talk"}`);
    // The state stream learns of the mode with the state; a switch that kept the state (offline) says it alone.
    if (this.machine.state === before) this.report({ kind: "state", state: before, from: before, cause: "mode", mode: next });
    return true;
  }

  status(): DeviceStatus {
    return {
      State: this.machine.state,
      Mode: this.machine.mode,
      Link: this.link.status,
      Playing: this.o.playback.playing,
      Underruns: this.o.playback.underruns,
      LastTurn: this.stats.latest,
    };
  }

  private onStateChange(c: StateChange): void {
    this.o.log.info({ from: c.from, to: c.to, cause: c.cause }, `state ${c.to}`);
    this.emit("state", c);
    this.report({ kind: "state", state: c.to, from: c.from, cause: c.cause, mode: this.machine.mode });
  }

  /** What the device does, for the outside (the control socket's state stream): `on("activity")`. */
  private report(a: DeviceActivity): void {
    this.emit("activity", a);
  }

  private apply(e: Effect): void {
    const { backend, log, clock } = this.o;
    switch (e.type) {
      case "turn.begin":
        this.mic.startTurn();
        this.stats.begin(e.userId);
        this.turns.begin(e.userId, this.link.usable);
        return;
      case "turn.hold":
        this.turns.hold();
        log.info("the link dropped while you were talking: holding the turn until it is back");
        return;
      case "turn.commit": {
        const releaseAt = clock.now();
        this.mic.finishTurn();
        const committed = this.turns.commit();
        if (committed === "held") {
          this.stats.speechEnded(releaseAt, clock.now(), true);
          return;
        }
        this.stats.speechEnded(releaseAt, clock.now(), committed);
        this.replies.turnCommitted();
        if (!committed) log.warn("could not end the turn: the link to the agent is down");
        return;
      }
      case "turn.resend":
        if (this.turns.resend()) log.info("the link dropped as the turn ended, before the agent had it: sending it again on the new link");
        return;
      case "turn.abort": {
        this.mic.abortTurn();
        // A held turn never reached the agent; a live one did, in part.
        const reached = this.turns.abort();
        if (reached && this.link.usable) backend.abortTurn();
        this.stats.outcome(this.stats.current?.framesSent === 0 ? "empty" : "aborted");
        return;
      }
      case "stream.start":
        this.mic.startStream();
        return;
      case "stream.stop":
        this.mic.stopStream();
        return;
      case "reply.cancel":
        // Stale first: a backend may end the reply within cancelReply.
        this.replies.interrupt();
        backend.cancelReply(this.replies.heardMs());
        this.stats.outcome("canceled", true);
        return;
      case "reply.discard":
        // A server VAD stops its own reply when it hears the user; with local turns the device must ask.
        this.replies.interrupt();
        if (this.o.localTurns && this.machine.mode === "free") backend.cancelReply(this.replies.heardMs());
        this.stats.outcome("canceled", true);
        return;
      case "playback.flush":
        this.replies.flush();
        this.gate.playbackFlushed();
        return;
      case "link.wake":
        backend.wake();
        return;
      case "notice":
        log[e.level](e.message);
        this.report({ kind: "notice", level: e.level, message: e.message });
        return;
    }
  }

  private onAgentEvent(e: AgentEvent): void {
    const { log } = this.o;
    const machine = this.machine;
    switch (e.type) {
      case "link.connecting":
        this.link.connecting();
        machine.dispatch({ type: "link.connecting" });
        return;
      case "link.ready":
        if (!this.link.ready(e.input, e.output)) return;
        machine.dispatch({ type: "link.ready" });
        this.turns.release();
        return;
      case "link.down": {
        this.link.down(e.problem, e.message, e.retryInMs);
        this.turns.linkDown();
        this.replies.linkLost();
        machine.dispatch({ type: "link.down", problem: e.problem, message: e.message });
        return;
      }
      case "input.committed":
        log.debug("the agent took the end of the turn");
        this.turns.acknowledged();
        machine.dispatch({ type: "turn.acknowledged" });
        return;
      case "input.empty":
        this.stats.outcome("empty");
        machine.dispatch({ type: "turn.empty", message: e.message });
        return;
      case "tool.call":
        void this.toolBridge.call(e.callId, e.name, e.arguments);
        return;
      case "input.speech_started":
        log.debug("the agent hears speech");
        this.speechStarted();
        return;
      case "input.speech_stopped":
        log.debug("the agent heard the end of speech");
        this.speechStopped();
        return;
      case "user.transcript":
        if (e.final) {
          log.info({ transcript: e.text }, `user: ${e.text}`);
          this.stats.transcript(e.text);
          this.report({ kind: "transcript", text: e.text });
        }
        return;
      case "reply.started":
        this.turns.acknowledged();
        if (this.replies.started(e.replyId)) machine.dispatch({ type: "reply.started" });
        return;
      case "reply.audio":
        if (this.replies.audio(e.replyId, e.audio)) machine.dispatch({ type: "reply.audio" });
        return;
      case "reply.text":
        if (e.final && this.replies.fresh(e.replyId)) {
          log.info(`agent: ${e.text}`);
          this.stats.replyText(e.text);
          this.report({ kind: "reply", text: e.text });
        }
        return;
      case "reply.done": {
        const end = this.replies.done(e.replyId, e.status);
        if (end.kind === "stale") return;
        this.stats.outcome(e.status, true);
        if (end.cutShort) {
          // Cut short by the device (the reply buffer was full): what was kept plays to its end.
          machine.dispatch({ type: "reply.done", status: end.status });
          return;
        }
        if (e.error) log.warn({ code: e.error.code }, `reply ${e.status}: ${e.error.message}${e.error.hint ? `; ${e.error.hint}` : ""}`);
        machine.dispatch(e.error ? { type: "reply.done", status: e.status, message: e.error.message } : { type: "reply.done", status: e.status });
        return;
      }
      case "agent.error": {
        const text = `${e.error.message} (${String(e.error.code)})${e.error.hint ? `; ${e.error.hint}` : ""}`;
        log.warn({ code: e.error.code }, `agent error: ${text}`);
        machine.dispatch({ type: "agent.error", message: text });
        return;
      }
      case "conversation.reset":
        machine.dispatch({ type: "conversation.reset", ok: e.ok, message: e.message });
        return;
    }
  }

  /** Speech began, as the server's VAD or the device's heard it. */
  private speechStarted(): void {
    // Dispatch first: a barge-in marks the interrupted turn before the new one starts.
    this.machine.dispatch({ type: "speech.started" });
    if (this.machine.mode === "free") this.stats.begin(this.o.userId);
  }

  private speechStopped(): void {
    this.stats.speechEnded(this.o.clock.now());
    this.machine.dispatch({ type: "speech.stopped" });
  }
}
