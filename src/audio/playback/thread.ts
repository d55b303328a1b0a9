/**
 * The playback thread, seen from the engine: the consumer of the ring that owns the speaker.
 * Two kinds do the same loop (engine.ts says what it keeps): the speaker addon's C thread
 * (native-thread.ts), used whenever the device is played through the speaker module, and a
 * worker thread (worker-thread.ts) for aplay, a WAV folder, or a speaker module built
 * without talkbox's patch.
 */
import type { Logger } from "../../log/logger";
import type { PcmFormat } from "../../core/pcm";

export interface PlaybackThreadOptions {
  device: string;
  format: PcmFormat;
  log: Logger;
  periodMs: number;
  queueMs: number;
}

/** What the thread tells the engine, on the main thread. */
export interface PlaybackThreadEvents {
  /** The first sample of a reply went to the device at `at` (performance.now() of this thread). */
  started(at: number): void;
  /** Everything up to the end mark has played; `heap` is the thread's own V8 heap, when it has one. */
  drained(heap?: { used: number; total: number }): void;
  underrun(): void;
  error(err: Error): void;
  /** A thread that died was replaced: nothing it was playing goes on. */
  restarted(): void;
}

export interface PlaybackThread {
  readonly description: string;
  readonly kind: "native" | "worker";
  /** Resolves once the thread has tried to open the device (as it starts): opened, or the failure reported. */
  ready(): Promise<void>;
  /** Stops the thread once the ring says closed (the caller closed it); bounded. */
  close(): Promise<void>;
}

/** Waits for `p`, or `ms` at most: a thread that does not stop must not hold up the daemon's shutdown. */
export async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
