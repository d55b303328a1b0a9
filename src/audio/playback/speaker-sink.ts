import path from "node:path";
import type { SinkLog } from "./thread-log";
import type { PcmFormat } from "../../core/pcm";
import type { PcmSink } from "./sink";

/**
 * The compiled addon inside the `speaker` package; writeSync and the player are talkbox's
 * (scripts/patches/: binding.c, player.c; native-thread.ts uses the player).
 */
export interface SpeakerBinding {
  open(channels: number, rate: number, format: number, device: string): unknown;
  write(handle: unknown, chunk: Buffer): Promise<number>;
  writeSync?(handle: unknown, chunk: Buffer): number;
  flush(handle: unknown): void;
  close(handle: unknown): void;
  playerStart?(...args: unknown[]): object;
  playerWake?(player: object): void;
  /** New audio in the ring: a reply's first period is written on the calling thread when the player thread is idle and not using the device; wakes that thread. */
  playerFeed?(player: object): boolean;
  /** Cuts the device on the calling thread if the player thread is not using it; wakes that thread. */
  playerFlush?(player: object): boolean;
  readonly MPG123_ENC_SIGNED_16: number;
  readonly MPG123_ENC_SIGNED_32: number;
}

/** What the logs and `talkbox status` call a speaker-module device. */
export function speakerDescription(device: string, format: PcmFormat): string {
  return `ALSA playback '${device}' via speaker ${format.sampleRate} Hz ${format.channels} ch ${format.sampleFormat ?? "S16_LE"}`;
}

/** The speaker module's sample format for a PCM format. */
export function speakerEncoding(binding: SpeakerBinding, format: PcmFormat): number {
  return format.sampleFormat === "S32_LE" ? binding.MPG123_ENC_SIGNED_32 : binding.MPG123_ENC_SIGNED_16;
}

/** A failed device, in words the user can act on. */
export function speakerFailure(device: string, why: string): Error {
  return new Error(
    `speaker '${device}' failed (${why}); check audio.output.device (list devices with 'aplay -L') and that the talkbox user is in the 'audio' group`,
  );
}

/**
 * Loads the native `speaker` module, or throws why it cannot (the caller falls back to
 * aplay). Load it in the daemon only after probeSpeaker() said yes: it runs native code
 * that can abort the process.
 */
export function loadSpeaker(module = "speaker"): { binding: SpeakerBinding } {
  // The package itself first: it checks the addon's formats as it loads.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(module);
  // Then the compiled addon it wraps, called directly: its flush() is snd_pcm_drop, which the
  // Speaker class only offers together with closing the device, and its writeSync() plays on
  // the playback thread itself, where the class hands every write to the thread pool.
  const root = path.dirname(require.resolve(`${module}/package.json`));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require(path.join(root, "build", "Release", "binding.node")) as SpeakerBinding;
  return { binding };
}

/**
 * ALSA playback through the `speaker` package's addon; the device stays open across replies.
 * Opened when the playback thread starts (prepare), and again at the next write after a
 * failure (a USB speaker unplugged and plugged back in plays again without a restart).
 */
export class SpeakerSink implements PcmSink {
  readonly description: string;
  private handle: unknown = null;
  private readonly listeners: Array<(err: Error) => void> = [];
  /** The device failed and the user was told; said again only once it has worked in between. */
  private failing = false;

  constructor(
    private readonly device: string,
    readonly format: PcmFormat,
    private readonly lib: ReturnType<typeof loadSpeaker>,
    private readonly log: SinkLog,
  ) {
    this.description = speakerDescription(device, format);
  }

  /** The thread-pool write, for a speaker module built without talkbox's patch (no writeSync). */
  write(chunk: Buffer, done: (err?: Error) => void): void {
    const handle = this.open();
    if (handle === null) return done(new Error("speaker closed"));
    this.lib.binding.write(handle, chunk).then(
      (n) => done(n === chunk.length ? this.worked() : this.failed(`wrote ${n} of ${chunk.length} bytes`)),
      (err: Error) => done(this.failed(err.message)),
    );
  }

  get writeSync(): ((chunk: Buffer) => boolean) | undefined {
    const { binding } = this.lib;
    if (!binding.writeSync) return undefined;
    const writeSync = binding.writeSync.bind(binding);
    return (chunk) => {
      const handle = this.open();
      if (handle === null) return false;
      const n = writeSync(handle, chunk);
      if (n === chunk.length) {
        this.worked();
        return true;
      }
      this.failed(`wrote ${n} of ${chunk.length} bytes`);
      return false;
    };
  }

  prepare(): void {
    this.open();
  }

  drop(): void {
    if (this.handle === null) return;
    try {
      this.lib.binding.flush(this.handle);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "speaker flush failed");
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    // The module's close drains: the last few milliseconds still queued in the device are
    // played instead of cut off (at most the playback thread's 40–80 ms).
    if (handle !== null) this.lib.binding.close(handle);
  }

  onError(listener: (err: Error) => void): void {
    this.listeners.push(listener);
  }

  private open(): unknown {
    if (this.handle !== null) return this.handle;
    const { binding } = this.lib;
    try {
      this.handle = binding.open(this.format.channels, this.format.sampleRate, speakerEncoding(binding, this.format), this.device);
    } catch (err) {
      this.failed((err as Error).message);
    }
    return this.handle;
  }

  private worked(): undefined {
    this.failing = false;
    return undefined;
  }

  /** Reports a failed device (once per failing spell) and closes it, so the next write opens it afresh. */
  private failed(why: string): Error {
    const e = speakerFailure(this.device, why);
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) {
      try {
        this.lib.binding.close(handle);
      } catch {
        // already unusable
      }
    }
    if (!this.failing) for (const l of this.listeners) l(e);
    this.failing = true;
    return e;
  }
}
