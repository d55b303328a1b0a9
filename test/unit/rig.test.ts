/**
 * The test rig's virtual sound card (test/rig/rigpcm.c) behaves like hardware: real
 * arecord, aplay and speaker (libasound) run in real time against it, a played byte
 * reaches the output file when the card plays it, and a drop discards what was not
 * played. Timing bounds are loose; the byte checks are exact.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { noise, parseRigLog, startRig, type Rig } from "../rig/rig";

const RATE = 16000;
const BYTES_PER_S = RATE * 2; // S16_LE mono
const now = (): bigint => process.hrtime.bigint(); // CLOCK_MONOTONIC, as the rig's log
const msSince = (t: bigint, from: bigint): number => Number(t - from) / 1e6;

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  startNs: bigint;
  endNs: bigint;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, onSpawn?: (startNs: bigint) => void): Promise<Run> {
  const startNs = now();
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  onSpawn?.(startNs);
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr, startNs, endNs: now() }));
  });
}

type Speaker = import("speaker");

interface SpeakerLib {
  Speaker: new (opts: Record<string, unknown>) => Speaker;
  flush(handle: unknown): void;
}

/** speaker in this process, seeing the rig's devices (libasound reads the variable at each open). */
function loadSpeaker(rig: Rig): SpeakerLib {
  process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Speaker = require("speaker") as SpeakerLib["Speaker"];
  // The compiled addon speaker uses; its flush() is snd_pcm_drop + snd_pcm_prepare.
  const root = path.dirname(require.resolve("speaker/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require(path.join(root, "build", "Release", "binding.node")) as { flush(handle: unknown): void };
  return { Speaker, flush: (h) => binding.flush(h) };
}

/** speaker writing 20 ms at a time, like the daemon's player; it opens the device with a 500 ms buffer. */
function openSpeaker(lib: SpeakerLib, rig: Rig): Speaker {
  return new lib.Speaker({ channels: 1, bitDepth: 16, sampleRate: RATE, signed: true, device: rig.spkDevice, samplesPerFrame: RATE / 50 });
}

const write = (sp: Speaker, b: Buffer): Promise<void> =>
  new Promise((resolve, reject) => sp.write(b, (err) => (err ? reject(err) : resolve())));

const logOf = (rig: Rig) => parseRigLog(fs.readFileSync(path.join(rig.dir, "spk.log"), "utf8"));

/** aplay pads its last period with silence: the output is the input, then less than a period of zeros. */
function assertPlayed(out: Buffer, pcm: Buffer, periodBytes: number): void {
  assert.ok(out.subarray(0, pcm.length).equals(pcm), "the output is not exactly what aplay played");
  const pad = out.subarray(pcm.length);
  assert.ok(pad.length <= periodBytes && pad.every((b) => b === 0), `${pad.length} bytes after the input`);
}

describe("the rig's virtual sound card", { timeout: 15_000 }, () => {
  test("capture: arecord gets the input file in real time, then silence (never stale data)", async (t) => {
    const heard = noise(1.5 * BYTES_PER_S, 3);
    const rig = await startRig({ micPcm: heard, micRate: RATE, micSeconds: 1.5 });
    try {
      const r = await run(
        "arecord",
        ["-q", "-D", rig.micDevice, "-t", "raw", "-f", "S16_LE", "-r", String(RATE), "-c", "1", "-d", "2", "--period-time=20000", "--buffer-time=200000"],
        rig.env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, 2 * BYTES_PER_S);
      assert.ok(r.stdout.subarray(0, heard.length).equals(heard), "the capture is not the input file");
      assert.ok(r.stdout.subarray(heard.length).every((b) => b === 0), "after the input file ends the mic must hear silence");
      const ms = msSince(r.endNs, r.startNs);
      assert.ok(ms >= 1950 && ms < 2600, `2 s of capture took ${ms.toFixed(0)} ms`);
      t.diagnostic(`arecord -d 2 took ${ms.toFixed(1)} ms`);
      const chunks = rig.micTimes();
      assert.equal(chunks.reduce((n, [, , len]) => n + len, 0), 2 * BYTES_PER_S);
      assert.ok(chunks[0]![0] >= r.startNs && chunks.at(-1)![0] <= r.endNs, "capture times lie outside the run");
    } finally {
      await rig.close();
    }
  });

  test("playback: aplay plays in real time, each byte reaches the output as it is played, drain plays the tail", async (t) => {
    const rig = await startRig({ micRate: RATE, micSeconds: 0 });
    try {
      const pcm = noise(2 * BYTES_PER_S, 5);
      const file = path.join(rig.dir, "play.raw");
      fs.writeFileSync(file, pcm);
      let sample: [bigint, number] | undefined;
      let spawnedNs = 0n;
      const r = await run("aplay", ["-q", "-D", rig.spkDevice, "-t", "raw", "-f", "S16_LE", "-r", String(RATE), "-c", "1", file], rig.env, (t) => {
        spawnedNs = t;
        setTimeout(() => (sample = [now(), rig.speakerOut().length]), 1000);
      });
      assert.equal(r.code, 0, r.stderr);
      const ms = msSince(r.endNs, r.startNs);
      assert.ok(ms >= 1950 && ms < 2600, `2 s of playback took ${ms.toFixed(0)} ms`);
      t.diagnostic(`aplay of 2 s (plus its padding) took ${ms.toFixed(1)} ms`);
      // aplay wrote its whole 500 ms buffer at once; halfway, only what was played is out.
      assert.ok(sample, "no sample taken during playback");
      const playedS = sample[1] / BYTES_PER_S;
      const elapsedS = msSince(sample[0], spawnedNs) / 1000;
      assert.ok(playedS <= elapsedS && playedS > elapsedS - 0.25, `${playedS.toFixed(3)} s out after ${elapsedS.toFixed(3)} s`);
      const out = rig.speakerOut();
      assertPlayed(out, pcm, BYTES_PER_S / 8); // aplay's default: 500 ms buffer, 4 periods
      const chunks = rig.speakerTimes();
      const spanS = Number(chunks.at(-1)![0] - chunks[0]![0]) / 1e9 + chunks.at(-1)![2] / BYTES_PER_S;
      assert.ok(Math.abs(spanS - out.length / BYTES_PER_S) < 0.001, `chunk times span ${spanS} s for ${out.length / BYTES_PER_S} s of audio`);
      assert.ok(chunks[0]![0] >= r.startNs && chunks.at(-1)![0] <= r.endNs, "play times lie outside the run");
      assert.deepEqual(logOf(rig).xruns, [], "a drain is not an underrun");
    } finally {
      await rig.close();
    }
  });

  test("playback with mmap access, S32_LE stereo at 48 kHz", async () => {
    const rig = await startRig({ micRate: RATE, micSeconds: 0 });
    try {
      const pcm = noise(0.5 * 48000 * 8, 9);
      const file = path.join(rig.dir, "play.raw");
      fs.writeFileSync(file, pcm);
      const r = await run("aplay", ["-q", "-M", "-D", rig.spkDevice, "-t", "raw", "-f", "S32_LE", "-r", "48000", "-c", "2", "--period-time=20000", "--buffer-time=100000", file], rig.env);
      assert.equal(r.code, 0, r.stderr);
      const ms = msSince(r.endNs, r.startNs);
      assert.ok(ms >= 480 && ms < 1000, `0.5 s of playback took ${ms.toFixed(0)} ms`);
      assertPlayed(rig.speakerOut(), pcm, 0.02 * 48000 * 8);
    } finally {
      await rig.close();
    }
  });

  test("speaker: a flush (snd_pcm_drop) stops the output at once and discards the unplayed buffer", async (t) => {
    const rig = await startRig({ micRate: RATE, micSeconds: 0 });
    const lib = loadSpeaker(rig);
    const sp = openSpeaker(lib, rig);
    try {
      const pcm = noise(2 * BYTES_PER_S, 11);
      const chunk = BYTES_PER_S / 50;
      let written = 0;
      const firstWriteNs = now();
      // Writes block while the device buffer is full, so it stays (nearly) full. Flush
      // between writes, as the daemon's player does, once a second has been played.
      while (written < pcm.length && msSince(now(), firstWriteNs) < 1000) {
        await write(sp, pcm.subarray(written, written + chunk));
        written += chunk;
      }
      const handle = (sp as unknown as { audio_handle: unknown }).audio_handle;
      const beforeNs = now();
      lib.flush(handle);
      const afterNs = now();
      const outAtFlush = rig.speakerOut().length;
      await new Promise((r) => setTimeout(r, 300)); // the window in which nothing may play
      const out = rig.speakerOut();
      assert.equal(out.length, outAtFlush, "the speaker went on playing after the flush");

      const startNs = rig.speakerTimes()[0]![0];
      const playedMs = (out.length / BYTES_PER_S) * 1000;
      assert.ok(playedMs >= msSince(beforeNs, startNs) - 1 && playedMs <= msSince(afterNs, startNs) + 1,
        `${playedMs.toFixed(1)} ms played; the flush came ${msSince(beforeNs, startNs).toFixed(1)}–${msSince(afterNs, startNs).toFixed(1)} ms after the start`);
      assert.ok(out.equals(pcm.subarray(0, out.length)), "what played is not the beginning of what was written");
      const discarded = (written - out.length) / BYTES_PER_S;
      t.diagnostic(`flush ${msSince(beforeNs, startNs).toFixed(1)} ms after the start: ${playedMs.toFixed(1)} ms played, ${(discarded * 1000).toFixed(0)} ms discarded`);
      // speaker's 500 ms buffer, less what played since the last write.
      assert.ok(discarded > 0.3 && discarded <= 0.5, `${discarded} s were held in the device at the flush`);
    } finally {
      sp.close(false);
      await rig.close();
    }
  });

  test("speaker: an underrun is reported as on hardware; speaker recovers and the gap is in the log, not the output", async () => {
    const rig = await startRig({ micRate: RATE, micSeconds: 0 });
    const lib = loadSpeaker(rig);
    const sp = openSpeaker(lib, rig);
    try {
      const a = noise(0.3 * BYTES_PER_S, 13);
      const b = noise(0.3 * BYTES_PER_S, 17);
      await write(sp, a);
      await new Promise((r) => setTimeout(r, 600)); // the device runs dry after 300 ms
      // Played out although the application made no ALSA call since: the card plays on its own.
      assert.ok(rig.speakerOut().equals(a), `${rig.speakerOut().length} of ${a.length} bytes out before the second write`);
      await write(sp, b);
      sp.close(false); // drains: plays the rest, in real time
      assert.ok(rig.speakerOut().equals(Buffer.concat([a, b])), "the output is not exactly both writes");
      const log = logOf(rig);
      const secondStart = log.chunks.find(([, off]) => off >= a.length)!;
      assert.equal(secondStart[1], a.length, "the second write did not start a chunk of its own");
      const [lastNs, lastOff] = log.chunks.filter(([, off]) => off < a.length).at(-1)!;
      const aEndNs = lastNs + BigInt(Math.round(((a.length - lastOff) / BYTES_PER_S) * 1e9));
      const gapMs = msSince(secondStart[0], aEndNs);
      assert.ok(gapMs > 150 && gapMs < 500, `the output paused ${gapMs.toFixed(0)} ms`);
      assert.ok(log.xruns.some((x) => x >= aEndNs - 1_000_000n && x < secondStart[0]), "no xrun between the writes");
      assert.equal(log.closes.length, 1);
    } finally {
      sp.close(false);
      await rig.close();
    }
  });
});
