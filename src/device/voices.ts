/**
 * The voices the device speaks text with, both giving audio in the speaker's format: the
 * agent's own (the backend's synthesize, in its wire format, decoded and resampled here) and
 * the device's offline voice (espeak-ng). Announcements and the slow-reply phrase use them.
 */
import type { AgentBackend } from "../agent/backend";
import type { LocalVoice } from "../core/announcement";
import type { PcmFormat } from "../core/pcm";
import type { Logger } from "../log/logger";
import { Downlink } from "./downlink";

export const NO_LOCAL_VOICE = "no offline voice is installed (apt-get install espeak-ng) and the agent cannot speak it";

export class Voices {
  constructor(
    private readonly o: {
      backend: Pick<AgentBackend, "synthesize">;
      localVoice: LocalVoice | null;
      device: PcmFormat;
      log: Logger;
    },
  ) {}

  get hasAgentVoice(): boolean {
    return this.o.backend.synthesize !== undefined;
  }

  get localName(): string | null {
    return this.o.localVoice?.name ?? null;
  }

  /** `text` in the agent's voice. Throws (at once or from the audio) when the agent cannot speak it. */
  async *agent(text: string, signal: AbortSignal): AsyncGenerator<Buffer> {
    if (!this.o.backend.synthesize) throw new Error("the agent has no voice of its own for announcements");
    const speech = this.o.backend.synthesize(text, this.o.device.sampleRate, signal);
    // In the agent's wire format (Coze: PCM at the speaker's rate; Realtime: its negotiated output).
    const downlink = await Downlink.create(speech.format, this.o.device, this.o.log);
    try {
      for await (const chunk of speech.audio) yield downlink.decode(chunk);
    } finally {
      downlink.close();
    }
  }

  /** `text` in the device's own voice. Throws when there is none or it fails. */
  async *local(text: string, signal: AbortSignal): AsyncGenerator<Buffer> {
    const voice = this.o.localVoice;
    if (!voice) throw new Error(NO_LOCAL_VOICE);
    try {
      yield* voice.speak(text, signal);
    } catch (err) {
      throw new Error(`${voice.name} failed: ${(err as Error).message}`);
    }
  }
}
