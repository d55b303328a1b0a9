/** The VAD moved to src/audio/vad/ (the device's local turn detection uses it too); kept for the emulator's imports. */
export { VAD_FRAME_MS, VAD_FRAME_SAMPLES, VAD_RATE, createVad, type Vad } from "../audio/vad/fvad";
