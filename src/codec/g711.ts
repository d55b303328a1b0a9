/** G.711 A-law / µ-law at 8000 Hz, through alawmulaw (which wants Int16Array, not Buffer). */
import { alaw, mulaw } from "alawmulaw";
import { fromInt16, int16 } from "./pcm16";
import type { CodecImpl } from "./types";

export const g711a: CodecImpl = {
  encoder: () => (pcm) => Buffer.from(alaw.encode(int16(pcm))),
  decoder: () => ({ decode: (b) => fromInt16(alaw.decode(b)) }),
};

export const g711u: CodecImpl = {
  encoder: () => (pcm) => Buffer.from(mulaw.encode(int16(pcm))),
  decoder: () => ({ decode: (b) => fromInt16(mulaw.decode(b)) }),
};
