/**
 * Free conversation on a backend without server VAD (the Volcengine AI gateway): the
 * device decides turns itself, with the same VAD, prefix padding and silence rule as
 * the emulator's server_vad, and gives the conversation the facts a server VAD gives
 * (speech started / stopped) plus exactly the audio that belongs to the turn.
 *
 * Audio is sent only while the user speaks: `speech.started` carries the prefix
 * padding and the speech heard while deciding, each later chunk of the turn comes as
 * `speech.audio`, and `speech.stopped` means "commit now".
 *
 * Echo-gating rules: audio pushed with `gated` is taken as silence — it cannot start
 * a turn (the device never hears itself), ends one in progress after the silence
 * time like a server VAD hearing the gate's silence, and goes out as silence. With
 * `echo: none` nothing is gated, so speech over a reply starts a turn: barge-in.
 *
 * Time is counted in audio samples, not on a clock: the mic's sample count is exact,
 * timers jitter with the event loop.
 */
import { DEFAULT_VAD_MODE, type VadMode } from "../vad/fvad";
import { SpeechSegmenter } from "../vad/segmenter";
import { VoiceFrames } from "../vad/voice-frames";

/** Voiced time before a turn starts: a click, a knock or a cough-sized burst is not a turn. */
export const DEFAULT_MIN_SPEECH_MS = 200;
/**
 * Unvoiced time allowed inside that voiced time: aggressiveness 3 drops single frames
 * inside soft speech. Clicks (the VAD calls about 80 ms of one voiced) spaced wider
 * than this still never add up to a turn.
 */
export const START_GAP_MS = 40;
/** Audio kept beyond the prefix padding: the VAD frame in progress and a resampler's delay. */
const HISTORY_MARGIN_MS = 100;

export interface LocalTurnOptions {
  /** Rate of the pushed PCM: the uplink's wire rate. */
  sampleRate: number;
  /** Audio from before the speech onset sent with the turn (conversation.vad.prefix_padding_ms). */
  prefixPaddingMs: number;
  /** Silence that ends a turn (conversation.vad.silence_duration_ms). */
  silenceDurationMs: number;
  minSpeechMs?: number;
  /** libfvad's aggressiveness, 0..3 (default 3: the fewest noise frames called speech). */
  aggressiveness?: VadMode;
}

export type LocalTurnEvent =
  /**
   * The user started speaking. `prefix`: the turn's audio so far, oldest first, to send
   * now — the prefix padding and the speech heard while deciding, as whole pushed chunks
   * (so up to one chunk more padding than asked), the chunk just pushed last.
   */
  | { type: "speech.started"; prefix: Buffer[] }
  /** The chunk just pushed belongs to the turn: send it (silence if it was gated). */
  | { type: "speech.audio"; pcm: Buffer }
  /** Silence for silenceDurationMs: commit the turn and ask for the reply. */
  | { type: "speech.stopped" };

interface Chunk {
  /** Input sample index of the chunk's first sample. */
  start: number;
  pcm: Buffer;
}

export class LocalTurnDetector {
  /** Audio since the last turn ended, trimmed to what a prefix can need; empty during a turn. */
  private history: Chunk[] = [];
  private received = 0;
  private readonly segmenter: SpeechSegmenter;
  private readonly prefixSamples: number;
  private readonly marginSamples: number;

  static async create(options: LocalTurnOptions): Promise<LocalTurnDetector> {
    for (const key of ["prefixPaddingMs", "silenceDurationMs", "minSpeechMs"] as const) {
      const v = options[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`local VAD: ${key} must be a number of milliseconds >= 0, not ${v}`);
    }
    const frames = await VoiceFrames.create({ inputRate: options.sampleRate, mode: options.aggressiveness ?? DEFAULT_VAD_MODE });
    return new LocalTurnDetector(options, frames);
  }

  private constructor(
    options: LocalTurnOptions,
    private readonly frames: VoiceFrames,
  ) {
    this.segmenter = new SpeechSegmenter({
      frameMs: frames.frameMs,
      startMs: options.minSpeechMs ?? DEFAULT_MIN_SPEECH_MS,
      startGapMs: START_GAP_MS,
      stopMs: options.silenceDurationMs,
    });
    this.prefixSamples = Math.round((options.prefixPaddingMs * options.sampleRate) / 1000);
    this.marginSamples = Math.round((HISTORY_MARGIN_MS * options.sampleRate) / 1000);
  }

  /** A turn is in progress (between speech.started and speech.stopped). */
  get speaking(): boolean {
    return this.segmenter.speaking;
  }

  /**
   * One chunk of the mic, mono S16_LE at the sample rate (the uplink's frames, any
   * size); `gated`: the echo gate is closed. Returns what to do, in order.
   */
  push(pcm: Buffer | Int16Array, gated: boolean): LocalTurnEvent[] {
    const bytes = Buffer.isBuffer(pcm) ? pcm : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    if (bytes.length % 2 !== 0) throw new Error(`local VAD: a chunk of mono S16 PCM has an even number of bytes, not ${bytes.length}`);
    if (bytes.length === 0) return [];
    // Gated audio is replaced, not just flagged: echo must not leak into a prefix, a turn or the VAD.
    const chunk: Chunk = { start: this.received, pcm: gated ? Buffer.alloc(bytes.length) : bytes };
    this.received += bytes.length >> 1;
    const out: LocalTurnEvent[] = [];
    /** The chunk has gone out with a turn (as its prefix, or as the end of one). */
    let sent = false;
    const wasSpeaking = this.segmenter.speaking;
    this.frames.push(chunk.pcm, gated, (voiced, frame) => {
      const segment = this.segmenter.frame(voiced, frame);
      if (segment?.type === "start") {
        const from = this.frames.inputSampleAt(segment.runStart) - this.prefixSamples;
        const prefix = this.history.filter((c) => c.start + (c.pcm.length >> 1) > from).map((c) => c.pcm);
        out.push({ type: "speech.started", prefix: [...prefix, chunk.pcm] });
        this.history = [];
        sent = true;
      } else if (segment?.type === "stop") {
        if (!sent) out.push({ type: "speech.audio", pcm: chunk.pcm });
        out.push({ type: "speech.stopped" });
        this.history = [];
        sent = true;
      }
    });
    if (sent) return out;
    if (wasSpeaking) return [{ type: "speech.audio", pcm: chunk.pcm }];
    // Kept for a prefix: a copy, since the caller may reuse its buffer.
    this.history.push(gated ? chunk : { start: chunk.start, pcm: Buffer.from(bytes) });
    this.trim();
    return out;
  }

  /**
   * Forgets the turn in progress (no speech.stopped follows), the kept audio and what
   * the VAD learnt: the mic stream stopped or restarted (mute, link down, mode switch),
   * or the conversation ended the turn itself (max_turn_ms).
   */
  reset(): void {
    this.segmenter.reset();
    this.frames.reset();
    this.history = [];
    this.received = 0;
  }

  close(): void {
    this.frames.close();
  }

  private trim(): void {
    const runStart = this.segmenter.runStart;
    const runFrom = runStart === null ? this.received : this.frames.inputSampleAt(runStart);
    const keepFrom = Math.min(this.received, runFrom) - this.prefixSamples - this.marginSamples;
    let drop = 0;
    while (drop < this.history.length) {
      const c = this.history[drop] as Chunk;
      if (c.start + (c.pcm.length >> 1) > keepFrom) break;
      drop++;
    }
    if (drop > 0) this.history.splice(0, drop);
  }
}
