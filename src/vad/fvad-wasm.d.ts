/** The parts of @echogarden/fvad-wasm (libfvad compiled by Emscripten; it ships no types) that src/vad/fvad.ts uses. */
declare module "@echogarden/fvad-wasm" {
  export interface FvadModule {
    /** Returns a handle, 0 when out of memory. */
    _fvad_new(): number;
    _fvad_free(handle: number): void;
    /** Clears the detector's state and sets its mode and rate back to the defaults (0, 8000 Hz). */
    _fvad_reset(handle: number): void;
    /** 0 ok, -1 for a mode outside 0..3. */
    _fvad_set_mode(handle: number, mode: number): number;
    /** 0 ok, -1 for a rate other than 8000/16000/32000/48000. */
    _fvad_set_sample_rate(handle: number, rate: number): number;
    /** 1 voiced, 0 unvoiced, -1 for a length that is not 10, 20 or 30 ms. */
    _fvad_process(handle: number, samplesPtr: number, length: number): number;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    /** Replaced when the WASM memory grows: read it afresh on every use. */
    HEAP16: Int16Array;
  }
  const load: () => Promise<FvadModule>;
  export default load;
}
