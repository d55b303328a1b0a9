/**
 * server_vad turn detection: runs the VAD on the user's audio as it arrives and cuts it
 * into utterances the way Coze describes free conversation — speech starts after a short
 * run of voiced frames, the utterance keeps `prefix_padding_ms` of audio from before that,
 * and it ends after `silence_duration_ms` without voice.
 */
import { SpeechSegmenter } from "../../vad/segmenter";
import { VoiceFrames } from "../../vad/voice-frames";

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
  private utteranceStart = 0;
  private readonly segmenter: SpeechSegmenter;
  private readonly prefixSamples: number;
  private readonly keepSamples: number;

  static async create(settings: SpeechDetectorSettings): Promise<SpeechDetector> {
    return new SpeechDetector(settings, await VoiceFrames.create({ inputRate: settings.inputRate }));
  }

  private constructor(
    settings: SpeechDetectorSettings,
    private readonly frames: VoiceFrames,
  ) {
    this.segmenter = new SpeechSegmenter({ frameMs: frames.frameMs, startMs: SPEECH_START_MS, startGapMs: 0, stopMs: settings.silenceDurationMs });
    this.prefixSamples = Math.round((settings.prefixPaddingMs * settings.inputRate) / 1000);
    this.keepSamples = this.prefixSamples + Math.round(((SPEECH_START_MS + HISTORY_MARGIN_MS) * settings.inputRate) / 1000);
  }

  /** Feeds one append's decoded PCM; returns what the VAD decided, in order. */
  push(pcm: Buffer, append: AppendInfo): SpeechEvent[] {
    if (pcm.length === 0) return [];
    this.history.push({ start: this.received, pcm, append });
    this.received += pcm.length >> 1;
    const events: SpeechEvent[] = [];
    this.frames.push(pcm, false, (voiced, frame) => {
      const ev = this.onFrame(voiced, frame);
      if (ev) events.push(ev);
    });
    if (!this.segmenter.speaking) this.trim();
    return events;
  }

  /** input_audio_buffer.clear: forgets the audio and any utterance in progress (no speech_stopped). */
  clear(): void {
    this.history = [];
    this.segmenter.reset();
  }

  close(): void {
    this.frames.close();
  }

  private onFrame(voiced: boolean, frame: number): SpeechEvent | null {
    const segment = this.segmenter.frame(voiced, frame);
    if (segment?.type === "start") {
      this.utteranceStart = Math.max(this.history[0]?.start ?? 0, this.frames.inputSampleAt(segment.runStart) - this.prefixSamples);
      return { type: "speech_started" };
    }
    if (segment?.type !== "stop") return null;
    const end = Math.min(this.received, this.frames.inputSampleAt(frame + 1));
    return { type: "speech_stopped", utterance: this.slice(this.utteranceStart, end) };
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
