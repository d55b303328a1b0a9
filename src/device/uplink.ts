/**
 * Mic → wire: device samples (any rate, S16/S32, channels) → mono S16 → the wire
 * rate → exact frames → encoded payloads. Runs continuously so the resampler and
 * the frame boundaries never restart mid-stream.
 */
import { codecRules, type AudioFormat } from "../core/media";
import { createEncoder, type Encoder } from "../codec/registry";
import type { Logger } from "../log/logger";
import { toMonoS16 } from "../codec/pcm16";
import { Framer } from "./framer";
import type { PcmFormat } from "../core/pcm";
import { createResampler, type Resampler } from "../codec/resampler";

/** One frame of mono S16 PCM at the wire rate; encoded only when it is sent. */
export type UplinkFrame = Buffer;

export class Uplink {
  private readonly framer: Framer;
  private silentPayload: Buffer | null = null;

  private constructor(
    readonly device: PcmFormat,
    readonly wire: AudioFormat,
    private readonly resampler: Resampler,
    private readonly encoder: Encoder,
  ) {
    this.framer = new Framer(encoder.frameSamples * 2);
  }

  static async create(device: PcmFormat, wire: AudioFormat, frameMs: number, log?: Logger): Promise<Uplink> {
    const encoder = createEncoder(wire, frameMs, log);
    const resampler = await createResampler(device.sampleRate, wire.sampleRate);
    return new Uplink(device, wire, resampler, encoder);
  }

  get frameMs(): number {
    return (this.encoder.frameSamples * 1000) / this.wire.sampleRate;
  }

  push(chunk: Buffer, emit: (frame: UplinkFrame) => void): void {
    this.framer.push(this.resampler.process(toMonoS16(chunk, this.device)), emit);
  }

  encode(frame: UplinkFrame): Buffer {
    return this.encoder.encode(frame);
  }

  /** Drops the incomplete frame (audio from before a turn began). */
  discardPartial(): void {
    this.framer.takePartial();
  }

  /**
   * The incomplete frame at the end of a turn, encoded: short where the codec sends
   * short frames, padded with silence to a whole frame where it cannot (Opus), so the
   * last syllable is not dropped.
   */
  takePartial(): Buffer | null {
    const pcm = this.framer.takePartial();
    if (pcm.length === 0) return null;
    if (this.encoder.acceptsPartialFrames) return this.encoder.encode(pcm);
    const whole = Buffer.alloc(this.encoder.frameSamples * 2);
    pcm.copy(whole);
    return this.encoder.encode(whole);
  }

  get pendingBytes(): number {
    return this.framer.pending;
  }

  /** One encoded frame of silence (the echo gate sends it instead of the mic). */
  silence(): Buffer {
    // A stateful codec (Opus) encodes its silence each time; the others' is constant.
    if (codecRules(this.wire.codec).stateful) return this.encoder.encode(Buffer.alloc(this.encoder.frameSamples * 2));
    this.silentPayload ??= this.encoder.encode(Buffer.alloc(this.encoder.frameSamples * 2));
    return this.silentPayload;
  }

  close(): void {
    this.resampler.close();
  }
}
