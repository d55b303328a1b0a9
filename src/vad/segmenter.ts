/**
 * Per-frame VAD decisions → where speech starts and stops, the way a server VAD
 * decides turns: speech starts once enough voiced time has been heard (so a click
 * or a knock is not a turn), and stops after a stretch of unvoiced frames in a row.
 */

export interface SegmenterOptions {
  frameMs: number;
  /** Voiced time needed before speech counts as started. */
  startMs: number;
  /**
   * Unvoiced time allowed inside that voiced time without counting from zero again;
   * 0: the voiced frames must come in a row.
   */
  startGapMs: number;
  /** Unvoiced time in a row that ends speech. */
  stopMs: number;
}

export type Segment =
  /** `runStart`: the frame where the voiced run that started speech began. */
  | { type: "start"; runStart: number }
  | { type: "stop" };

export class SpeechSegmenter {
  private inSpeech = false;
  /** First frame of the voiced run that may become speech; null when there is none. */
  private runFrom: number | null = null;
  private voiced = 0;
  /** Unvoiced frames in a row: inside the start run, or while speaking. */
  private quiet = 0;
  private readonly startFrames: number;
  private readonly gapFrames: number;
  private readonly stopFrames: number;

  constructor(options: SegmenterOptions) {
    const frames = (ms: number): number => Math.ceil(ms / options.frameMs);
    this.startFrames = Math.max(1, frames(options.startMs));
    this.gapFrames = Math.max(0, frames(options.startGapMs));
    this.stopFrames = Math.max(1, frames(options.stopMs));
  }

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Where a voiced run that has not started speech yet began, if one is under way. */
  get runStart(): number | null {
    return this.runFrom;
  }

  /** One frame's decision; `frame` is its index in the stream. */
  frame(voiced: boolean, frame: number): Segment | null {
    if (this.inSpeech) {
      this.quiet = voiced ? 0 : this.quiet + 1;
      if (this.quiet < this.stopFrames) return null;
      this.reset();
      return { type: "stop" };
    }
    if (!voiced) {
      if (this.runFrom !== null && ++this.quiet > this.gapFrames) this.reset();
      return null;
    }
    this.runFrom ??= frame;
    this.quiet = 0;
    if (++this.voiced < this.startFrames) return null;
    const runStart = this.runFrom;
    this.reset();
    this.inSpeech = true;
    return { type: "start", runStart };
  }

  /** Forgets speech in progress and any voiced run (no stop is reported). */
  reset(): void {
    this.inSpeech = false;
    this.runFrom = null;
    this.voiced = 0;
    this.quiet = 0;
  }
}
