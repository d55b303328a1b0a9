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
