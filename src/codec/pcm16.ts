/**
 * Device sample layout ↔ the mono S16_LE PCM the codecs and resamplers work on.
 * Some boards only do stereo S32_LE (the AIY Voice HAT); the rest of the pipeline
 * never sees that.
 */
import { bytesPerFrame, type PcmFormat } from "../core/pcm";

export function isMonoS16(f: PcmFormat): boolean {
  return f.channels === 1 && f.sampleFormat !== "S32_LE";
}

/** Averages the channels into one; S32 keeps its top 16 bits (rounded). */
export function toMonoS16(buf: Buffer, l: PcmFormat): Buffer {
  if (isMonoS16(l)) return buf;
  const frameBytes = bytesPerFrame(l);
  const frames = Math.floor(buf.length / frameBytes);
  const out = Buffer.allocUnsafe(frames * 2);
  const wide = l.sampleFormat === "S32_LE";
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < l.channels; c++) {
      const off = f * frameBytes + c * (wide ? 4 : 2);
      sum += wide ? buf.readInt32LE(off) / 65536 : buf.readInt16LE(off);
    }
    out.writeInt16LE(clamp16(Math.round(sum / l.channels)), f * 2);
  }
  return out;
}

/** Copies mono S16 into every channel of the device layout. */
export function fromMonoS16(buf: Buffer, l: PcmFormat): Buffer {
  if (isMonoS16(l)) return buf;
  const samples = buf.length >> 1;
  const wide = l.sampleFormat === "S32_LE";
  const sampleBytes = wide ? 4 : 2;
  const out = Buffer.allocUnsafe(samples * l.channels * sampleBytes);
  let off = 0;
  for (let i = 0; i < samples; i++) {
    const s = buf.readInt16LE(i * 2);
    for (let c = 0; c < l.channels; c++) {
      if (wide) out.writeInt32LE(s * 65536, off);
      else out.writeInt16LE(s, off);
      off += sampleBytes;
    }
  }
  return out;
}

/** A view of S16_LE samples (copied when the Buffer sits at an odd offset, which Int16Array cannot view). */
export function int16(pcm: Buffer): Int16Array {
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  // Not Buffer.from(pcm).buffer: a small copy lands in the shared pool, at an offset of its own.
  const copy = new Int16Array(pcm.length >> 1);
  new Uint8Array(copy.buffer).set(pcm.subarray(0, copy.length * 2));
  return copy;
}

export function fromInt16(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

export function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
