import type { PcmFormat } from "../../core/pcm";

/**
 * Where decoded PCM goes: an ALSA device or a stand-in. `write` calls back when the
 * device has taken the chunk (so the caller never queues more than it chose to); until
 * then the sink may still read it, after that never (the playback thread reuses it).
 */
export interface PcmSink {
  readonly format: PcmFormat;
  readonly description: string;
  write(chunk: Buffer, done: (err?: Error) => void): void;
  /**
   * The same on the calling thread, back when the device has taken the chunk: for a sink whose
   * driver can (the speaker module), the playback thread writes itself, with no hop to another
   * thread and back. False when the device failed (the listeners heard why).
   */
  writeSync?(chunk: Buffer): boolean;
  /**
   * Opens the device now, not at the first write: the first reply after a start does not
   * wait for the open, and a missing device is reported (onError) at start-up.
   */
  prepare?(): void;
  /** Discard what the device still holds, as far as the driver allows. */
  drop(): void;
  close(): Promise<void>;
  /** Called with an Error whose message says what to do. */
  onError(listener: (err: Error) => void): void;
}
