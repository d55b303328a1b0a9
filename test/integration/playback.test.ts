/**
 * The playback engine on the rig's real-time sound card, in this process: the
 * worker keeps playing through main-thread stalls, and a flush cuts the sound.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PlaybackEngine } from "../../src/audio/playback/engine";
import { silentLogger } from "../../src/log/logger";
import { parseRigLog, startRig, type Rig } from "../rig/rig";
import { tone } from "../support/signal";
import fs from "node:fs";
import path from "node:path";

const format = { sampleRate: 16000, channels: 1 };

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // stall the main thread, as a long GC pause or a slow synchronous log would
  }
}

// The same promises on the primary path (the native speaker module) and on its fallback
// (aplay, when speaker did not build or cannot load).
for (const driver of ["speaker", "aplay"] as const) describe(`playback engine on the ALSA rig, through ${driver}`, { timeout: 30_000 }, () => {
  let rig: Rig;
  let engine: PlaybackEngine;
  before(async () => {
    rig = await startRig({ micRate: 16000 });
    // The worker (and libasound in it) must see the rig's ALSA config.
    process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
    const device = driver === "aplay" ? `aplay:${rig.spkDevice}` : rig.spkDevice;
    engine = await PlaybackEngine.start({ device, format, log: silentLogger() });
    assert.match(engine.description, new RegExp(`via ${driver}`));
  });
  after(async () => {
    await engine.close();
    await rig.close();
  });

  test("100 ms main-thread stalls, again and again during a reply: zero underruns, every byte played", async () => {
    const reply = tone(16000, 3, [440, 880]);
    const chunk = 1920; // 60 ms, as Coze's Opus frames arrive
    const drained = new Promise<void>((resolve) => engine.once("drained", () => resolve()));
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
    const chunks = rig.speakerTimes().filter(([, off]) => off >= before);
    const last = chunks.at(-1)!;
    const lastEndNs = last[0] + BigInt(Math.round((last[2] / 32) * 1e6));
    const afterMs = Number(lastEndNs - flushAt) / 1e6;
    assert.ok(afterMs < 20, `sound went on for ${afterMs.toFixed(1)} ms after the flush`);
    const playedMs = (rig.speakerOut().length - before) / 32;
    assert.ok(playedMs < 700, `${playedMs} ms of a 3 s reply played though it was flushed after ~0.5 s`);
  });
});
