/**
 * The device's local turn detection with the real VAD (WebRTC's, in WASM) on real
 * speech (boards/sim/speech-16k.raw). Speech onsets and ends are found by energy in
 * the audio itself, never hard-coded; bounds carry the VAD's frame size and hangover.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EchoGate } from "../../src/device/echo-gate";
import { DEFAULT_MIN_SPEECH_MS, LocalTurnDetector, START_GAP_MS, type LocalTurnOptions } from "../../src/device/local-turns";
import { FakeClock } from "../support/fake-clock";
import { samples } from "../support/signal";
import { SPEECH_16K, resampleAll, silence, speechLoop } from "../support/speech";

const VAD_FRAME_MS = 20;
/** WebRTC's VAD keeps calling frames voiced for a while after speech ends (its hangover). */
const VAD_HANGOVER_MAX_MS = 200;
/** Where the VAD and an energy threshold put an onset may differ by a couple of frames. */
const ONSET_SLACK_MS = 2 * VAD_FRAME_MS;

interface Seen {
  type: "speech.started" | "speech.stopped";
  /** Sample index just after the chunk whose push returned it. */
  at: number;
  /** speech.started: samples in its prefix. */
  prefixSamples?: number;
}

interface Run {
  seen: Seen[];
  /** Each turn's audio as the conversation would send it: prefix, then every speech.audio. */
  turns: Buffer[];
  /** Where each turn's audio begins in the pushed stream (sample index). */
  turnStarts: number[];
}

/** Pushes `pcm` in chunks of `chunkSamples`; `gated(i)` says whether chunk i is gated. */
function feed(d: LocalTurnDetector, pcm: Buffer, chunkSamples: number, gated: (chunk: number) => boolean = () => false, offset = 0): Run {
  const run: Run = { seen: [], turns: [], turnStarts: [] };
  let current: Buffer[] | null = null;
  let n = 0;
  for (let off = 0; off < pcm.length; off += chunkSamples * 2, n++) {
    const chunk = pcm.subarray(off, Math.min(pcm.length, off + chunkSamples * 2));
    const at = offset + (off + chunk.length) / 2;
    for (const ev of d.push(chunk, gated(n))) {
      if (ev.type === "speech.started") {
        const prefixSamples = ev.prefix.reduce((s, b) => s + b.length / 2, 0);
        run.seen.push({ type: ev.type, at, prefixSamples });
        run.turnStarts.push(at - prefixSamples);
        current = [...ev.prefix];
      } else if (ev.type === "speech.audio") {
        assert.ok(current, "speech.audio outside a turn");
        current.push(ev.pcm);
      } else {
        assert.ok(current, "speech.stopped outside a turn");
        run.seen.push({ type: ev.type, at });
        run.turns.push(Buffer.concat(current));
        current = null;
      }
    }
  }
  if (current) run.turns.push(Buffer.concat(current));
  return run;
}

/** First and last 10 ms window above -40 dBFS: where the speech really begins and ends (sample indexes). */
function speechBounds(pcm: Buffer, rate: number): { onset: number; end: number } {
  const x = samples(pcm);
  const win = rate / 100;
  let onset = -1;
  let end = -1;
  for (let i = 0; i + win <= x.length; i += win) {
    let s = 0;
    for (let j = i; j < i + win; j++) s += x[j]! * x[j]!;
    if (Math.sqrt(s / win) > 0.01) {
      if (onset < 0) onset = i;
      end = i + win;
    }
  }
  assert.ok(onset >= 0, "the fixture holds no speech");
  return { onset, end };
}

function noise(rate: number, seconds: number, dbfs: number, seed = 1): Buffer {
  const n = Math.round(rate * seconds);
  const out = Buffer.alloc(n * 2);
  const amp = 10 ** (dbfs / 20) * 32767 * Math.sqrt(12);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    out.writeInt16LE(Math.round((seed / 2 ** 31 - 0.5) * amp), i * 2);
  }
  return out;
}

/** A 5 ms decaying full-scale crackle: a knock on the case, a switch. */
function click(rate: number): Buffer {
  const n = Math.round(rate * 0.005);
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(20000 * Math.exp(-i / (n / 3)) * (i % 2 ? 1 : -1)), i * 2);
  return out;
}

const ms = (samplesN: number, rate: number): number => (samplesN * 1000) / rate;
const types = (r: Run): string[] => r.seen.map((s) => s.type);
const detector = (o: Partial<LocalTurnOptions> = {}): Promise<LocalTurnDetector> =>
  LocalTurnDetector.create({ sampleRate: 16000, prefixPaddingMs: 600, silenceDurationMs: 500, ...o });

describe("local VAD turn detection", () => {
  const CASES = [
    { name: "16 kHz in 20 ms chunks, default padding and silence", rate: 16000, chunkMs: 20, prefixMs: 600, silenceMs: 500 },
    { name: "16 kHz in 7 ms chunks, prefix 200 ms, silence 300 ms", rate: 16000, chunkMs: 7, prefixMs: 200, silenceMs: 300 },
    { name: "8 kHz (G.711) in 20 ms chunks, prefix 300 ms, silence 800 ms", rate: 8000, chunkMs: 20, prefixMs: 300, silenceMs: 800 },
    { name: "24 kHz (resampled for the VAD) in 40 ms chunks, prefix 400 ms", rate: 24000, chunkMs: 40, prefixMs: 400, silenceMs: 500 },
    { name: "48 kHz in 10 ms chunks, prefix 0", rate: 48000, chunkMs: 10, prefixMs: 0, silenceMs: 500 },
  ];

  for (const k of CASES) {
    test(`${k.name}: started after min speech, prefix padding, stopped after the silence, the turn's audio whole`, async (t) => {
      const speech = k.rate === 16000 ? SPEECH_16K : await resampleAll(SPEECH_16K, 16000, k.rate);
      const lead = silence(k.rate, 1);
      const mic = Buffer.concat([lead, speech, silence(k.rate, (k.silenceMs + VAD_HANGOVER_MAX_MS) / 1000 + 0.5)]);
      const { onset, end } = speechBounds(mic, k.rate);
      const chunkSamples = Math.round((k.rate * k.chunkMs) / 1000);
      const d = await detector({ sampleRate: k.rate, prefixPaddingMs: k.prefixMs, silenceDurationMs: k.silenceMs });
      const r = feed(d, mic, chunkSamples);
      d.close();

      assert.deepEqual(types(r), ["speech.started", "speech.stopped"]);
      const [started, stopped] = r.seen as [Seen, Seen];
      const startMs = ms(started.at - onset, k.rate);
      const padMs = ms(onset - (r.turnStarts[0] as number), k.rate);
      const stopMs = ms(stopped.at - end, k.rate);
      t.diagnostic(`started ${startMs.toFixed(0)} ms after the onset with ${padMs.toFixed(0)} ms before it; stopped ${stopMs.toFixed(0)} ms after the speech ended`);

      // Not before min speech was heard (less what the VAD may call voiced ahead of the energy
      // threshold); not later than min speech plus the gaps it tolerates, a chunk and a frame.
      assert.ok(startMs >= DEFAULT_MIN_SPEECH_MS - ONSET_SLACK_MS, `started ${startMs} ms after the onset`);
      assert.ok(startMs <= DEFAULT_MIN_SPEECH_MS + START_GAP_MS + k.chunkMs + ONSET_SLACK_MS, `started ${startMs} ms after the onset`);
      // The padding reaches the asked time before the VAD's onset, rounded out to a whole chunk.
      assert.ok(padMs >= k.prefixMs - ONSET_SLACK_MS, `${padMs} ms before the onset, asked ${k.prefixMs}`);
      assert.ok(padMs <= k.prefixMs + k.chunkMs + ONSET_SLACK_MS, `${padMs} ms before the onset, asked ${k.prefixMs}`);
      assert.ok(stopMs >= k.silenceMs, `stopped ${stopMs} ms after the speech ended`);
      assert.ok(stopMs <= k.silenceMs + VAD_HANGOVER_MAX_MS + k.chunkMs, `stopped ${stopMs} ms after the speech ended`);

      // Exactly the stream from the prefix to the stop: nothing dropped, nothing twice.
      const from = r.turnStarts[0] as number;
      assert.ok(r.turns[0]?.equals(mic.subarray(from * 2, stopped.at * 2)), "the turn's audio is the mic's, contiguous");
      // Without padding, the turn may miss the little of the onset the VAD called unvoiced.
      assert.ok(from <= onset + (ONSET_SLACK_MS * k.rate) / 1000 && stopped.at >= end, "the turn holds the whole speech");
    });
  }

  test("several utterances with pauses longer than the silence: one turn each", async () => {
    const d = await detector({ silenceDurationMs: 500 });
    const mic = Buffer.concat([silence(16000, 0.5), speechLoop(12, 1.2)]);
    const repeats = Math.round((mic.length - 16000) / (SPEECH_16K.length + 1.2 * 32000));
    const r = feed(d, mic, 320);
    d.close();
    assert.ok(repeats >= 2);
    assert.deepEqual(types(r), Array.from({ length: repeats }, () => ["speech.started", "speech.stopped"]).flat());
    for (const turn of r.turns) assert.ok(turn.indexOf(SPEECH_16K) >= 0, "each turn holds the whole utterance");
  });

  test("silence, low noise and a hum: no turn", async () => {
    const hum = Buffer.alloc(16000 * 5 * 2);
    for (let i = 0; i < hum.length / 2; i++) hum.writeInt16LE(Math.round(1000 * (Math.sin((2 * Math.PI * 50 * i) / 16000) + 0.5 * Math.sin((2 * Math.PI * 150 * i) / 16000))), i * 2);
    for (const [name, pcm] of [
      ["silence", silence(16000, 5)],
      ["white noise at -50 dBFS", noise(16000, 5, -50)],
      ["white noise at -40 dBFS", noise(16000, 5, -40, 7)],
      ["a 50 Hz hum at -30 dBFS", hum],
    ] as const) {
      const d = await detector();
      const r = feed(d, pcm, 320);
      d.close();
      assert.deepEqual(types(r), [], name);
    }
  });

  test("clicks and a burst of speech shorter than min speech: no turn; a lower min speech takes the burst", async () => {
    const { onset } = speechBounds(SPEECH_16K, 16000);
    const burst = SPEECH_16K.subarray(onset * 2, (onset + 1600) * 2); // 100 ms of the real speech
    const parts: Buffer[] = [silence(16000, 0.5)];
    for (let i = 0; i < 6; i++) parts.push(click(16000), silence(16000, 0.3));
    parts.push(silence(16000, 0.5), burst, silence(16000, 1));
    const mic = Buffer.concat(parts);

    const d = await detector();
    assert.deepEqual(types(feed(d, mic, 320)), []);
    // The same detector still takes real speech afterwards.
    assert.deepEqual(types(feed(d, Buffer.concat([SPEECH_16K, silence(16000, 1)]), 320)), ["speech.started", "speech.stopped"]);
    d.close();

    const eager = await detector({ minSpeechMs: 60 });
    assert.ok(types(feed(eager, mic, 320)).includes("speech.started"), "with min speech 60 ms the burst is a turn: min speech is what kept it out");
    eager.close();
  });

  test("echo gate: no turn while it is closed (reply and tail); the speech after it opens is one, its prefix silent where it was gated", async () => {
    const clock = new FakeClock();
    const gate = new EchoGate("gate", 300, clock);
    const d = await detector();
    const CHUNK_MS = 20;
    // The agent's reply plays over 3 s of the user talking; then the user keeps talking.
    const mic = Buffer.concat([speechLoop(3, 0.2).subarray(0, 3 * 32000), SPEECH_16K, silence(16000, 1)]);
    const drainAt = 3000 - 400;
    gate.playbackStarted();
    const gatedChunks: boolean[] = [];
    const r = feed(d, mic, 320, (i) => {
      if (i * CHUNK_MS === drainAt) gate.playbackDrained();
      const closed = gate.closed;
      gatedChunks.push(closed);
      clock.advance(CHUNK_MS);
      return closed;
    });
    d.close();
    const openChunk = gatedChunks.indexOf(false);
    assert.equal(openChunk * CHUNK_MS, drainAt + 300, "the gate opens after the tail");
    assert.deepEqual(types(r), ["speech.started", "speech.stopped"]);
    const openAt = openChunk * 320;
    const startedAt = (r.seen[0] as Seen).at;
    assert.ok(startedAt - openAt >= (DEFAULT_MIN_SPEECH_MS - VAD_FRAME_MS) * 16, `started ${(startedAt - openAt) / 16} ms after the gate opened`);
    const from = r.turnStarts[0] as number;
    const turn = r.turns[0] as Buffer;
    assert.ok(from < openAt, "the prefix reaches back into the gated time");
    assert.ok(turn.subarray(0, (openAt - from) * 2).every((b) => b === 0), "gated audio goes out as silence");
    assert.ok(turn.subarray((openAt - from) * 2).equals(mic.subarray(openAt * 2, (r.seen[1] as Seen).at * 2)), "after the gate opened, the mic as it is");
  });

  test("speech over a reply: gated, nothing; echo none (AEC board), barge-in", async () => {
    const mic = Buffer.concat([silence(16000, 0.5), SPEECH_16K, silence(16000, 1)]);
    const results: Record<string, string[]> = {};
    for (const mode of ["gate", "none"] as const) {
      const gate = new EchoGate(mode, 300, new FakeClock());
      gate.playbackStarted();
      const d = await detector();
      results[mode] = types(feed(d, mic, 320, () => gate.closed));
      d.close();
    }
    assert.deepEqual(results, { gate: [], none: ["speech.started", "speech.stopped"] });
  });

  test("the gate closing mid-turn ends the turn after the silence time, the rest sent as silence", async () => {
    const d = await detector({ silenceDurationMs: 400 });
    const mic = Buffer.concat([silence(16000, 0.5), speechLoop(4, 0.1)]);
    const closeChunk = 75; // 1.5 s in: well inside the speech
    const r = feed(d, mic, 320, (i) => i >= closeChunk);
    d.close();
    assert.equal(types(r).slice(0, 2).join(), "speech.started,speech.stopped");
    assert.equal((r.seen[1] as Seen).at, (closeChunk + 400 / VAD_FRAME_MS) * 320, "stopped exactly 400 ms of gated audio later");
    const turn = r.turns[0] as Buffer;
    const gatedFrom = (closeChunk * 320 - (r.turnStarts[0] as number)) * 2;
    assert.ok(turn.subarray(0, gatedFrom).equals(mic.subarray((r.turnStarts[0] as number) * 2, closeChunk * 640)));
    assert.ok(turn.subarray(gatedFrom).every((b) => b === 0));
    assert.equal(r.seen.length, 2, "no turn while gated");
  });

  test("reset() ends a turn without speech.stopped and forgets a voiced run and the kept audio", async () => {
    const { onset } = speechBounds(SPEECH_16K, 16000);
    const speech = SPEECH_16K.subarray(onset * 2);
    const d = await detector();

    // A turn in progress: after reset, its silence neither stops it nor is sent.
    const first = feed(d, Buffer.concat([silence(16000, 1), speech.subarray(0, 16000 * 2)]), 320);
    assert.deepEqual(types(first), ["speech.started"]);
    assert.ok(d.speaking);
    d.reset();
    assert.equal(d.speaking, false);
    const after = feed(d, silence(16000, 2), 320);
    assert.deepEqual([types(after), after.turns], [[], []]);

    // A voiced run short of min speech, then reset: the rest of it counts from zero. Each half
    // is 10 frames; with the VAD's hangover (at most 5 frames) the second stays short of 16.
    const part = (fromMs: number, toMs: number): Buffer => speech.subarray(fromMs * 32, toMs * 32);
    const control = await detector({ minSpeechMs: 320 });
    assert.deepEqual(types(feed(control, Buffer.concat([part(0, 200), part(200, 400), silence(16000, 1)]), 320)), ["speech.started", "speech.stopped"]);
    control.close();
    const short = await detector({ minSpeechMs: 320 });
    assert.deepEqual(types(feed(short, part(0, 200), 320)), []);
    short.reset();
    assert.deepEqual(types(feed(short, Buffer.concat([part(200, 400), silence(16000, 1)]), 320)), []);
    short.close();

    // Audio from before a reset never goes into a prefix.
    feed(d, noise(16000, 1, -45), 320);
    d.reset();
    const r = feed(d, Buffer.concat([silence(16000, 0.1), speech, silence(16000, 1)]), 320);
    assert.deepEqual(types(r), ["speech.started", "speech.stopped"]);
    assert.equal(r.turnStarts[0], 0, "the prefix begins at the reset, not before");
    d.close();
  });

  test("Int16Array chunks work like Buffers; an odd byte count is refused with a clear error", async () => {
    const whole = Buffer.concat([silence(16000, 0.5), SPEECH_16K, silence(16000, 1)]);
    const mic = whole.subarray(0, whole.length - (whole.length % 640));
    const a = await detector();
    const b = await detector();
    const fromBuffers = feed(a, mic, 320).turns;
    const fromArrays: Buffer[] = [];
    let current: Buffer[] = [];
    for (let off = 0; off < mic.length; off += 640) {
      const copy = new Int16Array(320);
      for (let i = 0; i < 320; i++) copy[i] = mic.readInt16LE(off + i * 2);
      for (const ev of b.push(copy, false)) {
        if (ev.type === "speech.started") current = ev.prefix.map((p) => Buffer.from(p));
        else if (ev.type === "speech.audio") current.push(Buffer.from(ev.pcm));
        else fromArrays.push(Buffer.concat(current));
      }
    }
    assert.equal(fromBuffers.length, 1);
    assert.deepEqual(fromArrays, fromBuffers);
    assert.throws(() => a.push(Buffer.alloc(641), false), /even number of bytes/);
    a.close();
    b.close();
  });

  test("options the VAD cannot run with are refused at creation", async () => {
    await assert.rejects(detector({ prefixPaddingMs: -1 }), /prefixPaddingMs/);
    await assert.rejects(detector({ sampleRate: 0 }), /sample rate/);
    await assert.rejects(detector({ aggressiveness: 4 as 3 }), /refused mode 4/);
  });
});
