/**
 * The uplink stage: mic frames → echo gate → local turn detection → encode → the turn
 * buffer. In push-to-talk a turn streams between press and release; in free conversation
 * the mic streams while the link is up, the echo gate sends silence while the speaker plays,
 * and on a backend without server VAD the device's own VAD decides where turns begin and end.
 * What it hears goes to the conversation as speech started / stopped, never as a fake agent event.
 */
import type { AgentBackend } from "../agent/backend";
import type { CaptureSource } from "../audio/capture/source";
import type { Clock, ClockTimer } from "../core/clock";
import type { ConversationMode } from "../core/device-state";
import type { Logger } from "../log/logger";
import type { EchoGate } from "./echo-gate";
import type { LocalTurnDetector } from "./local-turns";
import type { TurnBuffer } from "./turn-buffer";
import type { Uplink, UplinkFrame } from "./uplink";

export interface UplinkStreamOptions {
  /** The mic: told when its audio is needed (a turn or the free stream) and when not. */
  mic: Pick<CaptureSource, "need" | "catchUp">;
  uplink: Pick<Uplink, "encode" | "silence" | "takePartial" | "discardPartial">;
  gate: Pick<EchoGate, "closed">;
  turns: Pick<TurnBuffer, "send" | "holding">;
  /** Free conversation on a backend without server VAD: the device decides the turns. */
  localTurns: Pick<LocalTurnDetector, "push" | "reset"> | null;
  /** The agent in use hears the end of the user's speech itself. */
  serverVad(): boolean;
  backend: Pick<AgentBackend, "beginTurn" | "commitTurn">;
  clock: Clock;
  log: Logger;
  userId: string;
  maxTurnMs: number;
  mode(): ConversationMode;
  /** The link is ready for audio. */
  linkUsable(): boolean;
  /** What the device's VAD heard. */
  speechStarted(): void;
  speechStopped(): void;
}

/**
 * How long push-to-talk audio may wait in the mic before it is read: three 40 ms periods.
 * Free conversation reads every period (the agent's VAD listens as it comes).
 */
export const PTT_HOLD_MS = 120;

export class UplinkStream {
  /** Push-to-talk: a turn is streaming. Free conversation: the mic streams. */
  private on = false;
  /** Free conversation with local turns: ends a turn that outlasts max_turn_ms. */
  private localTurnTimer: ClockTimer | undefined;

  constructor(private readonly o: UplinkStreamOptions) {
    o.mic.need(false);
  }

  get streaming(): boolean {
    return this.on;
  }

  /**
   * A push-to-talk turn starts: what the framer holds was said before the press. The agent
   * answers only after the release, so the mic's audio may wait PTT_HOLD_MS and go out a few
   * frames at a time (still one append per frame): a third of the main thread's wake-ups.
   */
  startTurn(): void {
    this.o.uplink.discardPartial();
    this.streams(true, PTT_HOLD_MS);
  }

  /**
   * The turn ends: what the mic holds goes first, then the last, incomplete frame (short, or
   * padded for Opus), so nothing said is dropped.
   */
  finishTurn(): void {
    this.o.mic.catchUp();
    this.streams(false);
    const tail = this.o.uplink.takePartial();
    if (tail) this.o.turns.send(tail);
  }

  /** The turn comes to nothing. */
  abortTurn(): void {
    this.streams(false);
  }

  /** Free conversation: the mic streams (afresh: a half-heard local turn is dropped). */
  startStream(): void {
    this.o.uplink.discardPartial();
    this.resetLocalTurns();
    this.streams(true);
  }

  stopStream(): void {
    this.streams(false);
    this.resetLocalTurns();
  }

  /** The mic's audio is needed exactly while something streams: otherwise it is not even read. */
  private streams(on: boolean, holdMs = 0): void {
    this.on = on;
    this.o.mic.need(on, { holdMs });
  }

  frame(frame: UplinkFrame): void {
    const { uplink, turns, gate, localTurns } = this.o;
    if (!this.on || !(this.o.linkUsable() || turns.holding)) return;
    const free = this.o.mode() === "free";
    // The echo gate sends silence, not nothing: the server's VAD keeps its timing. In
    // push-to-talk it does not apply: pressing the button is the user saying "I am talking".
    const gated = free && gate.closed;
    // The device decides the turns only for an agent that does not (profiles may differ).
    if (free && localTurns && !this.o.serverVad()) {
      this.localFrame(localTurns, frame, gated);
      return;
    }
    turns.send(gated ? uplink.silence() : uplink.encode(frame));
  }

  /** Free conversation without server VAD: only the user's turns go out, and the device ends them. */
  private localFrame(local: NonNullable<UplinkStreamOptions["localTurns"]>, frame: UplinkFrame, gated: boolean): void {
    const { backend, uplink, turns, log, clock } = this.o;
    for (const ev of local.push(frame, gated)) {
      switch (ev.type) {
        case "speech.started":
          log.debug("the device hears speech");
          this.o.speechStarted();
          backend.beginTurn({ userId: this.o.userId });
          for (const pcm of ev.prefix) turns.send(uplink.encode(pcm));
          this.localTurnTimer = clock.setTimeout(() => {
            log.warn(`speech went on for ${this.o.maxTurnMs / 1000} s: ending the turn there (conversation.max_turn_ms)`);
            this.endLocalTurn();
            local.reset();
          }, this.o.maxTurnMs);
          break;
        case "speech.audio":
          turns.send(uplink.encode(ev.pcm));
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
    if (tail) this.o.turns.send(tail);
    this.o.log.debug("the device heard the end of speech");
    this.o.speechStopped();
    if (!this.o.backend.commitTurn()) this.o.log.warn("could not end the turn: the link to the agent is down");
  }

  /** Local turn detection starts afresh: a half-heard turn is dropped, not committed. */
  private resetLocalTurns(): void {
    this.o.clock.clearTimeout(this.localTurnTimer);
    this.localTurnTimer = undefined;
    this.o.localTurns?.reset();
  }
}
