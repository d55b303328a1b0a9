/** Options for a CozeBackend in unit tests: pcm 16 kHz both ways, push-to-talk, the daemon's default timings. */
import type { CozeLinkOptions } from "../../src/agent/coze/client";
import { noConversations } from "../../src/core/conversations";

export const PCM16K = { codec: "pcm" as const, sampleRate: 16000, channels: 1 as const };

export function cozeLinkOptions(url: string, over: Partial<CozeLinkOptions> = {}): CozeLinkOptions {
  return {
    url,
    botId: "7000000000000000001",
    token: "tok-1234",
    session: { userId: "u", input: PCM16K, output: PCM16K, outputFrameMs: 40, speechRate: 0, replyPace: 1.1, turnDetection: { type: "client_interrupt" } },
    vad: { prefixPaddingMs: 600, silenceDurationMs: 500 },
    connectTimeoutMs: 5000,
    pingIntervalMs: 15_000,
    pingTimeoutMs: 10_000,
    reconnect: { initialMs: 500, maxMs: 30_000, authFailureMs: 300_000 },
    conversations: () => noConversations,
    ...over,
  };
}
