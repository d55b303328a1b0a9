/**
 * The device's conversation state, explicit and named. It knows no wire format,
 * no GPIO and no audio: inputs are normalized facts, outputs are effects that the
 * conversation carries out (uplink, backend, playback) and the state that the
 * LEDs and `talkbox status` show.
 */
import type { LinkProblem } from "../agent/events";
import type { Clock, ClockTimer } from "./clock";

export const DEVICE_STATES = ["idle", "connecting", "listening", "thinking", "speaking", "error", "offline"] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export type DeviceInput =
  | { type: "link.connecting" }
  | { type: "link.ready" }
  | { type: "link.down"; problem: LinkProblem; message: string }
  | { type: "button.down"; userId: string }
  /** `empty`: no audio was captured during the press (it was too short). */
  | { type: "button.up"; empty?: boolean }
  | { type: "reply.started" }
  | { type: "reply.audio" }
  | { type: "reply.done"; status: "completed" | "failed" | "canceled"; message?: string }
  | { type: "playback.drained" };

export type Effect =
  /** Start streaming the mic to the agent as the given user. */
  | { type: "turn.begin"; userId: string }
  /** Stop streaming and tell the agent the user is done. */
  | { type: "turn.commit" }
  /** Stop streaming without committing (the link went away mid-turn). */
  | { type: "turn.abort" }
  | { type: "reply.cancel" }
  | { type: "playback.flush" }
  /** Reconnect now instead of waiting out the back-off. */
  | { type: "link.wake" }
  | { type: "notice"; level: "info" | "warn" | "error"; message: string };

export interface StateMachineOptions {
  clock: Clock;
  /** How long `thinking` may last before the turn is given up as failed. */
  replyTimeoutMs: number;
  /** How long `error` is shown before the device is usable again. */
  errorHoldMs: number;
  /** A press held longer than this is taken as released (a stuck button, a client that died holding it). */
  maxTurnMs: number;
}

export interface StateChange {
  from: DeviceState;
  to: DeviceState;
  cause: DeviceInput["type"] | "timeout";
}

export class DeviceStateMachine {
  private current: DeviceState = "connecting";
  private linkUp = false;
  private replyDone = false;
  private playbackIdle = true;
  private timer: ClockTimer | undefined;

  constructor(
    private readonly opts: StateMachineOptions,
    private readonly onEffect: (effect: Effect) => void,
    private readonly onChange: (change: StateChange) => void = () => {},
  ) {}

  get state(): DeviceState {
    return this.current;
  }

  dispatch(input: DeviceInput): void {
    switch (input.type) {
      case "link.connecting":
        // Retries while offline keep showing `offline`; only the first connect shows `connecting`.
        return;
      case "link.ready":
        this.linkUp = true;
        if (this.current === "connecting" || this.current === "offline" || this.current === "error") this.go("idle", input.type);
        return;
      case "link.down":
        return this.onLinkDown(input);
      case "button.down":
        return this.onPress(input.userId);
      case "button.up":
        return this.onRelease(input);
      case "reply.started":
        if (this.current === "thinking") this.arm(this.opts.replyTimeoutMs, () => this.onReplyTimeout());
        return;
      case "reply.audio":
        this.playbackIdle = false;
        if (this.current === "thinking") {
          this.disarm();
          this.go("speaking", input.type);
        }
        return;
      case "reply.done":
        return this.onReplyDone(input);
      case "playback.drained":
        this.playbackIdle = true;
        if (this.current === "speaking" && this.replyDone) this.go("idle", input.type);
        return;
    }
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
    this.replyDone = false;
    this.go("thinking", input.type);
    this.arm(this.opts.replyTimeoutMs, () => this.onReplyTimeout());
  }

  private onPress(userId: string): void {
    if (!this.linkUp) {
      this.effect({ type: "link.wake" });
      const message =
        this.current === "connecting" ? "still connecting to the agent; press again in a moment" : "offline: the agent is not reachable, reconnecting now";
      this.effect({ type: "notice", level: "warn", message });
      if (this.current !== "connecting") this.go("offline", "button.down");
      return;
    }
    switch (this.current) {
      case "thinking":
      case "speaking":
        // Barge-in: stop the agent and what is already queued, in the same tick. A reply
        // the server has finished sending only needs its queued audio dropped.
        if (!this.replyDone) this.effect({ type: "reply.cancel" });
        this.effect({ type: "playback.flush" });
        this.playbackIdle = true;
        this.disarm();
        break;
      case "listening":
        return;
      default:
        this.disarm();
    }
    this.effect({ type: "turn.begin", userId });
    this.go("listening", "button.down");
    this.arm(this.opts.maxTurnMs, () => {
      this.effect({ type: "notice", level: "warn", message: `the talk button was held for ${this.opts.maxTurnMs / 1000} s; taking it as released (is it stuck?)` });
      this.onRelease({ type: "button.up" });
    });
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
    if (this.current === "thinking" || this.playbackIdle) this.go("idle", input.type);
  }

  private onReplyTimeout(): void {
    this.effect({ type: "reply.cancel" });
    this.effect({ type: "notice", level: "error", message: `no answer from the agent within ${this.opts.replyTimeoutMs} ms; try again` });
    this.enterError("timeout");
  }

  private onLinkDown(input: Extract<DeviceInput, { type: "link.down" }>): void {
    const wasUp = this.linkUp;
    this.linkUp = false;
    this.disarm();
    if (this.current === "listening") {
      this.effect({ type: "turn.abort" });
      this.effect({ type: "notice", level: "warn", message: "the link dropped while you were talking; press again when it is back" });
    }
    if (wasUp || this.current !== "offline") this.go("offline", input.type);
  }

  private enterError(cause: StateChange["cause"]): void {
    this.go("error", cause);
    this.arm(this.opts.errorHoldMs, () => this.go(this.linkUp ? "idle" : "offline", "timeout"));
  }

  private go(to: DeviceState, cause: StateChange["cause"]): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.onChange({ from, to, cause });
  }

  private arm(ms: number, fn: () => void): void {
    this.disarm();
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      fn();
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
