/**
 * The device's states and conversation modes: the vocabulary the state machine, the
 * LEDs, the serial panel and `talkbox status` share (src/device/state-machine.ts says
 * what each state means and how the device moves between them).
 */
export const DEVICE_STATES = ["idle", "connecting", "listening", "thinking", "speaking", "announcing", "error", "offline", "muted"] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export type ConversationMode = "push-to-talk" | "free";
