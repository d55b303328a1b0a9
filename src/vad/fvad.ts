/**
 * WebRTC's voice activity detector (libfvad, compiled to WASM): one decision per
 * 10, 20 or 30 ms frame of mono S16 PCM at 8, 16, 32 or 48 kHz. The WASM module
 * loads once per process; each detector is a handle in it.
 */
import type { FvadModule } from "@echogarden/fvad-wasm";

/** The rates libfvad takes as they are (it analyses 80 Hz..4 kHz of each internally). */
export const FVAD_RATES: readonly number[] = [8000, 16000, 32000, 48000];
export const FVAD_FRAME_MS: readonly number[] = [10, 20, 30];

/** The emulator's and the device's VAD frame: the uplink's frames are 20 ms too, so their boundaries line up. */
export const VAD_RATE = 16000;
export const VAD_FRAME_MS = 20;
export const VAD_FRAME_SAMPLES = (VAD_RATE * VAD_FRAME_MS) / 1000;

/** libfvad's aggressiveness: 0 calls the most frames speech, 3 the fewest. */
export type VadMode = 0 | 1 | 2 | 3;
/**
 * 3 calls the fewest noise frames speech: a fan or a hum near the microphone should
 * not end every reply or start a turn. Speech onsets it misses are covered by prefix padding.
 */
export const DEFAULT_VAD_MODE: VadMode = 3;

export interface VadOptions {
  sampleRate?: number;
  frameMs?: number;
  mode?: VadMode;
}

export interface Vad {
  readonly sampleRate: number;
  readonly frameSamples: number;
  /** One frame of exactly `frameSamples` mono S16_LE samples at `sampleRate`. */
  isSpeech(frame: Buffer): boolean;
  /** Forgets the noise and speech statistics it has learnt (a new audio stream). */
  reset(): void;
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

export async function createVad(options: VadOptions = {}): Promise<Vad> {
  const { sampleRate = VAD_RATE, frameMs = VAD_FRAME_MS, mode = DEFAULT_VAD_MODE } = options;
  if (!FVAD_RATES.includes(sampleRate)) throw new Error(`the VAD runs at ${FVAD_RATES.join(", ")} Hz, not ${sampleRate}; resample first`);
  if (!FVAD_FRAME_MS.includes(frameMs)) throw new Error(`a VAD frame is ${FVAD_FRAME_MS.join(", ")} ms long, not ${frameMs}`);
  const m = await loadFvad();
  const handle = m._fvad_new();
  if (handle === 0) throw new Error("libfvad could not allocate a detector");
  const configure = (): boolean => m._fvad_set_mode(handle, mode) === 0 && m._fvad_set_sample_rate(handle, sampleRate) === 0;
  if (!configure()) {
    m._fvad_free(handle);
    throw new Error(`libfvad refused mode ${mode} at ${sampleRate} Hz`);
  }
  const frameSamples = (sampleRate * frameMs) / 1000;
  const ptr = m._malloc(frameSamples * 2);
  let closed = false;
  return {
    sampleRate,
    frameSamples,
    isSpeech(frame) {
      if (closed) throw new Error("the VAD is closed");
      if (frame.length !== frameSamples * 2) throw new Error(`a VAD frame is ${frameSamples * 2} bytes, not ${frame.length}`);
      const heap = m.HEAP16;
      // Every board this runs on is little-endian, so an aligned frame copies as Int16 in one go.
      if ((frame.byteOffset & 1) === 0) heap.set(new Int16Array(frame.buffer, frame.byteOffset, frameSamples), ptr >> 1);
      else for (let i = 0; i < frameSamples; i++) heap[(ptr >> 1) + i] = frame.readInt16LE(i * 2);
      const r = m._fvad_process(handle, ptr, frameSamples);
      if (r < 0) throw new Error("libfvad rejected a frame");
      return r === 1;
    },
    reset() {
      if (closed) return;
      m._fvad_reset(handle);
      configure();
    },
    close() {
      if (closed) return;
      closed = true;
      m._free(ptr);
      m._fvad_free(handle);
    },
  };
}
