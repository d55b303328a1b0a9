/**
 * server_vad turn detection: runs the VAD on the user's audio as it arrives and cuts it
 * into utterances the way Coze describes free conversation — speech starts after a short
 * run of voiced frames, the utterance keeps `prefix_padding_ms` of audio from before that,
 * and it ends after `silence_duration_ms` without voice.
 */
import { createResampler, type Resampler } from "../audio/resampler";
import { VAD_FRAME_MS, VAD_FRAME_SAMPLES, VAD_RATE, createVad, type Vad } from "./vad";

/** Voiced time in a row before speech counts as started, so a click or a knock does not interrupt the agent. */
export const SPEECH_START_MS = 60;
/** History kept beyond what prefix padding needs: covers the resampler's and the frame buffer's lag. */
const HISTORY_MARGIN_MS = 200;

export interface SpeechDetectorSettings {
  inputRate: number;
  prefixPaddingMs: number;
  silenceDurationMs: number;
}

export interface AppendInfo {
  atNs: bigint;
  /** Wire payload bytes. */
  bytes: number;
}

export interface Utterance {
  /** PCM at the input rate, prefix padding and trailing silence included. */
  audio: Buffer;
  /** The appends that carried any of it. */
  appends: AppendInfo[];
}

export type SpeechEvent = { type: "speech_started" } | { type: "speech_stopped"; utterance: Utterance };

interface Chunk {
  /** Input sample index of the chunk's first sample. */
  start: number;
  pcm: Buffer;
  append: AppendInfo;
}

export class SpeechDetector {
  private history: Chunk[] = [];
  private received = 0;
  /** Resampled audio short of a whole VAD frame. */
  private pending = Buffer.alloc(0);
  private frames = 0;
  private speaking = false;
  /** Voiced frames in a row while silent; unvoiced frames in a row while speaking. */
  private run = 0;
  private runStartFrame = 0;
  private utteranceStart = 0;
  private readonly startFrames = Math.ceil(SPEECH_START_MS / VAD_FRAME_MS);
  private readonly stopFrames: number;
  private readonly prefixSamples: number;
  private readonly keepSamples: number;

  static async create(settings: SpeechDetectorSettings): Promise<SpeechDetector> {
    const vad = await createVad();
    try {
      return new SpeechDetector(settings, vad, await createResampler(settings.inputRate, VAD_RATE));
    } catch (err) {
      vad.close();
      throw err;
    }
  }

  private constructor(
    private readonly settings: SpeechDetectorSettings,
    private readonly vad: Vad,
    private readonly resampler: Resampler,
  ) {
    this.stopFrames = Math.max(1, Math.ceil(settings.silenceDurationMs / VAD_FRAME_MS));
    this.prefixSamples = Math.round((settings.prefixPaddingMs * settings.inputRate) / 1000);
    this.keepSamples = this.prefixSamples + Math.round(((SPEECH_START_MS + HISTORY_MARGIN_MS) * settings.inputRate) / 1000);
  }

  /** Feeds one append's decoded PCM; returns what the VAD decided, in order. */
  push(pcm: Buffer, append: AppendInfo): SpeechEvent[] {
    if (pcm.length === 0) return [];
    this.history.push({ start: this.received, pcm, append });
    this.received += pcm.length >> 1;
    const resampled = this.resampler.process(pcm);
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, resampled]) : resampled;
    const frameBytes = VAD_FRAME_SAMPLES * 2;
    const events: SpeechEvent[] = [];
    let off = 0;
    for (; off + frameBytes <= buf.length; off += frameBytes) {
      const ev = this.onFrame(this.vad.isSpeech(buf.subarray(off, off + frameBytes)));
      if (ev) events.push(ev);
    }
    this.pending = Buffer.from(buf.subarray(off));
    if (!this.speaking) this.trim();
    return events;
  }

  /** input_audio_buffer.clear: forgets the audio and any utterance in progress (no speech_stopped). */
  clear(): void {
    this.history = [];
    this.speaking = false;
    this.run = 0;
  }

  close(): void {
    this.vad.close();
    this.resampler.close();
  }

  private onFrame(voiced: boolean): SpeechEvent | null {
    const frame = this.frames++;
    if (!this.speaking) {
      if (!voiced) {
        this.run = 0;
        return null;
      }
      if (this.run++ === 0) this.runStartFrame = frame;
      if (this.run < this.startFrames) return null;
      this.speaking = true;
      this.run = 0;
      this.utteranceStart = Math.max(this.history[0]?.start ?? 0, this.inputSampleAt(this.runStartFrame) - this.prefixSamples);
      return { type: "speech_started" };
    }
    if (voiced) {
      this.run = 0;
      return null;
    }
    if (++this.run < this.stopFrames) return null;
    this.speaking = false;
    this.run = 0;
    const end = Math.min(this.received, this.inputSampleAt(frame + 1));
    return { type: "speech_stopped", utterance: this.slice(this.utteranceStart, end) };
  }

  private inputSampleAt(vadFrame: number): number {
    return Math.round((vadFrame * VAD_FRAME_SAMPLES * this.settings.inputRate) / VAD_RATE);
  }

  private slice(start: number, end: number): Utterance {
    const parts: Buffer[] = [];
    const appends: AppendInfo[] = [];
    for (const c of this.history) {
      const n = c.pcm.length >> 1;
      if (c.start + n <= start || c.start >= end) continue;
      parts.push(c.pcm.subarray(Math.max(0, start - c.start) * 2, (Math.min(n, end - c.start)) * 2));
      appends.push(c.append);
    }
    return { audio: Buffer.concat(parts), appends };
  }

  private trim(): void {
    const keepFrom = this.received - this.keepSamples;
    let drop = 0;
    while (drop < this.history.length) {
      const c = this.history[drop] as Chunk;
      if (c.start + (c.pcm.length >> 1) > keepFrom) break;
      drop++;
    }
    if (drop > 0) this.history.splice(0, drop);
  }
}
