/**
 * Turns one `input_audio_buffer.append` payload into PCM at the input rate, through the
 * project's codec layer, and says exactly what is wrong with a payload it cannot take:
 * an emulator that quietly accepted garbage would hide a device's encoder bugs.
 */
import type { AudioCodec } from "../../core/media";
import { createDecoder, type Decoder } from "../../codec/registry";

export type Decoded = { ok: true; pcm: Buffer } | { ok: false; problem: string };

/** Opus frame lengths Coze asks devices to upload. */
const OPUS_UPLINK_MS = [20, 40];

export interface InputDecoder {
  decode(payload: Buffer): Decoded;
}

export function createInputDecoder(codec: AudioCodec, sampleRate: number): InputDecoder {
  switch (codec) {
    case "pcm":
      return {
        decode: (b) =>
          b.length % 2 === 0 ? { ok: true, pcm: b } : { ok: false, problem: `${b.length} bytes is not a whole number of 16-bit mono samples` },
      };
    case "g711a":
    case "g711u": {
      const decoder = createDecoder({ codec, sampleRate, channels: 1 });
      return { decode: (b) => ({ ok: true, pcm: decoder.decode(b) }) };
    }
    case "opus": {
      const decoder = createDecoder({ codec, sampleRate, channels: 1 });
      return { decode: (b) => decodeOpus(decoder, b) };
    }
  }
}

function decodeOpus(decoder: Decoder, packet: Buffer): Decoded {
  // libopus takes an empty packet as "lost" and invents audio for it.
  if (packet.length === 0) return { ok: false, problem: "an empty Opus packet: send one raw Opus packet (no Ogg) per append" };
  // Checked before decoding, so a rejected packet leaves the decoder's state alone.
  const ms = opusPacketMs(packet);
  if (ms !== null && !OPUS_UPLINK_MS.includes(ms)) {
    return { ok: false, problem: `an Opus packet of ${ms} ms: send ${OPUS_UPLINK_MS.join(" or ")} ms frames, one packet per append` };
  }
  try {
    return { ok: true, pcm: decoder.decode(packet) };
  } catch (err) {
    return {
      ok: false,
      problem: `an Opus packet of ${packet.length} bytes does not decode (${(err as Error).message}): send one raw Opus packet (no Ogg, no length prefix) per append`,
    };
  }
}

/** Frame durations by TOC config (RFC 6716 §3.1): SILK 0–11, hybrid 12–15, CELT 16–31. */
function opusFrameMs(config: number): number {
  if (config < 12) return [10, 20, 40, 60][config % 4] as number;
  if (config < 16) return [10, 20][config % 2] as number;
  return [2.5, 5, 10, 20][config % 4] as number;
}

/** The audio a packet holds, from its TOC byte (and frame count byte); null if it is too short to say. */
function opusPacketMs(packet: Buffer): number | null {
  const toc = packet[0] as number;
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : packet.length > 1 ? (packet[1] as number) & 0x3f : null;
  return frames === null ? null : frames * opusFrameMs(toc >> 3);
}
