/**
 * An announcement in the agent's own voice on a Realtime link (seed 004): a response.create
 * whose instructions ask the model to say the text word for word. Its response is the
 * announcement's, not a reply: its audio goes to the announcer, never to the device as reply
 * events. In the default conversation, so the text joins the history as the agent's words
 * (both OpenAI and the gateway keep it); cut short, OpenAI's item is truncated to what was
 * heard, as for a reply.
 */
import type { Clock, ClockTimer } from "../../core/clock";
import type { RealtimeFlavour } from "./protocol";
import type { AudioItem } from "./translate";

/**
 * The instructions for one announcement. The text goes last, as a JSON string literal, so
 * quotes and line breaks inside it cannot end it early (the emulator reads it back from there).
 */
export function sayExactly(text: string): string {
  return (
    "Say exactly the following text out loud, word for word, in the language it is written in, and nothing else: " +
    `do not answer it, comment on it or add to it. The text: ${JSON.stringify(text)}`
  );
}

/** The response.create body of an announcement. */
export function announcementResponse(text: string, flavour: RealtimeFlavour, id: string): Record<string, unknown> {
  const response: Record<string, unknown> = { modalities: ["audio", "text"], instructions: sayExactly(text) };
  // OpenAI documents both (the gateway neither): no tool call in place of the words, and a tag in response.created.
  if (flavour === "openai") Object.assign(response, { tool_choice: "none", metadata: { talkbox: id } });
  return response;
}

/** One announcement's audio as it arrives, handed out as an async iterable. */
export class AgentVoice {
  /** Its response, once response.created named it. */
  responseId: string | null = null;
  /** Its audio item, once audio came: what a cut truncates. */
  item: AudioItem | null = null;
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly clock: Clock,
    /** The longest wait for the next chunk. */
    private readonly stepMs: number,
  ) {}

  push(audio: Buffer): void {
    if (this.ended || this.failure) return;
    this.chunks.push(audio);
    this.poke();
  }

  /** The response ended: `status` as it said. */
  finish(status: "completed" | "failed" | "canceled", message?: string): void {
    if (status === "completed") {
      this.ended = true;
      this.poke();
      return;
    }
    this.fail(new Error(`the agent's response ended ${status}${message ? `: ${message}` : ""}`));
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.poke();
  }

  /** The audio; `done` runs once when it ends, whichever way (the caller stopped, it failed, it completed). */
  async *audio(signal: AbortSignal, done: () => void): AsyncGenerator<Buffer> {
    const abort = (): void => this.poke();
    signal.addEventListener("abort", abort, { once: true });
    let timer: ClockTimer | undefined;
    try {
      for (;;) {
        while (this.chunks.length > 0) {
          if (signal.aborted) return;
          yield this.chunks.shift()!;
        }
        if (this.failure) throw this.failure;
        if (this.ended || signal.aborted) return;
        this.clock.clearTimeout(timer);
        timer = this.clock.setTimeout(() => this.fail(new Error(`the agent's voice sent nothing for ${this.stepMs} ms`)), this.stepMs);
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.clock.clearTimeout(timer);
      signal.removeEventListener("abort", abort);
      done();
    }
  }

  private poke(): void {
    this.wake?.();
    this.wake = null;
  }
}
