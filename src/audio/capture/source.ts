import type { EventEmitter } from "node:events";
import type { PcmFormat } from "../pcm";

/**
 * A microphone: emits 'data' (Buffer of S16_LE PCM in `format`) continuously once
 * started, and 'error' (Error with a message that says what to do) when the device
 * fails; it keeps trying to recover by itself.
 */
export interface CaptureSource extends EventEmitter {
  readonly format: PcmFormat;
  readonly description: string;
  start(): void;
  stop(): Promise<void>;
}
