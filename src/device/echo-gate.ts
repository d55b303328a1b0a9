/**
 * Half-duplex echo handling for boards without acoustic echo cancellation: while
 * the speaker plays, and for a tail after (the room still rings), the mic sends
 * silence so the agent never hears itself. After a barge-in flush there is no
 * tail: the user is talking on purpose.
 */
import type { Clock } from "../core/clock";

export type EchoMode = "gate" | "none";

export class EchoGate {
  private playing = false;
  private openAt = 0;

  constructor(
    private readonly mode: EchoMode,
    private readonly tailMs: number,
    private readonly clock: Clock,
  ) {}

  /** True while the mic must not be heard. */
  get closed(): boolean {
    if (this.mode === "none") return false;
    return this.playing || this.clock.now() < this.openAt;
  }

  playbackStarted(): void {
    this.playing = true;
  }

  playbackDrained(): void {
    this.playing = false;
    this.openAt = this.clock.now() + this.tailMs;
  }

  playbackFlushed(): void {
    this.playing = false;
    this.openAt = 0;
  }
}
