/** `Status`: the device's state, link, agent profile, last turn, volume, subscribers and memory. */
import { z } from "zod";
import type { PlaybackEngine } from "../../audio/playback/engine";
import { defineCommand } from "./command";

export const statusCommand = defineCommand({
  schema: z.object({ Command: z.literal("Status") }),
  run: (_cmd, { conversation, volume, stream, playback, agents }) => ({
    ...conversation.status(),
    Profile: { Name: agents.active.name, Title: agents.active.title, Backend: agents.active.descriptor.name },
    Volume: volume.percent,
    Subscribers: stream.count,
    // "native": the speaker addon's C thread; "worker": a worker thread (aplay, a WAV folder, an unpatched speaker module).
    PlaybackThread: playback.threadKind,
    Memory: memory(playback),
  }),
});

/** The process's memory, MiB: a fleet (or the soak) can tell a leak from V8 taking its time to collect. */
function memory(playback: PlaybackEngine): Record<string, number> {
  const m = process.memoryUsage();
  const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;
  return {
    RssMiB: mib(m.rss),
    HeapUsedMiB: mib(m.heapUsed),
    HeapTotalMiB: mib(m.heapTotal),
    ExternalMiB: mib(m.external),
    ArrayBuffersMiB: mib(m.arrayBuffers),
    // A worker playback thread is a second V8 isolate: its heap is in RSS but not in the numbers above (0 for the C thread, which has none).
    PlaybackHeapUsedMiB: mib(playback.threadHeap.used),
    PlaybackHeapTotalMiB: mib(playback.threadHeap.total),
  };
}
