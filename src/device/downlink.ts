/** Wire → speaker: decoded payloads → the device rate → the device's sample layout. */
import { codecRules, type AudioFormat } from "../core/media";
import { createDecoder, type Decoder } from "../codec/registry";
import type { Logger } from "../log/logger";
import { fromMonoS16 } from "../codec/pcm16";
import type { PcmFormat } from "../core/pcm";
import { createResampler, type Resampler } from "../codec/resampler";

export class Downlink {
  private constructor(
    readonly wire: AudioFormat,
    readonly device: PcmFormat,
    private readonly decoder: Decoder,
    private readonly resampler: Resampler,
  ) {}

  static async create(wire: AudioFormat, device: PcmFormat, log?: Logger): Promise<Downlink> {
    // An Opus stream decodes at any Opus rate, whatever rate it was encoded at: decoding
    // straight to the device's rate (24 kHz replies on a 16 kHz speaker) skips the
    // resampler, and costs less than decoding at the higher rate.
    const rules = codecRules(wire.codec);
    const rate = rules.decodesToAnyRate && rules.rates.includes(device.sampleRate) ? device.sampleRate : wire.sampleRate;
    return new Downlink(wire, device, createDecoder({ ...wire, sampleRate: rate }, log), await createResampler(rate, device.sampleRate));
  }

  /** One payload (a PCM chunk, a G.711 chunk, one Opus packet) → device bytes. */
  decode(payload: Buffer): Buffer {
    return fromMonoS16(this.resampler.process(this.decoder.decode(payload)), this.device);
  }

  /** The reply is over: nothing of it waits in the decoder for the next one. */
  endOfReply(): void {
    this.decoder.reset?.();
  }

  close(): void {
    this.resampler.close();
  }
}
