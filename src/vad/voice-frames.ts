/**
 * Mono S16 PCM in any chunk sizes and at any rate → one voiced/unvoiced decision
 * per VAD frame. Rates libfvad takes are classified as they are (no resampler, no
 * delay); any other (22.05, 24, 44.1 kHz) is resampled to 16 kHz first.
 */
import { createResampler, type Resampler } from "../codec/resampler";
import { FVAD_RATES, VAD_FRAME_MS, VAD_RATE, createVad, type Vad, type VadMode } from "./fvad";

export interface VoiceFramesOptions {
  inputRate: number;
  mode?: VadMode;
}

export class VoiceFrames {
  /** Classified audio short of a whole VAD frame. */
  private pending = Buffer.alloc(0);
  /** Some of `pending` was gated. */
  private pendingGated = false;
  private count = 0;
  private readonly frameBytes: number;

  static async create(options: VoiceFramesOptions): Promise<VoiceFrames> {
    const { inputRate } = options;
    if (!Number.isInteger(inputRate) || inputRate <= 0) throw new Error(`the VAD needs a positive whole sample rate, not ${inputRate}`);
    const vadRate = FVAD_RATES.includes(inputRate) ? inputRate : VAD_RATE;
    const vad = await createVad({ sampleRate: vadRate, frameMs: VAD_FRAME_MS, mode: options.mode });
    try {
      return new VoiceFrames(inputRate, vad, await createResampler(inputRate, vadRate));
    } catch (err) {
      vad.close();
      throw err;
    }
  }

  private constructor(
    readonly inputRate: number,
    private readonly vad: Vad,
    private readonly resampler: Resampler,
  ) {
    this.frameBytes = vad.frameSamples * 2;
  }

  get frameMs(): number {
    return VAD_FRAME_MS;
  }

  /** Frames classified since creation or the last reset(); the next frame's index. */
  get frames(): number {
    return this.count;
  }

  /**
   * Classifies `pcm` (mono S16_LE at the input rate) and calls `onFrame` for each VAD
   * frame it completes, in order. A frame holding any gated audio is unvoiced without
   * asking the VAD: what the device may not hear must not start speech, and echo must
   * not train the VAD's noise model.
   */
  push(pcm: Buffer, gated: boolean, onFrame: (voiced: boolean, frame: number) => void): void {
    const fresh = this.resampler.process(pcm);
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, fresh]) : fresh;
    let off = 0;
    let firstGated = this.pendingGated || gated;
    for (; off + this.frameBytes <= buf.length; off += this.frameBytes) {
      const voiced = !firstGated && this.vad.isSpeech(buf.subarray(off, off + this.frameBytes));
      firstGated = gated;
      onFrame(voiced, this.count++);
    }
    // What is left over is all from this chunk, unless no frame was completed.
    this.pendingGated = off < buf.length && (off === 0 ? this.pendingGated || gated : gated);
    // Copied: the caller may reuse its buffer.
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  }

  /** Input sample index at which VAD frame `frame` begins (a resampler's few ms of delay not counted). */
  inputSampleAt(frame: number): number {
    return Math.round((frame * this.vad.frameSamples * this.inputRate) / this.vad.sampleRate);
  }

  /**
   * A new audio stream: the VAD forgets what it learnt and frames are counted from 0
   * again with the next pushed sample. (A resampler keeps its few ms of history.)
   */
  reset(): void {
    this.vad.reset();
    this.pending = Buffer.alloc(0);
    this.pendingGated = false;
    this.count = 0;
  }

  close(): void {
    this.vad.close();
    this.resampler.close();
  }
}
