/** Ids in the shape the Realtime API uses (`resp_…`, `item_…`, `event_…`), marked as the emulator's. */
import { randomBytes } from "node:crypto";

export function newId(prefix: "resp" | "item" | "event" | "sess"): string {
  return `${prefix}_emu${randomBytes(10).toString("hex")}`;
}
