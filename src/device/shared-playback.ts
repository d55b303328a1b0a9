/**
 * One speaker, two kinds of sound. The voice (replies, announcements) is what the user waits
 * for; cues (earcons, the slow-reply phrase) only fill a quiet speaker and give way at once:
 * the voice's first audio flushes a cue still playing, so an answer never waits behind a beep.
 * The playback's events stay the voice's own ('started', 'drained'): a cue's start or end never
 * reaches a reply's heard time, the turn's first-sound time or the state machine; it has its
 * own ('cue.started', 'cue.ended').
 */
import { EventEmitter } from "node:events";
import type { PlaybackEngine } from "../audio/playback/engine";
import type { Clock } from "../core/clock";
import type { PcmFormat } from "../core/pcm";

export type SharedEngine = Pick<PlaybackEngine, "write" | "endOfReply" | "flush" | "queuedMs" | "format"> & {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an EventEmitter's own signature
  on(event: "started" | "drained", listener: (...args: any[]) => void): unknown;
};

/** How a cue ended: played out, stopped by its owner, or cut for the voice. */
export type CueEnd = "drained" | "stopped" | "yielded";

export class SharedPlayback extends EventEmitter {
  private playing: "idle" | "cue" | "voice" = "idle";
  /** When audio was last flushed: a 'started' from before it is the flushed audio's, reported late. */
  private flushedAt = -Infinity;

  constructor(
    private readonly engine: SharedEngine,
    private readonly clock: Clock,
  ) {
    super();
    engine.on("started", (at: number) => {
      if (at < this.flushedAt) return;
      if (this.playing === "cue") this.emit("cue.started", at);
      else this.emit("started", at);
    });
    engine.on("drained", () => {
      const was = this.playing;
      this.playing = "idle";
      if (was === "cue") this.emit("cue.ended", "drained" satisfies CueEnd);
      else this.emit("drained");
    });
  }

  get format(): PcmFormat {
    return this.engine.format;
  }

  get queuedMs(): number {
    return this.engine.queuedMs;
  }

  /** A cue is what plays (or is queued to). */
  get cuePlaying(): boolean {
    return this.playing === "cue";
  }

  /** The voice: a cue still playing is cut first. */
  write(pcm: Buffer): void {
    if (pcm.length === 0) return;
    if (this.playing === "cue") this.cutCue("yielded");
    this.playing = "voice";
    this.engine.write(pcm);
  }

  endOfReply(): void {
    if (this.playing !== "cue") this.engine.endOfReply();
  }

  /** Everything stops at once (barge-in): the voice, and a cue with it. */
  flush(): void {
    if (this.playing === "cue") this.cutCue("stopped");
    else this.cut();
  }

  /** Claims a quiet speaker for a cue: false while anything plays (the cue is then not played). */
  startCue(): boolean {
    if (this.playing !== "idle") return false;
    this.playing = "cue";
    return true;
  }

  writeCue(pcm: Buffer): void {
    if (this.playing === "cue") this.engine.write(pcm);
  }

  /** The cue's audio is all written: 'cue.ended' (drained) follows once it has played. */
  endCue(): void {
    if (this.playing === "cue") this.engine.endOfReply();
  }

  /** The cue is no longer wanted: flushed if it still plays. */
  stopCue(): void {
    if (this.playing === "cue") this.cutCue("stopped");
  }

  private cutCue(how: CueEnd): void {
    this.cut();
    this.emit("cue.ended", how);
  }

  private cut(): void {
    this.engine.flush();
    this.flushedAt = this.clock.now();
    this.playing = "idle";
  }
}
