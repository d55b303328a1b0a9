import type { ConversationMode } from "../core/device-state";

export type CapturePeriods = Record<ConversationMode, number>;

/**
 * How much audio each mic read carries, per mode. Each read wakes the main thread and
 * ends in a socket write, which on a small board is most of what streaming costs; in
 * push-to-talk the period also bounds what a key release leaves in the device, so it
 * stays short there. In free conversation the end of a turn waits on the VAD's silence
 * window (hundreds of ms), so twice the period costs the user nothing noticeable and
 * halves the wake-ups of a mic that never stops. A configured period applies to both.
 */
export function capturePeriodsFor(configured: number | undefined): CapturePeriods {
  return { "push-to-talk": configured ?? 40, free: configured ?? 80 };
}
