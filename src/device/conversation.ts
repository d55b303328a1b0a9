/**
 * Wires one conversation: mic frames → uplink codec → backend; backend events →
 * state machine; reply audio → downlink codec → player. Carries out the state
 * machine's effects and keeps the timings that `talkbox status` reports.
 */
import { EventEmitter } from "node:events";
import type { AgentBackend } from "../agent/backend";
import type { AgentEvent, AudioFormat } from "../agent/events";
import type { CaptureSource } from "../audio/capture/source";
import { Framer } from "../audio/framer";
import { bytesFor } from "../audio/pcm";
import type { Player } from "../audio/playback/player";
import { createDecoder, createEncoder, type Decoder, type Encoder } from "../codec/registry";
import type { Logger } from "../log/logger";
import type { Clock } from "./clock";
import { DeviceStateMachine, type DeviceState, type Effect, type StateChange } from "./state-machine";

export interface ConversationOptions {
  backend: AgentBackend;
  capture: CaptureSource;
  player: Player;
  log: Logger;
  clock: Clock;
  userId: string;
  frameMs: number;
  replyTimeoutMs: number;
  maxTurnMs: number;
  errorHoldMs?: number;
}

/** Milliseconds (clock time) of one turn's milestones; null where not reached. */
export interface TurnTimings {
  userId: string;
  pressedAt: string;
  heldMs: number | null;
  framesSent: number;
  bytesSent: number;
  releaseToCommitMs: number | null;
  releaseToFirstAudioMs: number | null;
  firstAudioToFirstWriteMs: number | null;
  replyAudioBytes: number;
  droppedStaleAudioBytes: number;
  outcome: "listening" | "waiting" | "completed" | "failed" | "canceled" | "aborted" | "empty";
  transcript: string | null;
  replyText: string | null;
}

interface TurnClock {
  pressAt: number;
  releaseAt: number | null;
  firstAudioAt: number | null;
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

export class Conversation extends EventEmitter {
  readonly machine: DeviceStateMachine;
  private readonly framer: Framer;
  private uplinkOpen = false;
  private encoder: Encoder | null = null;
  private decoder: Decoder | null = null;
  private currentReply: string | null = null;
  /** Replies cancelled by barge-in: their late audio must not play. */
  private readonly stale = new Set<string>();
  private staleUnstarted = false;
  private turn: TurnTimings | null = null;
  private turnClock: TurnClock | null = null;
  private lastTurn: TurnTimings | null = null;
  private link: LinkStatus = { state: "connecting", since: new Date().toISOString() };

  constructor(private readonly o: ConversationOptions) {
    super();
    this.framer = new Framer(bytesFor(o.capture.format, o.frameMs));
    this.machine = new DeviceStateMachine(
      { clock: o.clock, replyTimeoutMs: o.replyTimeoutMs, errorHoldMs: o.errorHoldMs ?? 3000, maxTurnMs: o.maxTurnMs },
      (e) => this.apply(e),
      (c) => this.onStateChange(c),
    );
    o.backend.subscribe((e) => this.onAgentEvent(e));
    o.capture.on("data", (chunk: Buffer) => this.framer.push(chunk, (frame) => this.onFrame(frame)));
    o.capture.on("error", (err: Error) => o.log.error(err.message));
    o.player.on("started", (at: number) => this.onPlaybackStarted(at));
    o.player.on("drained", () => this.machine.dispatch({ type: "playback.drained" }));
  }

  get state(): DeviceState {
    return this.machine.state;
  }

  press(userId: string = this.o.userId): void {
    this.machine.dispatch({ type: "button.down", userId });
  }

  release(): void {
    const empty = this.uplinkOpen && this.turn?.framesSent === 0 && this.framer.pending === 0;
    this.machine.dispatch({ type: "button.up", empty });
  }

  status(): Record<string, unknown> {
    return {
      State: this.machine.state,
      Link: this.link,
      Playing: this.o.player.playing,
      LastTurn: this.turn ?? this.lastTurn,
    };
  }

  private onStateChange(c: StateChange): void {
    this.o.log.info({ from: c.from, to: c.to, cause: c.cause }, `state ${c.to}`);
    this.emit("state", c);
  }

  private onFrame(frame: Buffer): void {
    if (!this.uplinkOpen || !this.encoder) return;
    this.sendFrame(frame);
  }

  private sendFrame(pcm: Buffer): void {
    const payload = this.encoder!.encode(pcm);
    if (!this.o.backend.appendAudio(payload) || !this.turn) return;
    this.turn.framesSent++;
    this.turn.bytesSent += payload.length;
  }

  private apply(e: Effect): void {
    const { backend, player, log, clock } = this.o;
    switch (e.type) {
      case "turn.begin": {
        this.finishTurn();
        // What the framer holds was said before the press.
        this.framer.takePartial();
        this.uplinkOpen = true;
        this.turnClock = { pressAt: clock.now(), releaseAt: null, firstAudioAt: null };
        this.turn = {
          userId: e.userId,
          pressedAt: new Date().toISOString(),
          heldMs: null,
          framesSent: 0,
          bytesSent: 0,
          releaseToCommitMs: null,
          releaseToFirstAudioMs: null,
          firstAudioToFirstWriteMs: null,
          replyAudioBytes: 0,
          droppedStaleAudioBytes: 0,
          outcome: "listening",
          transcript: null,
          replyText: null,
        };
        backend.beginTurn({ userId: e.userId });
        return;
      }
      case "turn.commit": {
        const releaseAt = clock.now();
        this.uplinkOpen = false;
        // PCM may end on a short frame; no audio is dropped at the end of a turn.
        const tail = this.framer.takePartial();
        if (tail.length > 0 && this.encoder?.acceptsPartialFrames) this.sendFrame(tail);
        const committed = backend.commitTurn();
        const sentAt = clock.now();
        this.staleUnstarted = false;
        if (this.turn && this.turnClock) {
          this.turnClock.releaseAt = releaseAt;
          this.turn.heldMs = round(releaseAt - this.turnClock.pressAt);
          this.turn.releaseToCommitMs = round(sentAt - releaseAt, 3);
          this.turn.outcome = committed ? "waiting" : "aborted";
        }
        if (!committed) log.warn("could not end the turn: the link to the agent is down");
        return;
      }
      case "turn.abort":
        this.uplinkOpen = false;
        if (this.turn) this.turn.outcome = this.turn.framesSent === 0 ? "empty" : "aborted";
        return;
      case "reply.cancel":
        if (this.currentReply) this.stale.add(this.currentReply);
        else this.staleUnstarted = true;
        this.currentReply = null;
        backend.cancelReply();
        if (this.turn && this.turn.outcome === "waiting") this.turn.outcome = "canceled";
        return;
      case "playback.flush":
        player.flush();
        return;
      case "link.wake":
        backend.wake();
        return;
      case "notice":
        log[e.level](e.message);
        return;
    }
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
        this.setLink({ state: "down", problem: e.problem, message: e.message, retryInMs: e.retryInMs });
        this.currentReply = null;
        machine.dispatch({ type: "link.down", problem: e.problem, message: e.message });
        return;
      }
      case "input.committed":
      case "input.speech_started":
      case "input.speech_stopped":
        log.debug({ event: e.type }, "agent input event");
        return;
      case "user.transcript":
        if (e.final) {
          log.info({ transcript: e.text }, `user: ${e.text}`);
          if (this.turn) this.turn.transcript = e.text;
        }
        return;
      case "reply.started":
        if (this.staleUnstarted) {
          this.staleUnstarted = false;
          this.stale.add(e.replyId);
          return;
        }
        this.currentReply = e.replyId;
        machine.dispatch({ type: "reply.started" });
        return;
      case "reply.audio":
        this.onReplyAudio(e.replyId, e.audio);
        return;
      case "reply.text":
        if (e.final && !this.stale.has(e.replyId)) {
          log.info(`agent: ${e.text}`);
          if (this.turn) this.turn.replyText = e.text;
        }
        return;
      case "reply.done":
        if (this.stale.delete(e.replyId)) return;
        if (e.replyId === this.currentReply || e.replyId === "") this.currentReply = null;
        if (this.turn && (this.turn.outcome === "waiting" || this.turn.outcome === "listening")) this.turn.outcome = e.status;
        if (e.error) log.warn({ code: e.error.code }, `reply ${e.status}: ${e.error.message}${e.error.hint ? `; ${e.error.hint}` : ""}`);
        machine.dispatch(e.error ? { type: "reply.done", status: e.status, message: e.error.message } : { type: "reply.done", status: e.status });
        return;
      case "agent.error":
        log.warn({ code: e.error.code }, `agent error: ${e.error.message}${e.error.hint ? `; ${e.error.hint}` : ""}`);
        return;
    }
  }

  private onLinkReady(input: AudioFormat, output: AudioFormat): void {
    const { capture, player, log } = this.o;
    try {
      this.encoder = createEncoder(input, capture.format);
      this.decoder = createDecoder(output, player.format);
    } catch (err) {
      log.error(`the agent's audio formats cannot be used: ${(err as Error).message}`);
      this.setLink({ state: "down", problem: "protocol", message: (err as Error).message });
      return;
    }
    this.setLink({ state: "ready", input, output });
    log.info({ input: `${input.codec}/${input.sampleRate}`, output: `${output.codec}/${output.sampleRate}` }, "agent link ready");
    this.machine.dispatch({ type: "link.ready" });
  }

  private onReplyAudio(replyId: string, audio: Buffer): void {
    if (this.stale.has(replyId) || replyId !== this.currentReply || !this.decoder) {
      if (this.turn) this.turn.droppedStaleAudioBytes += audio.length;
      return;
    }
    if (this.turn && this.turnClock && this.turnClock.firstAudioAt === null) {
      const now = this.o.clock.now();
      this.turnClock.firstAudioAt = now;
      if (this.turnClock.releaseAt !== null) this.turn.releaseToFirstAudioMs = round(now - this.turnClock.releaseAt);
    }
    const pcm = this.decoder.decode(audio);
    if (this.turn) this.turn.replyAudioBytes += pcm.length;
    this.o.player.write(pcm);
    this.machine.dispatch({ type: "reply.audio" });
  }

  private onPlaybackStarted(at: number): void {
    if (!this.turn || !this.turnClock || this.turnClock.firstAudioAt === null || this.turn.firstAudioToFirstWriteMs !== null) return;
    this.turn.firstAudioToFirstWriteMs = round(at - this.turnClock.firstAudioAt, 3);
  }

  private finishTurn(): void {
    if (this.turn) this.lastTurn = this.turn;
    this.turn = null;
    this.turnClock = null;
  }

  private setLink(l: Omit<LinkStatus, "since">): void {
    this.link = { ...l, since: new Date().toISOString() };
  }
}

function round(ms: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(ms * f) / f;
}
