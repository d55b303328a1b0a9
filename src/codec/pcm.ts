/** PCM: the wire payload is the mono S16_LE samples themselves. */
import type { CodecImpl, Decoder } from "./types";

export const pcm: CodecImpl = {
  encoder: () => (b) => b,
  decoder: () => pcmDecoder(),
};

/**
 * 16-bit PCM split anywhere: a payload with an odd byte count keeps its last byte
 * for the next one, so every later sample stays aligned.
 */
function pcmDecoder(): Decoder {
  let carry: Buffer | null = null;
  return {
    decode(b) {
      const joined = carry ? Buffer.concat([carry, b]) : b;
      carry = joined.length % 2 === 1 ? Buffer.from(joined.subarray(joined.length - 1)) : null;
      return carry ? joined.subarray(0, joined.length - 1) : joined;
    },
    reset() {
      carry = null;
    },
  };
}
