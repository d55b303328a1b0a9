/**
 * The emulator's Coze speech synthesis (`/v1/audio/speech`): speech.created on connect,
 * speech.update → speech.updated, input_text_buffer.append / complete →
 * input_text_buffer.completed, then the "speech" (../shared/speech-tone.ts), as
 * speech.audio.update deltas a few times faster than real time, then speech.audio.completed.
 * What clients send is checked as the chat endpoint checks it: an error event for a bad one.
 */
import type WebSocket from "ws";
import { decodeEvent, encodeEvent, ErrorCode } from "../../agent/coze/protocol";
import { SPEECH, SPEECH_PCM_RATES } from "../../agent/coze/speech";
import type { Logger } from "../../log/logger";
import { SPEECH_MS_PER_CHAR, tone } from "../shared/speech-tone";

/** The text one connection may synthesise (the service's own limit is not documented; generous). */
const MAX_TEXT_CHARS = 1024;
/** Each delta carries this much audio; one goes out every DELTA_EVERY_MS (5× real time). */
const DELTA_MS = 100;
const DELTA_EVERY_MS = 20;

export interface SpeechRecord {
  index: number;
  text: string;
  voiceId: string | null;
  sampleRate: number;
  /** Audio sent so far (bytes of PCM). */
  audioBytes: number;
  completed: boolean;
}

export class SpeechSession {
  private rate = 24000;
  private voiceId: string | null = null;
  private text = "";
  private speaking = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly record: SpeechRecord,
    private readonly ws: WebSocket,
    private readonly log: Logger,
  ) {
    ws.on("message", (raw: Buffer, isBinary: boolean) => this.onMessage(raw, isBinary));
    ws.on("close", () => clearInterval(this.timer));
    this.send(SPEECH.created);
  }

  private send(type: string, data?: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(encodeEvent(type, data));
  }

  private error(message: string): void {
    this.log.info({ speech: this.record.index }, `emulator: speech: ${message}`);
    this.send(SPEECH.error, { code: ErrorCode.BadParameter, msg: message });
  }

  private onMessage(raw: Buffer, isBinary: boolean): void {
    const d = decodeEvent(raw, isBinary);
    if (!d.ok) return this.error(`malformed event: ${d.reason}`);
    const data = d.event.data ?? {};
    switch (d.event.event_type) {
      case SPEECH.update: {
        const out = data.output_audio as Record<string, unknown> | undefined;
        if (out !== undefined && (typeof out !== "object" || out === null)) return this.error("speech.update: data.output_audio must be an object");
        if (out?.codec !== undefined && out.codec !== "pcm") return this.error(`speech.update: the emulator speaks codec "pcm" only; got ${JSON.stringify(out.codec)}`);
        const rate = (out?.pcm_config as Record<string, unknown> | undefined)?.sample_rate;
        if (rate !== undefined && !SPEECH_PCM_RATES.includes(rate as number)) return this.error(`speech.update: pcm_config.sample_rate must be one of ${SPEECH_PCM_RATES.join(", ")}; got ${JSON.stringify(rate)}`);
        if (out?.voice_id !== undefined && typeof out.voice_id !== "string") return this.error("speech.update: output_audio.voice_id must be a string");
        if (typeof rate === "number") this.rate = rate;
        if (typeof out?.voice_id === "string") this.voiceId = out.voice_id;
        this.record.sampleRate = this.rate;
        this.record.voiceId = this.voiceId;
        return this.send(SPEECH.updated, { output_audio: { codec: "pcm", pcm_config: { sample_rate: this.rate }, ...(this.voiceId ? { voice_id: this.voiceId } : {}) } });
      }
      case SPEECH.append: {
        if (typeof data.delta !== "string") return this.error("input_text_buffer.append: data.delta must be a string");
        if ([...this.text + data.delta].length > MAX_TEXT_CHARS) return this.error(`input_text_buffer.append: more than ${MAX_TEXT_CHARS} characters`);
        this.text += data.delta;
        this.record.text = this.text;
        return;
      }
      case SPEECH.complete:
        if (this.speaking) return this.error("input_text_buffer.complete: already speaking");
        if (this.text === "") return this.error("input_text_buffer.complete: no text was appended");
        this.send(SPEECH.completed);
        return this.speak();
      default:
        return this.error(`unknown event_type ${JSON.stringify(d.event.event_type)} on /v1/audio/speech`);
    }
  }

  private speak(): void {
    this.speaking = true;
    const total = Math.round(([...this.text].length * SPEECH_MS_PER_CHAR * this.rate) / 1000) * 2;
    const step = Math.round((DELTA_MS * this.rate) / 1000) * 2;
    let sent = 0;
    const next = (): void => {
      const n = Math.min(step, total - sent);
      if (n > 0) {
        this.send(SPEECH.audio, { delta: tone(sent / 2, n / 2, this.rate).toString("base64") });
        sent += n;
        this.record.audioBytes = sent;
      }
      if (sent >= total) {
        clearInterval(this.timer);
        this.record.completed = true;
        this.send(SPEECH.audioDone);
      }
    };
    // The first at once (the client's latency is what is measured), the rest paced.
    next();
    if (sent < total) this.timer = setInterval(next, DELTA_EVERY_MS);
  }
}
