/** A test's view of the daemon: its state stream followed, and what the emulator's Coze links named. */
import assert from "node:assert/strict";
import { openControlConnection, type ControlReply } from "../../src/control/client";
import { until } from "./daemon-process";
import type { Device } from "./device";

export interface FollowedStream {
  frames: ControlReply[];
  /** The next frame (after the last one matched) that matches; waits up to 20 s. */
  next(match: (f: ControlReply) => boolean, what: string): Promise<ControlReply>;
  close(): Promise<void>;
}

/** The state stream, followed from now: frames in order, and a wait for the next that matches. */
export async function follow(dev: Device): Promise<FollowedStream> {
  const conn = await openControlConnection(dev.socket);
  const frames: ControlReply[] = [];
  conn.onEvent((f) => frames.push(f));
  const reply = await conn.request({ Command: "Subscribe" });
  assert.equal(reply.Ok, true);
  let seen = 0;
  return {
    frames,
    async next(match, what) {
      await until(() => frames.slice(seen).some(match), what, 20_000);
      const i = frames.findIndex((f, j) => j >= seen && match(f));
      seen = i + 1;
      return frames[i]!;
    },
    close: () => conn.close(),
  };
}

/** The conversation_id the newest Coze link's first chat.update named (undefined: a new conversation). */
export function linkConversation(dev: Device): string | undefined {
  const first = dev.emulator
    .sessions()
    .at(-1)!
    .received.map((r) => r.event)
    .find((e) => e?.event_type === "chat.update");
  return (first?.data as { chat_config?: { conversation_id?: string } }).chat_config?.conversation_id;
}
