/** Helpers for integration tests against the emulator's Realtime endpoint. */
import assert from "node:assert/strict";
import type { Device } from "./device";
import type { RealtimeResponseRecord, RealtimeSessionView } from "../../src/emulator/realtime/records";

/** The rig's speaker runs at 16 kHz mono S16. */
export const BYTES_PER_MS = 32;

export function session(dev: Device, i = 0): RealtimeSessionView {
  const s = dev.emulator.realtimeSessions()[i];
  assert.ok(s, `no realtime session ${i}`);
  return s;
}

export function sentTypes(s: RealtimeSessionView): string[] {
  return s.received.map((r) => r.type ?? "?").filter((t) => t !== "input_audio_buffer.append");
}

/** The next response that ends (completed or cancelled) on any session. */
export function nextResponse(dev: Device, pred: (r: RealtimeResponseRecord) => boolean = () => true): Promise<RealtimeResponseRecord> {
  return new Promise((resolve) => {
    const on = (r: RealtimeResponseRecord): void => {
      if (r.status === "in_progress" || !pred(r)) return;
      dev.emulator.events.off("realtime-response", on);
      resolve(r);
    };
    dev.emulator.events.on("realtime-response", on);
  });
}

export async function talk(dev: Device, appends: number): Promise<void> {
  assert.equal((await dev.press()).State, "listening");
  await dev.appends(appends);
  await dev.release();
}

