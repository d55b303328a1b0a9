/**
 * WebRTC's voice activity detector (libfvad, compiled to WASM) on 20 ms frames of
 * 16 kHz PCM. The WASM module loads once per process; each detector is a handle in it.
 */
import type { FvadModule } from "@echogarden/fvad-wasm";

export const VAD_RATE = 16000;
export const VAD_FRAME_MS = 20;
export const VAD_FRAME_SAMPLES = (VAD_RATE * VAD_FRAME_MS) / 1000;
/**
 * libfvad's aggressiveness, 0..3. 3 calls the fewest noise frames speech: a fan or a hum
 * near a developer's microphone should not end every reply. Speech onsets it misses are
 * covered by prefix_padding_ms.
 */
const VAD_MODE = 3;

export interface Vad {
  /** One frame of exactly VAD_FRAME_SAMPLES mono S16_LE samples at VAD_RATE. */
  isSpeech(frame: Buffer): boolean;
  close(): void;
}

let fvadModule: Promise<FvadModule> | null = null;

function loadFvad(): Promise<FvadModule> {
  // The package is an ES module; a dynamic import is how CommonJS code loads one.
  fvadModule ??= import("@echogarden/fvad-wasm").then((m) => m.default()).catch((err: unknown) => {
    fvadModule = null;
    throw err;
  });
  return fvadModule;
}

export async function createVad(): Promise<Vad> {
  const m = await loadFvad();
  const handle = m._fvad_new();
  if (handle === 0) throw new Error("libfvad could not allocate a detector");
  if (m._fvad_set_mode(handle, VAD_MODE) !== 0 || m._fvad_set_sample_rate(handle, VAD_RATE) !== 0) {
    m._fvad_free(handle);
    throw new Error(`libfvad refused mode ${VAD_MODE} at ${VAD_RATE} Hz`);
  }
  const ptr = m._malloc(VAD_FRAME_SAMPLES * 2);
  let closed = false;
  return {
    isSpeech(frame) {
      if (closed) throw new Error("the VAD is closed");
      if (frame.length !== VAD_FRAME_SAMPLES * 2) throw new Error(`a VAD frame is ${VAD_FRAME_SAMPLES * 2} bytes, not ${frame.length}`);
      const heap = m.HEAP16;
      for (let i = 0; i < VAD_FRAME_SAMPLES; i++) heap[(ptr >> 1) + i] = frame.readInt16LE(i * 2);
      const r = m._fvad_process(handle, ptr, VAD_FRAME_SAMPLES);
      if (r < 0) throw new Error("libfvad rejected a frame");
      return r === 1;
    },
    close() {
      if (closed) return;
      closed = true;
      m._free(ptr);
      m._fvad_free(handle);
    },
  };
}
