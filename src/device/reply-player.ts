/**
 * The reply stage: which reply's audio may play (a reply interrupted by barge-in is stale,
 * and so is the late audio of one cut short), reply audio → downlink → playback within
 * audio.reply_buffer_ms, and how much of the current reply was heard. It knows no state
 * machine: it says what happened, and the conversation turns that into inputs.
 */
import type { PlaybackEngine } from "../audio/playback/engine";
import type { Clock } from "../core/clock";
import { formatName } from "../core/media";
import { msFor } from "../core/pcm";
import type { Logger } from "../log/logger";
import type { Downlink } from "./downlink";
import type { TurnStats } from "./turn-stats";

export interface ReplyPlayerOptions {
  downlink: Pick<Downlink, "decode" | "endOfReply" | "wire">;
  playback: Pick<PlaybackEngine, "write" | "endOfReply" | "flush" | "queuedMs" | "format">;
  stats: Pick<TurnStats, "dropped" | "firstAudio" | "replyAudio">;
  log: Logger;
  clock: Clock;
  /** The most reply audio kept queued ahead of the speaker (audio.reply_buffer_ms). */
  replyBufferMs: number;
  /** Stops the current reply on the server (it outran the buffer); `heardMs` as for a barge-in. */
  stopReply(heardMs: number): void;
}

/** What became of a reply's end, for the state machine. */
export type ReplyEnd =
  /** A stale reply's end: nothing to tell. */
  | { kind: "stale" }
  /** The reply ended: `status` as the agent said, except a reply the device cut short (`cutShort`), which completes with what it kept. */
  | { kind: "done"; status: "completed" | "failed" | "canceled"; cutShort: boolean };

export class ReplyPlayer {
  private current: string | null = null;
  /** Replies cancelled by barge-in: their late audio must not play. */
  private readonly stale = new Set<string>();
  /** A barge-in came before the reply it cancels had started: that reply is stale when it does. */
  private staleUnstarted = false;
  /** The reply cut short because it outran the reply buffer: the rest of its audio is dropped. */
  private truncated: string | null = null;
  /** The current reply as heard: when its first sample came out, and how much audio it has. */
  private heard = { startedAt: null as number | null, ms: 0 };

  constructor(private readonly o: ReplyPlayerOptions) {}

  /** A reply started: true when it is one to play (not the one a barge-in already cancelled). */
  started(replyId: string): boolean {
    if (this.staleUnstarted) {
      this.staleUnstarted = false;
      this.stale.add(replyId);
      return false;
    }
    this.current = replyId;
    this.heard = { startedAt: null, ms: 0 };
    return true;
  }

  /** Reply audio: true when it was queued for the speaker. */
  audio(replyId: string, audio: Buffer): boolean {
    const { downlink, playback, stats, log } = this.o;
    if (this.stale.has(replyId) || replyId !== this.current || this.truncated === replyId) {
      stats.dropped(audio.length);
      return false;
    }
    stats.firstAudio();
    let pcm: Buffer;
    try {
      pcm = downlink.decode(audio);
    } catch (err) {
      log.warn(`dropped reply audio that does not decode as ${formatName(downlink.wire)}: ${(err as Error).message}`);
      return false;
    }
    pcm = this.withinReplyBuffer(replyId, pcm);
    stats.replyAudio(pcm.length);
    this.heard.ms += msFor(playback.format, pcm.length);
    playback.write(pcm);
    return true;
  }

  /** The reply's text may be shown (it is not a stale reply's). */
  fresh(replyId: string): boolean {
    return !this.stale.has(replyId);
  }

  done(replyId: string, status: "completed" | "failed" | "canceled"): ReplyEnd {
    if (this.stale.delete(replyId)) return { kind: "stale" };
    if (replyId === this.current || replyId === "") this.current = null;
    this.o.downlink.endOfReply();
    const truncated = this.truncated === replyId;
    if (status !== "canceled" || truncated) this.o.playback.endOfReply();
    if (!truncated) return { kind: "done", status, cutShort: false };
    // Cut short by the device (the reply buffer was full): what was kept plays to its end.
    this.truncated = null;
    return { kind: "done", status: "completed", cutShort: true };
  }

  /** The current reply (or the next to start) is interrupted: its late audio must not play. */
  interrupt(): void {
    if (this.current) this.stale.add(this.current);
    else this.staleUnstarted = true;
    this.current = null;
  }

  /** A new turn went to the agent: a barge-in before it no longer waits for a reply to mark. */
  turnCommitted(): void {
    this.staleUnstarted = false;
  }

  /** The link is gone, and the reply with it. */
  linkLost(): void {
    this.current = null;
  }

  /** The speaker played the first sample of what is queued. */
  playbackStarted(at: number): void {
    this.heard.startedAt ??= at;
  }

  /** Everything queued is dropped at once (barge-in). */
  flush(): void {
    this.o.playback.flush();
    this.o.downlink.endOfReply();
  }

  /**
   * How much of the current reply came out of the speaker: the time since its first
   * sample played, bounded by the audio it had (what is still queued was not heard).
   */
  heardMs(): number {
    if (this.heard.startedAt === null) return 0;
    return Math.max(0, Math.min(Math.round(this.o.clock.now() - this.heard.startedAt), Math.floor(this.heard.ms)));
  }

  /**
   * A server that sends audio much faster than it plays (a whole reply at once) gets
   * audio.reply_buffer_ms queued ahead of the speaker and no more: the rest is
   * dropped with one warning and the reply is stopped on the server, so memory stays
   * bounded whatever it sends. What was kept plays to its end.
   */
  private withinReplyBuffer(replyId: string, pcm: Buffer): Buffer {
    const { playback, log, replyBufferMs } = this.o;
    const roomMs = replyBufferMs - playback.queuedMs;
    const ms = msFor(playback.format, pcm.length);
    if (ms <= roomMs) return pcm;
    const keep = Math.max(0, Math.floor((pcm.length * Math.max(0, roomMs)) / ms));
    this.truncated = replyId;
    log.warn(
      `the agent sent its reply faster than it plays: more than ${replyBufferMs / 1000} s ahead of the speaker (audio.reply_buffer_ms); playing that much and stopping the reply`,
    );
    this.o.stopReply(this.heardMs());
    return pcm.subarray(0, keep);
  }
}
