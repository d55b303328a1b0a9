/**
 * Wires one conversation: mic → uplink (frames, codec) → backend; backend events
 * → state machine; reply audio → downlink (codec, rate) → playback engine.
 * Carries out the state machine's effects and keeps the turn timings.
 */
import { EventEmitter } from "node:events";
import type { AgentBackend } from "../agent/backend";
import type { AgentEvent } from "../agent/events";
import type { AudioFormat } from "../core/media";
import type { CaptureSource } from "../audio/capture/source";
import type { Downlink } from "./downlink";
import { msFor } from "../core/pcm";
import type { PlaybackEngine } from "../audio/playback/engine";
import type { Uplink, UplinkFrame } from "./uplink";
import type { Logger } from "../log/logger";
import type { Clock } from "../core/clock";
import { EchoGate, type EchoMode } from "./echo-gate";
import { DeviceStateMachine, type Effect, type StateChange } from "./state-machine";
import { type ConversationMode, type DeviceState } from "../core/device-state";
import { TurnStats, type TurnTimings } from "./turn-stats";
import type { ToolExecutor } from "../core/tool-spec";
import type { LocalTurnDetector } from "./local-turns";
import type { ClockTimer } from "../core/clock";
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

export interface LinkStatus {
  state: "connecting" | "ready" | "down";
  since: string;
  problem?: string;
  message?: string;
  retryInMs?: number | null;
  input?: AudioFormat;
  output?: AudioFormat;
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
  /** Push-to-talk: a turn is streaming. Free conversation: the mic streams. */
  private streaming = false;
  private usable = false;
  private currentReply: string | null = null;
  /** Replies cancelled by barge-in: their late audio must not play. */
  private readonly stale = new Set<string>();
  private staleUnstarted = false;
  private link: LinkStatus = { state: "connecting", since: new Date().toISOString() };
  /** Free conversation with local turns: ends a turn that outlasts max_turn_ms. */
  private localTurnTimer: ClockTimer | undefined;
  /** A push-to-talk turn begun while the link was coming back: its audio waits for link.ready. */
  private held: { userId: string; payloads: Buffer[]; committed: boolean } | null = null;
  /** The current push-to-talk turn as sent, to send again on a new link if this one drops mid-turn. */
  private turn: { userId: string; payloads: Buffer[] } | null = null;
  /** The last committed turn, until the agent says it has it: a link that dies first takes it to its grave (turn.resend). */
  private lastCommitted: { userId: string; payloads: Buffer[] } | null = null;
  /** The reply cut short because it outran the reply buffer: the rest of its audio is dropped. */
  private truncated: string | null = null;
  /** The current reply as heard: when its first sample came out, and how much audio it has. */
  private heard = { startedAt: null as number | null, ms: 0 };

  constructor(private readonly o: ConversationOptions) {
    super();
    this.gate = new EchoGate(o.echo, o.echoTailMs, o.clock);
    this.stats = new TurnStats(o.clock);
    this.machine = new DeviceStateMachine(
      { clock: o.clock, mode: o.mode, replyTimeoutMs: o.replyTimeoutMs, errorHoldMs: o.errorHoldMs ?? 3000, maxTurnMs: o.maxTurnMs },
      (e) => this.apply(e),
      (c) => this.onStateChange(c),
    );
    o.backend.subscribe((e) => this.onAgentEvent(e));
    o.capture.on("data", (chunk: Buffer) => o.uplink.push(chunk, (frame) => this.onFrame(frame)));
    o.capture.on("error", (err: Error) => o.log.error(err.message));
    o.playback.on("started", (at: number) => {
      this.heard.startedAt ??= at;
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
    const empty = this.machine.mode === "push-to-talk" && this.streaming && turn?.framesSent === 0 && this.o.uplink.pendingBytes === 0;
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
      Link: this.link,
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

  private onFrame(frame: UplinkFrame): void {
    if (!this.streaming || !(this.usable || this.held)) return;
    // The echo gate sends silence, not nothing: the server's VAD keeps its timing. In
    // push-to-talk it does not apply: pressing the button is the user saying "I am talking".
    const gated = this.machine.mode === "free" && this.gate.closed;
    if (this.machine.mode === "free" && this.o.localTurns) {
      this.onLocalFrame(this.o.localTurns, frame, gated);
      return;
    }
    this.send(gated ? this.o.uplink.silence() : this.o.uplink.encode(frame));
  }

  /**
   * Free conversation without server VAD: only the user's turns go out, and the device
   * ends them. The facts take the same path as the server VAD's events.
   */
  private onLocalFrame(turns: LocalTurnDetector, frame: UplinkFrame, gated: boolean): void {
    const { backend, uplink, log, clock } = this.o;
    for (const ev of turns.push(frame, gated)) {
      switch (ev.type) {
        case "speech.started":
          this.onAgentEvent({ type: "input.speech_started" });
          backend.beginTurn({ userId: this.o.userId });
          for (const pcm of ev.prefix) this.send(uplink.encode(pcm));
          this.localTurnTimer = clock.setTimeout(() => {
            log.warn(`speech went on for ${this.o.maxTurnMs / 1000} s: ending the turn there (conversation.max_turn_ms)`);
            this.endLocalTurn();
            turns.reset();
          }, this.o.maxTurnMs);
          break;
        case "speech.audio":
          this.send(uplink.encode(ev.pcm));
          break;
        case "speech.stopped":
          this.endLocalTurn();
          break;
      }
    }
  }

  private endLocalTurn(): void {
    this.o.clock.clearTimeout(this.localTurnTimer);
    this.localTurnTimer = undefined;
    const tail = this.o.uplink.takePartial();
    if (tail) this.send(tail);
    this.onAgentEvent({ type: "input.speech_stopped" });
    if (!this.o.backend.commitTurn()) this.o.log.warn("could not end the turn: the link to the agent is down");
  }

  /** Local turn detection starts afresh: a half-heard turn is dropped, not committed. */
  private resetLocalTurns(): void {
    this.o.clock.clearTimeout(this.localTurnTimer);
    this.localTurnTimer = undefined;
    this.o.localTurns?.reset();
  }

  private send(payload: Buffer): void {
    if (this.held) this.held.payloads.push(payload);
    else {
      this.turn?.payloads.push(payload);
      if (this.o.backend.appendAudio(payload)) this.stats.sent(payload.length);
    }
  }

  /** The link is back: the held turn goes out as if it had been live. */
  private releaseHeld(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    const { backend, log } = this.o;
    backend.beginTurn({ userId: held.userId });
    for (const p of held.payloads) this.send(p);
    if (held.committed && !backend.commitTurn()) log.warn("could not end the turn: the link to the agent is down");
    log.info({ frames: held.payloads.length, committed: held.committed }, "the link is back: sent the turn held during the reconnect");
  }

  private apply(e: Effect): void {
    const { backend, playback, uplink, log, clock } = this.o;
    switch (e.type) {
      case "turn.begin":
        // What the framer holds was said before the press.
        uplink.discardPartial();
        this.streaming = true;
        this.stats.begin(e.userId);
        this.turn = { userId: e.userId, payloads: [] };
        this.lastCommitted = null;
        if (this.usable) backend.beginTurn({ userId: e.userId });
        else this.held = { userId: e.userId, payloads: [], committed: false };
        return;
      case "turn.hold":
        // Everything said so far goes again on the next link: the old one took it to its grave.
        if (this.turn) this.held = { userId: this.turn.userId, payloads: this.turn.payloads, committed: false };
        this.turn = null;
        log.info("the link dropped while you were talking: holding the turn until it is back");
        return;
      case "turn.commit": {
        const releaseAt = clock.now();
        this.streaming = false;
        // The last, incomplete frame goes too (short, or padded for Opus): nothing said is dropped.
        const tail = uplink.takePartial();
        if (tail) this.send(tail);
        this.lastCommitted = this.turn;
        this.turn = null;
        if (this.held) {
          this.held.committed = true;
          this.stats.speechEnded(releaseAt, clock.now(), true);
          return;
        }
        const committed = backend.commitTurn();
        this.stats.speechEnded(releaseAt, clock.now(), committed);
        this.staleUnstarted = false;
        if (!committed) log.warn("could not end the turn: the link to the agent is down");
        return;
      }
      case "turn.resend": {
        const t = this.lastCommitted;
        this.lastCommitted = null;
        if (!t) return;
        this.held = { userId: t.userId, payloads: t.payloads, committed: true };
        log.info("the link dropped as the turn ended, before the agent had it: sending it again on the new link");
        return;
      }
      case "turn.abort":
        this.streaming = false;
        // A held turn never reached the agent; a live one did, in part.
        if (!this.held && this.usable) backend.abortTurn();
        this.held = null;
        this.turn = null;
        this.stats.outcome(this.stats.current?.framesSent === 0 ? "empty" : "aborted");
        return;
      case "stream.start":
        uplink.discardPartial();
        this.resetLocalTurns();
        this.streaming = true;
        return;
      case "stream.stop":
        this.streaming = false;
        this.resetLocalTurns();
        return;
      case "reply.cancel":
        this.markStale();
        backend.cancelReply(this.heardMs());
        this.stats.outcome("canceled", true);
        return;
      case "reply.discard":
        this.markStale();
        // A server VAD stops its own reply when it hears the user; with local turns the device must ask.
        if (this.o.localTurns && this.machine.mode === "free") backend.cancelReply(this.heardMs());
        this.stats.outcome("canceled", true);
        return;
      case "playback.flush":
        playback.flush();
        this.o.downlink.endOfReply();
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

  private markStale(): void {
    if (this.currentReply) this.stale.add(this.currentReply);
    else this.staleUnstarted = true;
    this.currentReply = null;
  }

  private onAgentEvent(e: AgentEvent): void {
    const { log } = this.o;
    const machine = this.machine;
    switch (e.type) {
      case "link.connecting":
        if (this.link.state !== "down") this.setLink({ state: "connecting" });
        machine.dispatch({ type: "link.connecting" });
        return;
      case "link.ready":
        this.onLinkReady(e.input, e.output);
        return;
      case "link.down": {
        const retry = e.retryInMs === null ? "not retrying" : `retrying in ${(e.retryInMs / 1000).toFixed(1)} s`;
        log.warn({ problem: e.problem }, `agent link down: ${e.message}; ${retry}`);
        this.usable = false;
        // A held turn still being spoken is the state machine's to keep or abort (turn.abort);
        // one already released waits in `thinking`, which a failed reconnect ends: drop it.
        if (this.held?.committed) this.held = null;
        this.setLink({ state: "down", problem: e.problem, message: e.message, retryInMs: e.retryInMs });
        this.currentReply = null;
        machine.dispatch({ type: "link.down", problem: e.problem, message: e.message });
        return;
      }
      case "input.committed":
        log.debug("the agent took the end of the turn");
        this.lastCommitted = null;
        machine.dispatch({ type: "turn.acknowledged" });
        return;
      case "input.empty":
        this.stats.outcome("empty");
        machine.dispatch({ type: "turn.empty", message: e.message });
        return;
      case "tool.call":
        void this.runTool(e.callId, e.name, e.arguments);
        return;
      case "input.speech_started":
        log.debug("the agent hears speech");
        // Dispatch first: a barge-in marks the interrupted turn before the new one starts.
        machine.dispatch({ type: "speech.started" });
        if (this.machine.mode === "free") this.stats.begin(this.o.userId);
        return;
      case "input.speech_stopped":
        log.debug("the agent heard the end of speech");
        this.stats.speechEnded(this.o.clock.now());
        machine.dispatch({ type: "speech.stopped" });
        return;
      case "user.transcript":
        if (e.final) {
          log.info({ transcript: e.text }, `user: ${e.text}`);
          this.stats.transcript(e.text);
          this.report({ kind: "transcript", text: e.text });
        }
        return;
      case "reply.started":
        this.lastCommitted = null;
        if (this.staleUnstarted) {
          this.staleUnstarted = false;
          this.stale.add(e.replyId);
          return;
        }
        this.currentReply = e.replyId;
        this.heard = { startedAt: null, ms: 0 };
        machine.dispatch({ type: "reply.started" });
        return;
      case "reply.audio":
        this.onReplyAudio(e.replyId, e.audio);
        return;
      case "reply.text":
        if (e.final && !this.stale.has(e.replyId)) {
          log.info(`agent: ${e.text}`);
          this.stats.replyText(e.text);
          this.report({ kind: "reply", text: e.text });
        }
        return;
      case "reply.done":
        if (this.stale.delete(e.replyId)) return;
        if (e.replyId === this.currentReply || e.replyId === "") this.currentReply = null;
        this.stats.outcome(e.status, true);
        this.o.downlink.endOfReply();
        if (e.status !== "canceled" || this.truncated === e.replyId) this.o.playback.endOfReply();
        if (this.truncated === e.replyId) {
          // Cut short by the device (the reply buffer was full): what was kept plays to its end.
          this.truncated = null;
          machine.dispatch({ type: "reply.done", status: "completed" });
          return;
        }
        if (e.error) log.warn({ code: e.error.code }, `reply ${e.status}: ${e.error.message}${e.error.hint ? `; ${e.error.hint}` : ""}`);
        machine.dispatch(e.error ? { type: "reply.done", status: e.status, message: e.error.message } : { type: "reply.done", status: e.status });
        return;
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

  private onLinkReady(input: AudioFormat, output: AudioFormat): void {
    const { uplink, downlink, log } = this.o;
    const mismatch = [
      sameFormat(input, uplink.wire) ? null : `uplink ${describe(input)} instead of ${describe(uplink.wire)}`,
      sameFormat(output, downlink.wire) ? null : `downlink ${describe(output)} instead of ${describe(downlink.wire)}`,
    ].filter(Boolean);
    if (mismatch.length > 0) {
      const message = `the agent set ${mismatch.join(" and ")}; set audio.uplink_codec/uplink_rate and audio.downlink_codec/downlink_rate to what it accepts`;
      log.error(message);
      this.setLink({ state: "down", problem: "protocol", message });
      return;
    }
    this.usable = true;
    this.setLink({ state: "ready", input, output });
    log.info({ input: describe(input), output: describe(output) }, "agent link ready");
    this.machine.dispatch({ type: "link.ready" });
    this.releaseHeld();
  }

  private onReplyAudio(replyId: string, audio: Buffer): void {
    if (this.stale.has(replyId) || replyId !== this.currentReply || this.truncated === replyId) {
      this.stats.dropped(audio.length);
      return;
    }
    this.stats.firstAudio();
    let pcm: Buffer;
    try {
      pcm = this.o.downlink.decode(audio);
    } catch (err) {
      this.o.log.warn(`dropped reply audio that does not decode as ${describe(this.o.downlink.wire)}: ${(err as Error).message}`);
      return;
    }
    pcm = this.withinReplyBuffer(replyId, pcm);
    this.stats.replyAudio(pcm.length);
    this.heard.ms += msFor(this.o.playback.format, pcm.length);
    this.o.playback.write(pcm);
    this.machine.dispatch({ type: "reply.audio" });
  }

  /**
   * A server that sends audio much faster than it plays (a whole reply at once) gets
   * audio.reply_buffer_ms queued ahead of the speaker and no more: the rest is
   * dropped with one warning and the reply is stopped on the server, so memory stays
   * bounded whatever it sends. What was kept plays to its end.
   */
  private withinReplyBuffer(replyId: string, pcm: Buffer): Buffer {
    const { playback, log, backend, replyBufferMs } = this.o;
    const roomMs = replyBufferMs - playback.queuedMs;
    const ms = msFor(playback.format, pcm.length);
    if (ms <= roomMs) return pcm;
    const keep = Math.max(0, Math.floor((pcm.length * Math.max(0, roomMs)) / ms));
    this.truncated = replyId;
    log.warn(
      `the agent sent its reply faster than it plays: more than ${replyBufferMs / 1000} s ahead of the speaker (audio.reply_buffer_ms); playing that much and stopping the reply`,
    );
    backend.cancelReply(this.heardMs());
    return pcm.subarray(0, keep);
  }

  /**
   * How much of the current reply came out of the speaker: the time since its first
   * sample played, bounded by the audio it had (what is still queued was not heard).
   */
  private heardMs(): number {
    if (this.heard.startedAt === null) return 0;
    return Math.max(0, Math.min(Math.round(this.o.clock.now() - this.heard.startedAt), Math.floor(this.heard.ms)));
  }

  private async runTool(callId: string, name: string, args: string): Promise<void> {
    const { tools, backend, log } = this.o;
    const output = tools ? await tools.run(name, args) : JSON.stringify({ error: "this device has its tools turned off (tools.enabled: false)" });
    if (!backend.submitToolOutputs([{ callId, output }])) log.warn(`could not send the result of tool ${name} to the agent: the link is down`);
  }

  private setLink(l: Omit<LinkStatus, "since">): void {
    this.link = { ...l, since: new Date().toISOString() };
    const { state, problem, message, retryInMs } = l;
    this.report({ kind: "link", state, ...(problem ? { problem } : {}), ...(message ? { message } : {}), ...(retryInMs !== undefined ? { retryInMs } : {}) });
  }
}

function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.codec === b.codec && a.sampleRate === b.sampleRate;
}

function describe(f: AudioFormat): string {
  return `${f.codec}/${f.sampleRate}`;
}
