/**
 * The playback thread keeps no logger of its own (4.5 MiB of resident memory for a few lines
 * in its life): its sinks' lines go to the main thread and are written by the daemon's
 * logger. The real worker on the rig's card.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { PlaybackEngine } from "../../src/audio/playback/engine";
import { SpscRing } from "../../src/audio/playback/ring";
import type { PlaybackWorkerData } from "../../src/audio/playback/worker";
import { threadLog, type LogLine } from "../../src/audio/playback/thread-log";
import { createLogger } from "../../src/log/logger";
import { startRig, type Rig } from "../rig/rig";
import { tone } from "../support/signal";

const format = { sampleRate: 16000, channels: 1 };
const WORKER = path.resolve(__dirname, "../../src/audio/playback/worker.js");
let rig: Rig;

before(async () => {
  rig = await startRig({ micRate: 16000 });
  process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
});
after(() => rig.close());

test("the playback thread, playing, has loaded no logger", async () => {
  const ring = new SpscRing(SpscRing.allocate(32000));
  const data: PlaybackWorkerData = { sab: ring.sab, device: rig.spkDevice, format, periodMs: 20, queueMs: 60, logLevel: "debug" };
  // The real worker module, in a thread that can also say which modules it loaded.
  const code = `const wt = require("node:worker_threads");
    wt.parentPort.on("message", (m) => { if (m === "modules") wt.parentPort.postMessage({ type: "modules", list: Object.keys(require.cache) }); });
    require(${JSON.stringify(WORKER)});`;
  const worker = new Worker(code, { eval: true, workerData: data });
  const messages: { type: string; list?: string[] }[] = [];
  worker.on("message", (m: { type: string; list?: string[] }) => messages.push(m));
  try {
    while (!messages.some((m) => m.type === "ready")) await once(worker, "message");
    const pcm = tone(16000, 0.3, [440]);
    ring.write(pcm);
    ring.markEnd();
    // The thread reads its port when it gives its event loop a turn: after the reply, idle.
    worker.postMessage("modules");
    while (!messages.some((m) => m.type === "modules")) await once(worker, "message");
    const loaded = messages.find((m) => m.type === "modules")!.list!;
    assert.ok(loaded.some((f) => f.endsWith(path.join("playback", "speaker-sink.js"))), "the sink was loaded");
    const logging = loaded.filter((f) => /[/\\](pino|sonic-boom|thread-stream)[/\\]|[/\\]log[/\\]logger\.js$/.test(f));
    assert.deepEqual(logging, [], "a logger in the playback thread");
    assert.ok(messages.some((m) => m.type === "started"), "it played");
  } finally {
    ring.close();
    await once(worker, "exit");
  }
});

test("a sink's line from the playback thread is written by the daemon's logger", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", destination: { write: (s: string) => void lines.push(s) } });
  // aplay's sink says at debug level when its child closes: a line the thread posts as it shuts down.
  const engine = await PlaybackEngine.start({ device: `aplay:${rig.spkDevice}`, format, log: log.child({ component: "speaker" }) });
  const drained = once(engine, "drained");
  engine.write(tone(16000, 0.2, [440]));
  engine.endOfReply();
  await drained;
  await engine.close();
  const closed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "aplay closed");
  assert.ok(closed, `no "aplay closed" line among: ${lines.join("")}`);
  assert.equal(closed.level, 20);
  assert.equal(closed.component, "speaker");
});

test("the thread posts only lines at the daemon's level or above, errors as their message", () => {
  const posted: LogLine[] = [];
  const log = threadLog("info", (l) => posted.push(l));
  log.debug("not wanted");
  log.info("plain");
  log.warn({ err: new Error("card gone"), device: "hw:1" }, "with fields");
  assert.deepEqual(posted, [
    { level: "info", msg: "plain" },
    { level: "warn", msg: "with fields", fields: { err: "card gone", device: "hw:1" } },
  ]);
});
