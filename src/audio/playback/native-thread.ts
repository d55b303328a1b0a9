/**
 * The playback thread in C: the speaker addon's player (scripts/patches/, player.c) runs
 * worker.ts's loop on a pthread over the same ring. No second V8 isolate (its heap, its
 * code, its event loop), no JavaScript per wake-up: the thread sleeps on a condition
 * variable and the main thread wakes it through the addon where a JS consumer would be woken
 * by Atomics.notify. Its events come back through a Node-API thread-safe function.
 */
import { bytesFor, bytesPerFrame } from "../../core/pcm";
import { playbackDriver } from "../device-name";
import { RING_LAYOUT, type SpscRing } from "./ring";
import { loadSpeaker, speakerDescription, speakerEncoding, speakerFailure, type SpeakerBinding } from "./speaker-sink";
import { atMost, type PlaybackThread, type PlaybackThreadEvents, type PlaybackThreadOptions } from "./thread";

/** player.c's event numbers. */
const EV = { started: 1, drained: 2, underrun: 3, openFailed: 4, writeFailed: 5, closed: 6, ready: 7 } as const;
const CLOSE_WAIT_MS = 2000;
/**
 * The longest the engine's start waits for the thread's first open: a build from before
 * `ready` (its sources updated without scripts/deps.sh) never says it, and plays anyway.
 */
const READY_WAIT_MS = 2000;

/** CLOCK_MONOTONIC in ms, the clock player.c stamps with (libuv's hrtime reads the same clock). */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export class NativePlaybackThread implements PlaybackThread {
  readonly kind = "native";
  readonly description: string;
  private closedResolve: (() => void) | undefined;
  private readonly closedP: Promise<void>;
  private readyResolve: (() => void) | undefined;
  private readonly readyP: Promise<void>;

  /**
   * The C thread for `opts.device`, or null when it does not apply: a device not played
   * through the speaker module, a module that does not load or was built without the player.
   */
  static tryStart(opts: PlaybackThreadOptions, ring: SpscRing, events: PlaybackThreadEvents, addon?: SpeakerBinding): NativePlaybackThread | null {
    const { driver, target } = playbackDriver(opts.device);
    if (driver !== "alsa") return null;
    let binding: SpeakerBinding;
    try {
      // `addon`: the tests' way to play through an older build of the player (without playerFeed, playerFlush).
      binding = addon ?? loadSpeaker().binding;
    } catch {
      return null; // the worker's sink falls back to aplay and says why
    }
    if (!binding.playerStart || !binding.playerWake) {
      opts.log.info("the speaker module has no native playback thread (built without talkbox's patch: bash scripts/deps.sh); playing from a worker thread");
      return null;
    }
    try {
      return new NativePlaybackThread(binding, target, opts, ring, events);
    } catch (err) {
      // An addon from another build (its ring layout differs) or a thread that cannot start.
      opts.log.warn({ err: (err as Error).message }, "the native playback thread did not start; playing from a worker thread (rebuild: bash scripts/deps.sh)");
      return null;
    }
  }

  private constructor(binding: SpeakerBinding, device: string, opts: PlaybackThreadOptions, ring: SpscRing, events: PlaybackThreadEvents) {
    const format = opts.format;
    this.description = `${speakerDescription(device, format)}, native playback thread`;
    this.closedP = new Promise<void>((resolve) => (this.closedResolve = resolve));
    this.readyP = new Promise<void>((resolve) => (this.readyResolve = resolve));
    const onEvent = (type: number, a: number, b: number): void => {
      switch (type) {
        case EV.started:
          // Its monotonic stamp, moved onto this thread's performance.now().
          events.started(performance.now() - (monotonicMs() - a));
          return;
        case EV.drained:
          events.drained();
          return;
        case EV.underrun:
          events.underrun();
          return;
        case EV.openFailed:
          events.error(speakerFailure(device, "the device did not open"));
          return;
        case EV.writeFailed:
          events.error(speakerFailure(device, `wrote ${a} of ${b} bytes`));
          return;
        case EV.ready:
          this.readyResolve?.();
          return;
        case EV.closed:
          this.readyResolve?.();
          this.closedResolve?.();
          return;
      }
    };
    const player = binding.playerStart!(
      new Uint8Array(ring.sab),
      RING_LAYOUT,
      device,
      format.channels,
      format.sampleRate,
      speakerEncoding(binding, format),
      bytesFor(format, opts.periodMs),
      bytesPerFrame(format),
      bytesFor(format, 1000) / 1000,
      opts.periodMs,
      opts.queueMs,
      onEvent,
    );
    // A reply's first period goes to the device here, and a flush cuts it here, as a direct
    // speaker.write() or speaker.close() would, not after the thread's wake-up (an addon
    // built before playerFeed or playerFlush is woken and does it there).
    const wake = binding.playerWake!.bind(binding);
    const feed = binding.playerFeed?.bind(binding) ?? wake;
    const flush = binding.playerFlush?.bind(binding) ?? wake;
    ring.wakeWith((flushed) => (flushed ? flush(player) : feed(player)));
  }

  /**
   * The thread has tried to open the device (it opens it as it starts; a failure was reported
   * first) and has let it go: audio written from now on finds it free, and its first period is
   * written by playerFeed inside the write.
   */
  async ready(): Promise<void> {
    await atMost(this.readyP, READY_WAIT_MS);
  }

  async close(): Promise<void> {
    // The ring was closed (which woke the thread): it closes the device (draining its last
    // milliseconds) and says so.
    await atMost(this.closedP, CLOSE_WAIT_MS);
  }
}
