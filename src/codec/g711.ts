/** G.711 A-law / µ-law at 8000 Hz, through alawmulaw (which wants Int16Array, not Buffer). */
import { alaw, mulaw } from "alawmulaw";

export function int16(pcm: Buffer): Int16Array {
  // A Buffer's byteOffset may be odd (a slice of a pooled buffer); Int16Array needs it even.
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  return new Int16Array(Buffer.from(pcm).buffer, 0, pcm.length >> 1);
}

export function fromInt16(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

export const g711 = {
  g711a: { encode: (pcm: Buffer) => Buffer.from(alaw.encode(int16(pcm))), decode: (b: Buffer) => fromInt16(alaw.decode(b)) },
  g711u: { encode: (pcm: Buffer) => Buffer.from(mulaw.encode(int16(pcm))), decode: (b: Buffer) => fromInt16(mulaw.decode(b)) },
};
