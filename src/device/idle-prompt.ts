/**
 * The idle prompt (seed 004's "AI 陪练" case): in free conversation, after `ms` without the
 * user speaking while the device listens, it says a prompt to draw them back — once per
 * silence: the next one only after the user has spoken again. As a mode-3 announcement, so it
 * never talks over anything.
 */
import type { Clock, ClockTimer } from "../core/clock";
import type { ConversationMode, DeviceState } from "../core/device-state";

export interface IdlePromptOptions {
  ms: number;
  clock: Clock;
  say(): void;
}

export class IdlePrompt {
  private timer: ClockTimer | undefined;
  /** Said in this silence: nothing more until the user speaks. */
  private said = false;
  private listening = false;

  constructor(private readonly o: IdlePromptOptions) {}

  /** The device's state and mode changed. */
  state(state: DeviceState, mode: ConversationMode): void {
    const listening = mode === "free" && state === "listening";
    if (listening === this.listening) return;
    this.listening = listening;
    if (listening) this.arm();
    else this.disarm();
  }

  /** The user started speaking: the silence is over, a new one may be prompted. */
  speech(): void {
    this.said = false;
    this.disarm();
  }

  /** The user stopped speaking while the device listens (no answer came, say): a silence starts. */
  quiet(): void {
    if (this.listening) this.arm();
  }

  private arm(): void {
    this.disarm();
    if (this.said) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.said = true;
      this.o.say();
    }, this.o.ms);
  }

  private disarm(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
