/** The VAD's parts shared by the emulator's server_vad and the device's local turn detection. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createVad } from "../../src/vad/fvad";
import { SpeechSegmenter, type Segment } from "../../src/vad/segmenter";
import { VoiceFrames } from "../../src/vad/voice-frames";
import { SPEECH_16K, resampleAll, silence } from "../support/speech";

/** Runs a pattern of frames ("#" voiced, "." unvoiced) through a segmenter; returns "frame:segment" for each decision. */
function segments(s: SpeechSegmenter, pattern: string): string[] {
  const out: string[] = [];
  [...pattern].forEach((c, i) => {
    const seg: Segment | null = s.frame(c === "#", i);
    if (seg) out.push(seg.type === "start" ? `${i}:start@${seg.runStart}` : `${i}:stop`);
  });
  return out;
}

function classify(frames: VoiceFrames, pcm: Buffer, chunkBytes: number, gated: (chunk: number) => boolean = () => false): string {
  let line = "";
  let n = 0;
  for (let off = 0; off < pcm.length; off += chunkBytes) frames.push(pcm.subarray(off, off + chunkBytes), gated(n++), (voiced) => (line += voiced ? "#" : "."));
  return line;
}

describe("speech segmenter", () => {
  test("voiced frames in a row start speech at the run's first frame; unvoiced ones in a row stop it", () => {
    const s = new SpeechSegmenter({ frameMs: 20, startMs: 60, startGapMs: 0, stopMs: 100 });
    assert.deepEqual(segments(s, "..##.###....#....."), ["7:start@5", "17:stop"]);
    assert.equal(s.speaking, false);
  });

  test("a gap tolerance lets short unvoiced stretches inside the start run count on; a longer gap starts over", () => {
    const pattern = "#.#.##..#.#.#.#.#";
    assert.deepEqual(segments(new SpeechSegmenter({ frameMs: 20, startMs: 100, startGapMs: 20, stopMs: 40 }), pattern), ["16:start@8"]);
    assert.deepEqual(segments(new SpeechSegmenter({ frameMs: 20, startMs: 100, startGapMs: 0, stopMs: 40 }), pattern), []);
  });

  test("reset forgets speech in progress and a run under way, without a stop", () => {
    const s = new SpeechSegmenter({ frameMs: 20, startMs: 60, startGapMs: 0, stopMs: 40 });
    assert.deepEqual(segments(s, "###"), ["2:start@0"]);
    s.reset();
    assert.deepEqual([s.speaking, segments(s, "......")], [false, []]);
    segments(s, "##");
    assert.equal(s.runStart, 0);
    s.reset();
    assert.deepEqual([s.runStart, segments(s, "#.")], [null, []]);
  });
});

describe("voice frames", () => {
  const speech = Buffer.concat([silence(16000, 0.3), SPEECH_16K, silence(16000, 0.5)]);

  test("rates the VAD takes are framed as they are; others are resampled; frame positions map back to input samples", async () => {
    for (const rate of [8000, 16000, 24000, 32000, 44100, 48000]) {
      const pcm = rate === 16000 ? speech : await resampleAll(speech, 16000, rate);
      const f = await VoiceFrames.create({ inputRate: rate });
      const line = classify(f, pcm, Math.round(rate / 50) * 2);
      f.close();
      assert.ok(Math.abs(line.length - Math.floor(pcm.length / 2 / (rate / 50))) <= 1, `${rate} Hz: ${line.length} frames`);
      assert.ok(line.slice(0, 10).includes(".") && line.includes("#".repeat(20)), `${rate} Hz: ${line}`);
      assert.equal(f.inputSampleAt(50), rate, `${rate} Hz: frame 50 begins 1 s in`);
    }
  });

  test("gated audio is unvoiced without asking the VAD, real speech included; a frame with any gated audio in it is gated", async () => {
    const f = await VoiceFrames.create({ inputRate: 16000 });
    assert.equal(classify(f, SPEECH_16K, 640, () => true), ".".repeat(Math.floor(SPEECH_16K.length / 640)));
    f.reset();
    // 30 ms chunks over 20 ms frames: chunk 2 (60..90 ms) is gated, so frames 3 (60..80) and 4 (80..100) are.
    const voiced = classify(f, SPEECH_16K.subarray(0, 16000 * 0.3 * 2), 960, (i) => i === 2);
    assert.equal(voiced.slice(3, 5), "..");
    assert.ok(voiced.slice(6).includes("#"), `the VAD hears the speech around it: ${voiced}`);
    f.reset();
    // Chunks on frame boundaries: only the gated chunk's own frame is gated.
    assert.equal(classify(f, SPEECH_16K.subarray(0, 16000 * 0.1 * 2), 640, (i) => i === 2), "##.##");
    f.close();
  });

  test("reset counts frames from zero again", async () => {
    const f = await VoiceFrames.create({ inputRate: 16000 });
    classify(f, silence(16000, 0.5), 500);
    assert.equal(f.frames, 25);
    f.reset();
    assert.equal(f.frames, 0);
    const seen: number[] = [];
    f.push(silence(16000, 0.05), false, (_, i) => seen.push(i));
    assert.deepEqual(seen, [0, 1]);
    f.close();
  });

  test("the VAD refuses rates and frame lengths libfvad does not take, saying what it takes", async () => {
    await assert.rejects(createVad({ sampleRate: 24000 }), /8000, 16000, 32000, 48000 Hz, not 24000; resample first/);
    await assert.rejects(createVad({ frameMs: 25 }), /10, 20, 30 ms long, not 25/);
    await assert.rejects(VoiceFrames.create({ inputRate: 1.5 }), /positive whole sample rate/);
  });
});
