/**
 * The playback engine on the rig's real-time sound card, in this process: the
 * worker keeps playing through main-thread stalls, and a flush cuts the sound.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PlaybackEngine } from "../../src/audio/playback/engine";
import { NativePlaybackThread } from "../../src/audio/playback/native-thread";
import { SpscRing } from "../../src/audio/playback/ring";
import { loadSpeaker } from "../../src/audio/playback/speaker-sink";
import { EventEmitter, once } from "node:events";
import { silentLogger } from "../../src/log/logger";
import { parseRigLog, startRig, type Rig } from "../rig/rig";
import { tone } from "../support/signal";
import { within } from "../support/within";
import fs from "node:fs";
import path from "node:path";

const format = { sampleRate: 16000, channels: 1 };

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // stall the main thread, as a long GC pause or a slow synchronous log would
  }
}

/** How long the card went on after `at`: to the end of the last chunk it played from byte `from` on (16 kHz mono). */
function soundAfterMs(rig: Rig, from: number, at: bigint): number {
  const last = rig.speakerTimes().filter(([, off]) => off >= from).at(-1)!;
  return Number(last[0] + BigInt(Math.round((last[2] / 32) * 1e6)) - at) / 1e6;
}

/** Waits until the card has played `reply.length` bytes from byte `from` on; they must be the reply. */
async function assertPlayedFrom(rig: Rig, from: number, reply: Buffer, what: string): Promise<void> {
  // The rig's card writes its output file as it plays: no event to wait on, so it is polled.
  while (rig.speakerOut().length < from + reply.length) await new Promise((r) => setTimeout(r, 5));
  assert.ok(rig.speakerOut().subarray(from).equals(reply), `${what}: the played audio differs from the reply`);
}

/**
 * Plays `reply` whole: its first period must reach ALSA inside the engine.write() that brought
 * it ('started' is stamped at the C thread's first write), and the card must play all of it.
 */
async function assertFirstWriteInside(engine: PlaybackEngine, rig: Rig, reply: Buffer, what: string): Promise<void> {
  const before = rig.speakerOut().length;
  const started = new Promise<number>((resolve) => engine.once("started", (at: number) => resolve(at)));
  const drained = new Promise<void>((resolve) => engine.once("drained", () => resolve()));
  const writeFrom = performance.now();
  engine.write(reply);
  const writeTo = performance.now();
  engine.endOfReply();
  const at = await started;
  await drained;
  assert.ok(at >= writeFrom && at <= writeTo, `${what}: first write ${(at - writeTo).toFixed(3)} ms after the write that brought it returned`);
  await assertPlayedFrom(rig, before, reply, what);
}

// The same promises on the primary path (the speaker module, played by its C thread), on the
// worker thread (a speaker module without talkbox's player) and on the fallback (aplay, when
// speaker did not build or cannot load).
const PATHS = [
  { name: "speaker, C thread", driver: "speaker", thread: "any", description: /via speaker .*native playback thread/ },
  { name: "speaker, worker thread", driver: "speaker", thread: "worker", description: /via speaker \d+ Hz 1 ch S16_LE$/ },
  { name: "aplay", driver: "aplay", thread: "any", description: /via aplay/ },
] as const;

for (const p of PATHS) describe(`playback engine on the ALSA rig, through ${p.name}`, { timeout: 30_000 }, () => {
  let rig: Rig;
  let engine: PlaybackEngine;
  before(async () => {
    rig = await startRig({ micRate: 16000 });
    // The thread (and libasound in it) must see the rig's ALSA config.
    process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
    const device = p.driver === "aplay" ? `aplay:${rig.spkDevice}` : rig.spkDevice;
    engine = await PlaybackEngine.start({ device, format, log: silentLogger(), thread: p.thread });
    assert.match(engine.description, p.description);
  });
  after(async () => {
    await engine.close();
    await rig.close();
  });

  test("100 ms main-thread stalls, again and again during a reply: zero underruns, every byte played", async () => {
    const reply = tone(16000, 3, [440, 880]);
    const chunk = 1920; // 60 ms, as Coze's Opus frames arrive
    const drained = new Promise<void>((resolve) => engine.once("drained", () => resolve()));
    const started = new Promise<number>((resolve) => engine.once("started", (at: number) => resolve(at)));
    const firstWrite = performance.now();
    let sent = 0;
    let stalls = 0;
    const stall = setInterval(() => {
      busy(100);
      stalls++;
    }, 150);
    // Audio arrives at twice real time (the emulator sends at four times); the stalls hold up
    // its delivery too, as they would hold up the WebSocket.
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const feed = setInterval(() => {
        // Catch up after a stall, as data waiting in the socket would.
        const due = Math.min(reply.length, Math.floor(((performance.now() - t0) * 2 * 32) / chunk) * chunk + chunk);
        while (sent < due) {
          engine.write(reply.subarray(sent, sent + chunk));
          sent += chunk;
        }
        if (sent >= reply.length) {
          clearInterval(feed);
          engine.endOfReply();
          resolve();
        }
      }, 30);
    });
    await drained;
    clearInterval(stall);
    assert.ok(stalls >= 8, `only ${stalls} stalls happened during the reply`);
    assert.equal(engine.underruns, 0, "the playback thread ran dry");
    const log = parseRigLog(fs.readFileSync(path.join(rig.dir, "spk.log"), "utf8"));
    // The card underruns once the reply is over (nothing more to play); not before.
    const end = log.chunks.at(-1)![0];
    assert.deepEqual(log.xruns.filter((t) => t < end), [], "the sound card underran during the reply");
    const played = rig.speakerStreams().at(-1)!.bytes;
    assert.ok(played.subarray(0, reply.length).equals(reply), "the played audio differs from the reply");
    // 'started' is on this thread's clock (analytics time the first reply sample by it): after
    // the first write, and no later than the card's first sample of this reply (its log is
    // CLOCK_MONOTONIC, as process.hrtime).
    const at = await started;
    assert.ok(at >= firstWrite, `started ${(firstWrite - at).toFixed(1)} ms before the first write`);
    const firstPlayedMs = Number(log.chunks[0]![0]) / 1e6;
    const atMono = Number(process.hrtime.bigint()) / 1e6 - (performance.now() - at);
    assert.ok(atMono <= firstPlayedMs + 1, `started ${(atMono - firstPlayedMs).toFixed(1)} ms after the card played the first sample`);
  });

  // The C thread's playerFeed: with the device open and idle, a reply's first period is written
  // to ALSA by the call that brought it, not after the thread's wake-up (under load, that
  // wake-up was most of the way from a reply's first audio to its first sample).
  if (p.name === "speaker, C thread")
    test("a reply's first period reaches ALSA inside the write that brought it, and the whole reply plays", async () => {
      for (let i = 0; i < 6; i++) {
        const reply = tone(16000, 0.2, [300 + 100 * i]);
        await assertFirstWriteInside(engine, rig, reply, `reply ${i}`);
      }
      assert.equal(engine.underruns, 0, "the playback thread ran dry");
    });

  test("flush cuts the sound within one playback period and empties the ring at once", async () => {
    const before = rig.speakerOut().length;
    const started = new Promise<void>((resolve) => engine.once("started", () => resolve()));
    engine.write(tone(16000, 3, [500]));
    await started;
    await new Promise((r) => setTimeout(r, 500));
    const flushAt = process.hrtime.bigint();
    engine.flush();
    assert.equal(engine.playing, false);
    // Nothing more may come out: wait two of the card's periods and look.
    await new Promise((r) => setTimeout(r, 300));
    const afterMs = soundAfterMs(rig, before, flushAt);
    assert.ok(afterMs < 20, `sound went on for ${afterMs.toFixed(1)} ms after the flush`);
    const playedMs = (rig.speakerOut().length - before) / 32;
    assert.ok(playedMs < 700, `${playedMs} ms of a 3 s reply played though it was flushed after ~0.5 s`);
  });
});

// The C thread opens the speaker as it starts, as the official client's speaker does: the
// first reply after a start is written by the main thread too, not left to the thread's open.
describe("the C thread opens the speaker as it starts", { timeout: 30_000 }, () => {
  test("the engine's very first reply reaches ALSA inside the write that brought it", async () => {
    const rig = await startRig({ micRate: 16000 });
    process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
    const engine = await PlaybackEngine.start({ device: rig.spkDevice, format, log: silentLogger() });
    try {
      assert.match(engine.description, /native playback thread/);
      await assertFirstWriteInside(engine, rig, tone(16000, 0.2, [500]), "the first reply");
    } finally {
      await engine.close();
      await rig.close();
    }
  });
});

// A speaker that is not there yet (a USB speaker plugged in later, a card that failed): the
// thread says which device and what to check, once, as it starts (before any reply), and
// plays as soon as the device opens, without a restart. ALSA re-reads its configuration when
// a file of it changes: the device appears by being added to the rig's.
for (const p of PATHS.filter((x) => x.driver === "speaker")) describe(`a speaker that appears later, through ${p.name}`, { timeout: 30_000 }, () => {
  test("one error naming the device and the key to check; plays once the device opens", async () => {
    const rig = await startRig({ micRate: 16000 });
    process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
    const engine = await PlaybackEngine.start({ device: "riglate", format, log: silentLogger(), thread: p.thread });
    try {
      // Reported at start-up, and held for the first listener: the daemon wires the engine up
      // after its start, and an 'error' with no listener would end the process.
      const errors: Error[] = [];
      const firstError = new Promise<void>((resolve) => engine.once("error", () => resolve()));
      engine.on("error", (e: Error) => errors.push(e));
      // Bounded: a thread that says nothing until a write would leave this test waiting forever.
      await within(firstError, 10_000, "the missing speaker's error at start-up, before any write");
      engine.write(tone(16000, 0.5, [440]));
      engine.endOfReply();
      // The thread keeps trying (each period); give it a few tries to say it again, which it must not.
      await new Promise<void>((resolve) => engine.once("drained", () => resolve()));
      assert.equal(errors.length, 1, errors.map((e) => e.message).join("; "));
      assert.match(errors[0]!.message, /speaker 'riglate' failed \(.*\); check audio\.output\.device/);

      const conf = rig.env.ALSA_CONFIG_PATH!.split(":").at(-1)!;
      // ALSA notices a changed file by its mtime in whole seconds: move it on by more than one.
      const mtime = fs.statSync(conf).mtimeMs / 1000 + 2;
      fs.appendFileSync(conf, `pcm.riglate { type talkbox_rig; out "${path.join(rig.dir, "late.out")}"; log "${path.join(rig.dir, "late.log")}" }\n`);
      fs.utimesSync(conf, mtime, mtime);
      const reply = tone(16000, 0.5, [660]);
      const drained = new Promise<void>((resolve) => engine.once("drained", () => resolve()));
      engine.write(reply);
      engine.endOfReply();
      await drained;
      // Closing drains the device: what it still held is then in the card's file too.
      await engine.close();
      const out = fs.readFileSync(path.join(rig.dir, "late.out"));
      assert.ok(out.subarray(0, reply.length).equals(reply), `the appeared device played ${out.length} bytes, not the reply`);
      assert.equal(errors.length, 1, "a working device was reported as failing");
    } finally {
      await engine.close();
      await rig.close();
    }
  });
});

// A speaker addon built before playerFeed and playerFlush (an older talkbox's build that npm
// kept): the thread is woken instead and writes a reply's first period and cuts at a flush
// itself, a wake-up later; the promises are the same.
describe("the C thread of an addon without playerFeed and playerFlush", { timeout: 30_000 }, () => {
  test("plays each reply whole, and a flush still cuts within one period", async () => {
    const rig = await startRig({ micRate: 16000 });
    process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
    const { playerFeed, playerFlush, ...older } = loadSpeaker().binding;
    assert.ok(playerFeed && playerFlush, "this build has both: the test takes them away");
    const ring = new SpscRing(SpscRing.allocate(32 * 10_000));
    const events = new EventEmitter();
    const thread = NativePlaybackThread.tryStart(
      { device: rig.spkDevice, format, log: silentLogger(), periodMs: 40, queueMs: 80 },
      ring,
      { started: (at) => events.emit("started", at), drained: () => events.emit("drained"), underrun: () => events.emit("underrun"), error: (e) => events.emit("error", e), restarted: () => {} },
      older,
    );
    assert.ok(thread, "the thread did not start");
    let underruns = 0;
    events.on("underrun", () => underruns++);
    try {
      for (let i = 0; i < 3; i++) {
        const reply = tone(16000, 0.3, [400 + 100 * i]);
        const before = rig.speakerOut().length;
        const drained = once(events, "drained");
        ring.clearEnd();
        ring.write(reply);
        ring.markEnd();
        await drained;
        await assertPlayedFrom(rig, before, reply, `reply ${i}`);
      }
      assert.equal(underruns, 0, "the playback thread ran dry");

      // Flushes at different points of the thread's sleep (it sleeps up to a period between writes).
      for (const waitMs of [200, 215, 230, 245]) {
        const before = rig.speakerOut().length;
        const started = once(events, "started");
        ring.clearEnd();
        ring.write(tone(16000, 1, [500]));
        await started;
        await new Promise((r) => setTimeout(r, waitMs));
        const flushAt = process.hrtime.bigint();
        ring.flush();
        await new Promise((r) => setTimeout(r, 200));
        const afterMs = soundAfterMs(rig, before, flushAt);
        assert.ok(afterMs < 20, `sound went on for ${afterMs.toFixed(1)} ms after the flush`);
      }
    } finally {
      ring.close();
      await thread.close();
      await rig.close();
    }
  });
});
