/**
 * Codecs by name, between device PCM and the wire. The uplink encoder turns mic
 * frames into what the backend sends; the downlink decoder turns what arrives
 * into PCM for the player.
 */
import type { AudioCodec, AudioFormat } from "../agent/events";
import type { PcmFormat } from "../audio/pcm";

export interface Encoder {
  encode(pcm: Buffer): Buffer;
  /** Whether a frame shorter than the configured length may be sent (PCM yes, Opus no). */
  readonly acceptsPartialFrames: boolean;
}

export interface Decoder {
  decode(payload: Buffer): Buffer;
}

interface CodecFactory {
  encoder(wire: AudioFormat, device: PcmFormat): Encoder;
  decoder(wire: AudioFormat, device: PcmFormat): Decoder;
}

function sameRate(wire: AudioFormat, device: PcmFormat, where: string): void {
  if (device.channels !== 1) throw new Error(`the ${where} device has ${device.channels} channels; only mono is supported in this version`);
  if (wire.sampleRate !== device.sampleRate) {
    throw new Error(`the agent link runs at ${wire.sampleRate} Hz but the ${where} device at ${device.sampleRate} Hz; set audio.${where === "mic" ? "input" : "output"}.sample_rate to ${wire.sampleRate}`);
  }
}

const pcm: CodecFactory = {
  encoder(wire, device) {
    sameRate(wire, device, "mic");
    return { encode: (b) => b, acceptsPartialFrames: true };
  },
  decoder(wire, device) {
    sameRate(wire, device, "speaker");
    return { decode: (b) => b };
  },
};

const codecs: Partial<Record<AudioCodec, CodecFactory>> = { pcm };

function factory(codec: AudioCodec): CodecFactory {
  const f = codecs[codec];
  if (!f) throw new Error(`codec '${codec}' is not supported in this version; use pcm`);
  return f;
}

export function createEncoder(wire: AudioFormat, device: PcmFormat): Encoder {
  return factory(wire.codec).encoder(wire, device);
}

export function createDecoder(wire: AudioFormat, device: PcmFormat): Decoder {
  return factory(wire.codec).decoder(wire, device);
}
