import type { EventEmitter } from "node:events";
import type { PcmFormat } from "../../core/pcm";

/**
 * A microphone: emits 'data' (Buffer of S16_LE PCM in `format`) continuously once
 * started (while needed), and 'error' (Error with a message that says what to do) when the device
 * fails; it keeps trying to recover by itself.
 */
export interface CaptureSource extends EventEmitter {
  readonly format: PcmFormat;
  readonly description: string;
  start(): void;
  stop(): Promise<void>;
  /**
   * How much audio each read of the device carries, in ms (a hold, need()'s holdMs, puts
   * several in one 'data' event). Fewer, larger reads cost less CPU
   * (each is a wake-up of the main thread and a socket write); a key release can lose
   * up to one period still in the device.
   */
  readonly periodMs: number;
  /** Changes the period; a running device is closed and opened again, a gap of a few ms. */
  setPeriod(ms: number): void;
  /**
   * Whether anyone needs the audio now (true until told otherwise). While not, the source
   * may deliver nothing, at less cost, keeping the device open; once needed again it
   * delivers audio from about that moment on, never what was captured in between.
   *
   * `o.holdMs`: the audio may wait up to this long before it is delivered, several periods in
   * one 'data' (push-to-talk: the agent only answers after the release). Each delivery is a
   * wake-up of the main thread; catchUp() delivers what waits at once.
   */
  need(on: boolean, o?: { holdMs?: number }): void;
  /** Delivers now, before returning, the audio captured but not yet delivered. */
  catchUp(): void;
}
