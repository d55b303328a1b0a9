import path from "node:path";
import type { Logger } from "../../log/logger";
import type { PcmFormat } from "../../core/pcm";
import type { PcmSink } from "./sink";

type SpeakerCtor = new (opts: Record<string, unknown>) => import("speaker");
interface SpeakerBinding {
  flush(handle: unknown): void;
  open(channels: number, rate: number, format: number, device: string): unknown;
  close(handle: unknown): void;
  readonly MPG123_ENC_SIGNED_16: number;
  readonly MPG123_ENC_SIGNED_32: number;
}

/**
 * Loads the native `speaker` module, or throws why it cannot (the caller falls back to
 * aplay). Load it in the daemon only after probeSpeaker() said yes: it runs native code
 * that can abort the process.
 */
export function loadSpeaker(module = "speaker"): { Speaker: SpeakerCtor; binding: SpeakerBinding } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Speaker = require(module) as SpeakerCtor;
  // The same compiled addon speaker uses; its flush() is snd_pcm_drop, which the
  // Speaker class only offers together with closing the device.
  const root = path.dirname(require.resolve(`${module}/package.json`));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require(path.join(root, "build", "Release", "binding.node")) as SpeakerBinding;
  return { Speaker, binding };
}

/** ALSA playback through the `speaker` package; the device stays open across replies. */
export class SpeakerSink implements PcmSink {
  readonly description: string;
  private readonly speaker: import("speaker");
  private readonly listeners: Array<(err: Error) => void> = [];

  constructor(
    private readonly device: string,
    readonly format: PcmFormat,
    private readonly lib: ReturnType<typeof loadSpeaker>,
    private readonly log: Logger,
  ) {
    this.description = `ALSA playback '${device}' via speaker ${format.sampleRate} Hz ${format.channels} ch ${format.sampleFormat ?? "S16_LE"}`;
    this.speaker = new lib.Speaker({
      channels: format.channels,
      bitDepth: format.sampleFormat === "S32_LE" ? 32 : 16,
      sampleRate: format.sampleRate,
      signed: true,
      device,
      // speaker hands each samplesPerFrame slice of a write to the thread pool
      // separately, one wake-up of the playback thread per slice: 100 ms keeps any
      // period the worker writes in one piece.
      samplesPerFrame: Math.round(format.sampleRate / 10),
    });
    this.speaker.on("error", (err: Error) => {
      const e = new Error(
        `speaker '${this.device}' failed (${err.message}); check audio.output.device (list devices with 'aplay -L') and that the talkbox user is in the 'audio' group`,
      );
      for (const l of this.listeners) l(e);
    });
  }

  write(chunk: Buffer, done: (err?: Error) => void): void {
    this.speaker.write(chunk, (err) => done(err ?? undefined));
  }

  drop(): void {
    const handle = (this.speaker as unknown as { audio_handle: unknown }).audio_handle;
    if (!handle) return;
    try {
      this.lib.binding.flush(handle);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, "speaker flush failed");
    }
  }

  async close(): Promise<void> {
    // Without a flush, closing drains: the last few milliseconds still queued in the
    // device are played instead of cut off (at most the worker's 40–80 ms).
    this.speaker.close(false);
  }

  onError(listener: (err: Error) => void): void {
    this.listeners.push(listener);
  }
}
