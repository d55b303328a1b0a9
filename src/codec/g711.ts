/** G.711 A-law / µ-law at 8000 Hz, through alawmulaw (which wants Int16Array, not Buffer). */
import { alaw, mulaw } from "alawmulaw";
import { fromInt16, int16 } from "./pcm16";


export const g711 = {
  g711a: { encode: (pcm: Buffer) => Buffer.from(alaw.encode(int16(pcm))), decode: (b: Buffer) => fromInt16(alaw.decode(b)) },
  g711u: { encode: (pcm: Buffer) => Buffer.from(mulaw.encode(int16(pcm))), decode: (b: Buffer) => fromInt16(mulaw.decode(b)) },
};
