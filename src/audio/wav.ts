/** Just enough WAV for fixtures and the file-backed speaker: 16/32-bit integer PCM. */
import { bytesPerFrame, bytesPerSample, type PcmFormat } from "../core/pcm";

export function wavHeader(format: PcmFormat, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * bytesPerFrame(format), 28);
  h.writeUInt16LE(bytesPerFrame(format), 32);
  h.writeUInt16LE(bytesPerSample(format) * 8, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** The PCM payload of a WAV file, or the whole buffer when it is raw PCM. */
export function readPcmFile(buf: Buffer): Buffer {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") return buf;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === "fmt ") {
      const bits = buf.readUInt16LE(off + 8 + 14);
      const codec = buf.readUInt16LE(off + 8);
      if (codec !== 1 || bits !== 16) throw new Error("only 16-bit PCM WAV files are supported");
    }
    if (id === "data") return buf.subarray(off + 8, Math.min(buf.length, off + 8 + size));
    off += 8 + size + (size & 1);
  }
  throw new Error("WAV file has no data chunk");
}

/** A 16-bit PCM WAV file's audio and layout. */
export interface Wav {
  sampleRate: number;
  channels: number;
  /** Interleaved S16_LE. */
  pcm: Buffer;
}

/** Reads a 16-bit PCM WAV file; throws saying what is wrong with it. */
export function parseWav(buf: Buffer): Wav {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") throw new Error("not a WAV file (no RIFF/WAVE header)");
  let fmt: { sampleRate: number; channels: number } | null = null;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === "fmt ") {
      if (size < 16 || off + 8 + 16 > buf.length) throw new Error("its fmt chunk is cut short");
      const codec = buf.readUInt16LE(off + 8);
      const channels = buf.readUInt16LE(off + 10);
      const sampleRate = buf.readUInt32LE(off + 12);
      const bits = buf.readUInt16LE(off + 22);
      // 0xFFFE (extensible) carries plain PCM too; its sub-format is not checked beyond the bits.
      if ((codec !== 1 && codec !== 0xfffe) || bits !== 16) throw new Error(`it is not 16-bit PCM (format ${codec}, ${bits} bits)`);
      if (channels < 1 || channels > 2) throw new Error(`it has ${channels} channels (1 or 2 are played)`);
      if (sampleRate < 8000 || sampleRate > 48000) throw new Error(`its rate is ${sampleRate} Hz (8000–48000 are played)`);
      fmt = { sampleRate, channels };
    }
    if (id === "data") {
      if (!fmt) throw new Error("its data chunk comes before the fmt chunk");
      const end = Math.min(buf.length, off + 8 + size);
      const frame = 2 * fmt.channels;
      const body = buf.subarray(off + 8, end);
      return { ...fmt, pcm: body.subarray(0, body.length - (body.length % frame)) };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error("it has no data chunk");
}
