/** Milestones of the current and the last turn, for `talkbox status` and the benchmark. */
import type { Clock } from "../core/clock";

export interface TurnTimings {
  userId: string;
  startedAt: string;
  heldMs: number | null;
  framesSent: number;
  bytesSent: number;
  /** Push-to-talk: key release → input_audio_buffer.complete handed to the socket. */
  releaseToCommitMs: number | null;
  /** Key release (or, in free conversation, the server's speech_stopped) → first reply audio received. */
  endOfSpeechToFirstAudioMs: number | null;
  /** First reply audio received → the device took its first chunk. */
  firstAudioToFirstWriteMs: number | null;
  /** End of speech → the first reply sample played (the playback thread's first write): the latency the user hears. */
  endOfSpeechToFirstSoundMs: number | null;
  /** The user cut the reply short (a press or speech while it played, even once it had all come). */
  interrupted: boolean;
  /** The state machine went to error during the turn (an agent error, no answer in time, the link lost). */
  failed: boolean;
  replyAudioBytes: number;
  droppedStaleAudioBytes: number;
  outcome: "listening" | "waiting" | "completed" | "failed" | "canceled" | "aborted" | "empty";
  transcript: string | null;
  replyText: string | null;
}

export class TurnStats {
  private turn: TurnTimings | null = null;
  private last: TurnTimings | null = null;
  private startAt = 0;
  private endOfSpeechAt: number | null = null;
  private firstAudioAt: number | null = null;
  private listener: ((o: TurnTimings["outcome"]) => void) | undefined;
  private ended: ((t: Readonly<TurnTimings>, startedAt: number) => void) | undefined;
  /** Epoch ms of the turn's start, for the analytics. */
  private startedEpoch = 0;

  constructor(private readonly clock: Clock) {}

  get current(): TurnTimings | null {
    return this.turn;
  }

  /** The turn in progress, or the last one. */
  get latest(): TurnTimings | null {
    return this.turn ?? this.last;
  }

  begin(userId: string): void {
    this.end();
    this.startAt = this.clock.now();
    this.startedEpoch = Date.now();
    this.endOfSpeechAt = null;
    this.firstAudioAt = null;
    this.turn = {
      userId,
      startedAt: new Date().toISOString(),
      heldMs: null,
      framesSent: 0,
      bytesSent: 0,
      releaseToCommitMs: null,
      endOfSpeechToFirstAudioMs: null,
      firstAudioToFirstWriteMs: null,
      endOfSpeechToFirstSoundMs: null,
      interrupted: false,
      failed: false,
      replyAudioBytes: 0,
      droppedStaleAudioBytes: 0,
      outcome: "listening",
      transcript: null,
      replyText: null,
    };
  }

  sent(bytes: number): void {
    if (!this.turn) return;
    this.turn.framesSent++;
    this.turn.bytesSent += bytes;
  }

  /** The user finished speaking at `at` (key release or the server's speech_stopped). */
  speechEnded(at: number, commitSentAt?: number, committed = true): void {
    this.endOfSpeechAt = at;
    if (!this.turn) return;
    this.turn.heldMs = round(at - this.startAt);
    if (commitSentAt !== undefined) this.turn.releaseToCommitMs = round(commitSentAt - at, 3);
    this.turn.outcome = committed ? "waiting" : "aborted";
  }

  firstAudio(): void {
    if (!this.turn || this.firstAudioAt !== null) return;
    this.firstAudioAt = this.clock.now();
    if (this.endOfSpeechAt !== null) this.turn.endOfSpeechToFirstAudioMs = round(this.firstAudioAt - this.endOfSpeechAt);
  }

  replyAudio(bytes: number): void {
    if (this.turn) this.turn.replyAudioBytes += bytes;
  }

  dropped(bytes: number): void {
    if (this.turn) this.turn.droppedStaleAudioBytes += bytes;
  }

  playbackStarted(at: number): void {
    if (!this.turn || this.firstAudioAt === null || this.turn.firstAudioToFirstWriteMs !== null) return;
    this.turn.firstAudioToFirstWriteMs = round(at - this.firstAudioAt, 3);
    if (this.endOfSpeechAt !== null) this.turn.endOfSpeechToFirstSoundMs = round(at - this.endOfSpeechAt);
  }

  /** The user cut this turn's reply short. */
  interrupt(): void {
    if (this.turn) this.turn.interrupted = true;
  }

  /** The turn went wrong (the state machine's error state). */
  failed(): void {
    if (this.turn) this.turn.failed = true;
  }

  /**
   * The turn is over (the device rests again, the next turn begins, or the daemon stops): the
   * ended listener hears it once, with its start (epoch ms). It stays `latest` for the status.
   */
  end(): void {
    const t = this.turn;
    if (!t) return;
    this.turn = null;
    this.last = t;
    this.ended?.(t, this.startedEpoch);
  }

  /** Called once per turn when it is over (the conversation analytics). */
  onEnded(listener: (t: Readonly<TurnTimings>, startedAt: number) => void): void {
    this.ended = listener;
  }

  outcome(o: TurnTimings["outcome"], onlyIfOpen = false): void {
    if (!this.turn) return;
    if (onlyIfOpen && this.turn.outcome !== "waiting" && this.turn.outcome !== "listening") return;
    if (this.turn.outcome === o) return;
    this.turn.outcome = o;
    this.listener?.(o);
  }

  /** Called whenever a turn's outcome changes (the agent's health follows the answers). */
  onOutcome(listener: (o: TurnTimings["outcome"]) => void): void {
    this.listener = listener;
  }

  transcript(text: string): void {
    if (this.turn) this.turn.transcript = text;
  }

  replyText(text: string): void {
    if (this.turn) this.turn.replyText = text;
  }
}

function round(ms: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(ms * f) / f;
}
