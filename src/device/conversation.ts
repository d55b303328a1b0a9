/**
 * One conversation, as stages behind narrow interfaces: the uplink stream (mic frames →
 * echo gate → local turn detection → encode), the turn buffer (the turn as sent, held and
 * replayed across a reconnect), the reply player (stale-reply filter → downlink → playback,
 * heard milliseconds), the link monitor and the tool bridge. Two mappings connect them to
 * the state machine: agent events → inputs (agent-listener.ts) and effects → stage calls
 * (effect-runner.ts). What is left here is building them, the playback's events, and the
 * conversation's face to the app: press, release, mode, status.
 */
import { EventEmitter } from "node:events";
import type { AgentBackend } from "../agent/backend";
import type { CaptureSource } from "../audio/capture/source";
import type { Downlink } from "./downlink";
import type { PlaybackEngine } from "../audio/playback/engine";
import type { Uplink } from "./uplink";
import { UplinkStream } from "./uplink-stream";
import type { Logger } from "../log/logger";
import type { Clock } from "../core/clock";
import { EchoGate, type EchoMode } from "./echo-gate";
import { DeviceStateMachine, type StateChange } from "./state-machine";
import { EffectRunner } from "./effect-runner";
import { AgentListener } from "./agent-listener";
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
import type { TurnRecord } from "../core/analytics";
import { Announcer, type AnnounceResult } from "./announcer";
import { SpokenAlerts, type AlertPhrases } from "./alerts";
import { AgentHealth, type AgentHealthStatus } from "./agent-health";
import { IdlePrompt } from "./idle-prompt";
import type { AnnouncementSource, AnnouncementVoice, InterruptMode, LocalVoice } from "../core/announcement";
import { SharedPlayback, type CueEnd } from "./shared-playback";
import { Earcons, type EarconSounds } from "./earcons";
import { Voices } from "./voices";
import { SlowReply } from "./slow-reply";
import { TextTurns, type TextTurnResult } from "./text-turns";

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
  /** The device's offline voice for announcements (null: none). */
  localVoice?: LocalVoice | null;
  /** Announcements in the agent's voice when it can ("agent", the default), or always the device's. */
  announceVoice?: AnnouncementVoice;
  /** Spoken alerts (offline, unreachable, credentials, quota); null or absent: none. */
  alerts?: AlertPhrases | null;
  /** Free conversation: say `text` after `ms` of the user's silence (once per silence); absent: never. */
  idlePrompt?: { ms: number; text: string } | null;
  /** Short sounds for listening start and stop, and errors (in the speaker's format); absent: none. */
  earcons?: EarconSounds;
  /** After `ms` of thinking, say `text` (once per turn, until the answer's first sound); absent: never. */
  slowReply?: { ms: number; text: string } | null;
}

/** A turn that is over, as `on("turn")` gives it: the analytics' record but for whose agent and conversation it was. */
export type FinishedTurn = Omit<TurnRecord, "agent" | "user" | "conversationId"> & { userId: string };

function finishedTurn(t: Readonly<TurnTimings>, startedAt: number): FinishedTurn {
  return {
    userId: t.userId,
    startedAt,
    endedAt: Date.now(),
    // Reached the agent and was worked on (not empty, not dropped before it was sent).
    userTurn: t.outcome === "waiting" || t.outcome === "completed" || t.outcome === "failed" || t.outcome === "canceled",
    replied: t.endOfSpeechToFirstSoundMs !== null || t.firstAudioToFirstWriteMs !== null,
    interrupted: t.interrupted,
    error: t.failed || t.outcome === "failed",
    latencyMs: t.endOfSpeechToFirstSoundMs,
  };
}

/** What `talkbox status` and the state stream's snapshot say of the conversation. */
export interface DeviceStatus {
  State: DeviceState;
  Mode: ConversationMode;
  Link: LinkStatus;
  Playing: boolean;
  Underruns: number;
  LastTurn: TurnTimings | null;
  /** Whether the agent is reachable and answering. */
  Agent: AgentHealthStatus;
  /** Whose turn the device listens to, thinks about or answers (a button's user_id, or the default). */
  User?: string;
}

export class Conversation extends EventEmitter {
  readonly machine: DeviceStateMachine;
  private readonly gate: EchoGate;
  private readonly stats: TurnStats;
  private readonly replies: ReplyPlayer;
  private readonly link: LinkMonitor;
  private readonly mic: UplinkStream;
  private readonly announcer: Announcer;
  private readonly alerts: SpokenAlerts | null;
  private readonly idlePrompt: IdlePrompt | null;
  private readonly health: AgentHealth;
  /** The speaker, shared by the voice (replies, announcements) and cues (earcons) that give way to it. */
  private readonly speaker: SharedPlayback;
  private readonly earcons: Earcons;
  private readonly texts: TextTurns;

  constructor(private readonly o: ConversationOptions) {
    super();
    this.gate = new EchoGate(o.echo, o.echoTailMs, o.clock);
    this.speaker = new SharedPlayback(o.playback, o.clock);
    this.earcons = new Earcons({ sounds: o.earcons ?? {}, speaker: this.speaker, log: o.log });
    this.stats = new TurnStats(o.clock);
    this.health = new AgentHealth((a) => this.report(a));
    this.stats.onOutcome((outcome) => {
      if (outcome === "completed") this.health.turnEnded("completed");
    });
    this.stats.onEnded((t, startedAt) => this.emit("turn", finishedTurn(t, startedAt)));
    this.link = new LinkMonitor({ wire: { uplink: o.uplink.wire, downlink: o.downlink.wire }, log: o.log, report: (a) => this.report(a) });
    const turns = new TurnBuffer({ backend: o.backend, stats: this.stats, log: o.log });
    this.mic = new UplinkStream({
      mic: o.capture,
      uplink: o.uplink,
      gate: this.gate,
      turns,
      localTurns: o.localTurns ?? null,
      serverVad: () => o.backend.capabilities.serverVad,
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
      playback: this.speaker,
      stats: this.stats,
      log: o.log,
      clock: o.clock,
      replyBufferMs: o.replyBufferMs,
      stopReply: (heardMs) => o.backend.cancelReply(heardMs),
    });
    const report = (a: DeviceActivity): void => this.report(a);
    const stages = { turns, stats: this.stats, replies: this.replies, link: this.link, log: o.log, report };
    const voices = new Voices({ backend: o.backend, localVoice: o.localVoice ?? null, device: o.playback.format, log: o.log });
    const slow = o.slowReply;
    const slowReply = slow
      ? new SlowReply({
          text: slow.text,
          voices,
          // The agent's voice only where it can speak while its answer is being made (its own connection).
          agentVoiceUsable: () => (o.announceVoice ?? "agent") === "agent" && o.backend.capabilities.speaksBesideReplies === true && this.link.usable,
          speaker: this.speaker,
          log: o.log,
          report,
        })
      : null;
    const prompt = o.idlePrompt;
    this.idlePrompt = prompt ? new IdlePrompt({ ms: prompt.ms, clock: o.clock, say: () => this.announcer.request(prompt.text, 3, "idle-prompt") }) : null;
    this.alerts = o.alerts ? new SpokenAlerts({ phrases: o.alerts, say: (text, mode, source) => this.announcer.request(text, mode, source) }) : null;
    this.announcer = new Announcer({
      backend: o.backend,
      playback: this.speaker,
      voices,
      prefer: o.announceVoice ?? "agent",
      linkUsable: () => this.link.usable,
      clock: o.clock,
      log: o.log,
      dispatch: (input) => this.machine.dispatch(input),
      report,
    });
    this.texts = new TextTurns({ backend: o.backend, replies: this.replies, stats: this.stats, log: o.log, dispatch: (input) => this.machine.dispatch(input) });
    const effects = new EffectRunner({
      ...stages,
      announcer: this.announcer,
      slowReply,
      texts: this.texts,
      mic: this.mic,
      gate: this.gate,
      backend: o.backend,
      clock: o.clock,
      decidesTurns: () => Boolean(o.localTurns) && !o.backend.capabilities.serverVad && this.machine.mode === "free",
    });
    this.machine = new DeviceStateMachine(
      {
        clock: o.clock,
        mode: o.mode,
        replyTimeoutMs: o.replyTimeoutMs,
        errorHoldMs: o.errorHoldMs ?? 3000,
        maxTurnMs: o.maxTurnMs,
        slowReplyMs: slow?.ms ?? 0,
      },
      (e) => effects.run(e),
      (c) => this.onStateChange(c),
    );
    const agent = new AgentListener({
      ...stages,
      tools: new ToolBridge({ tools: o.tools, backend: o.backend, log: o.log }),
      dispatch: (input) => this.machine.dispatch(input),
      speechStarted: () => this.speechStarted(),
      speechStopped: () => this.speechStopped(),
    });
    o.backend.subscribe((e) => agent.handle(e));
    o.capture.on("data", (chunk: Buffer) => o.uplink.push(chunk, (frame) => this.mic.frame(frame)));
    o.capture.on("error", (err: Error) => o.log.error(err.message));
    this.speaker.on("started", (at: number) => {
      this.replies.playbackStarted(at);
      this.gate.playbackStarted();
      this.stats.playbackStarted(at);
    });
    this.speaker.on("drained", () => {
      this.gate.playbackDrained();
      this.machine.dispatch({ type: "playback.drained" });
    });
    // The agent must not hear a cue either (free conversation); one cut for the voice leaves the gate to the voice.
    this.speaker.on("cue.started", () => this.gate.playbackStarted());
    this.speaker.on("cue.ended", (how: CueEnd) => {
      if (how !== "yielded") this.gate.playbackDrained();
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

  get mode(): ConversationMode {
    return this.machine.mode;
  }

  press(userId: string = this.o.userId): void {
    this.machine.dispatch({ type: "button.down", userId });
  }

  release(): void {
    const turn = this.stats.current;
    const empty = this.machine.mode === "push-to-talk" && this.mic.streaming && turn?.framesSent === 0 && this.o.uplink.pendingBytes === 0;
    this.machine.dispatch({ type: "button.up", empty });
  }

  /** Speak `text` on the device's own initiative (seed 004): spoken now, queued or dropped, as `mode` and the state decide. */
  announce(text: string, mode: InterruptMode, source: AnnouncementSource = "command"): AnnounceResult {
    return this.announcer.request(text, mode, source);
  }

  /** A typed question (no speech recognition), answered by voice; refused while the user holds the button or offline. */
  text(message: string, userId: string = this.o.userId): TextTurnResult {
    return this.texts.request(message, userId);
  }

  /**
   * Starts a new conversation with the agent (a long press, `talkbox new-conversation`): the next
   * turn no longer continues the saved one. `userId`: only that user's (default: every user's
   * the backend keeps apart: the device user's on Coze, the one shared conversation elsewhere).
   */
  newConversation(userId?: string): void {
    this.o.log.info(userId === undefined ? "starting a new conversation" : `starting a new conversation for ${userId}`);
    this.o.backend.resetConversation(userId);
    this.emit("new-conversation", userId);
  }

  /** The turn in progress is over as far as the analytics go (the daemon stops). */
  endTurn(): void {
    this.stats.end();
  }

  /**
   * Another agent takes over (an agent profile switch): whatever goes on ends, as for a mode-1
   * announcement, and the device shows `connecting` until the new agent's link is up.
   */
  agentChanging(): void {
    this.machine.dispatch({ type: "agent.switch" });
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
      Agent: this.health.status,
      ...(this.interactingUser() !== undefined ? { User: this.interactingUser() } : {}),
    };
  }

  private interactingUser(): string | undefined {
    const s = this.machine.state;
    return s === "listening" || s === "thinking" || s === "speaking" ? this.stats.current?.userId : undefined;
  }

  private onStateChange(c: StateChange): void {
    this.o.log.info({ from: c.from, to: c.to, cause: c.cause }, `state ${c.to}`);
    this.emit("state", c);
    // The answer failed: an error from the agent, or none in time.
    if (c.to === "error") {
      this.health.turnEnded("failed", c.cause === "timeout" ? "no answer in time" : c.cause);
      this.stats.failed();
    }
    // Back at rest: the turn is over (the analytics record it).
    if (this.machine.resting) this.stats.end();
    this.earcons.stateChanged(c.from, c.to, c.cause);
    const user = this.interactingUser();
    this.report({ kind: "state", state: c.to, from: c.from, cause: c.cause, mode: this.machine.mode, ...(user !== undefined ? { user } : {}) });
  }

  /** What the device does, for the outside (the control socket's state stream): `on("activity")`. */
  private report(a: DeviceActivity): void {
    this.alerts?.onActivity(a);
    if (a.kind === "state") this.idlePrompt?.state(a.state, a.mode);
    this.emit("activity", a);
    // After the link's own frame: the agent's health follows it.
    if (a.kind === "link" && a.state === "ready") this.health.linkUp();
    if (a.kind === "link" && a.state === "down") this.health.linkDown(a.problem ?? "network", a.message ?? "");
  }

  /** Speech began, as the server's VAD or the device's heard it. */
  private speechStarted(): void {
    // Dispatch first: a barge-in marks the interrupted turn before the new one starts.
    this.machine.dispatch({ type: "speech.started" });
    this.idlePrompt?.speech();
    if (this.machine.mode === "free") this.stats.begin(this.o.userId);
  }

  private speechStopped(): void {
    this.stats.speechEnded(this.o.clock.now());
    this.machine.dispatch({ type: "speech.stopped" });
    this.idlePrompt?.quiet();
  }
}
