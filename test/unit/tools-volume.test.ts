/** set_volume / get_volume: both drivers, persistence across restarts, and errors that say what to fix. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { percentToGain } from "../../src/audio/playback/gain";
import type { Config } from "../../src/config/schema";
import { silentLogger, type Logger } from "../../src/log/logger";
import type { StateStore } from "../../src/core/state-store";
import { FileStateStore, MemoryStateStore } from "../../src/state/store";
import { ToolRunner } from "../../src/tools/runner";
import { Volume, VOLUME_KEY, volumeTools } from "../../src/app/tools/volume";

type VolumeConfig = Config["audio"]["volume"];
const SOFTWARE: VolumeConfig = { driver: "software", mixer_control: "PCM", initial_percent: 80 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-volume-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A playback engine stand-in that keeps the gains it was given. */
class GainLog {
  readonly gains: number[] = [];
  setGain(g: number): void {
    this.gains.push(g);
  }
  get last(): number | undefined {
    return this.gains.at(-1);
  }
}

async function open(o: { config?: VolumeConfig; store?: StateStore; log?: Logger; amixer?: string } = {}) {
  const playback = new GainLog();
  const store = o.store ?? new MemoryStateStore();
  const volume = await Volume.open({ config: o.config ?? SOFTWARE, store, log: o.log ?? silentLogger(), playback, ...(o.amixer ? { amixer: o.amixer } : {}) });
  const runner = new ToolRunner(volumeTools(volume), { log: silentLogger() });
  return { volume, runner, playback, store };
}

const json = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

/** A stand-in amixer: logs its arguments, prints `stderr` and exits with `code`. */
function fakeAmixer(name: string, stderr = "", code = 0): { bin: string; calls: () => string[] } {
  const bin = path.join(tmp, name);
  const log = `${bin}.log`;
  fs.writeFileSync(`${bin}.stderr`, stderr);
  fs.writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\ncat '${bin}.stderr' >&2\nexit ${code}\n`, { mode: 0o755 });
  return { bin, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []) };
}

describe("software volume", () => {
  test("starts at initial_percent and applies it as a gain at once", async () => {
    const { volume, playback, runner } = await open();
    assert.equal(volume.percent, 80);
    assert.deepEqual(playback.gains, [percentToGain(80)]);
    assert.deepEqual(json(await runner.run("get_volume", "{}")), { percent: 80 });
  });

  test("set_volume by percent and by delta, clamped to 0..100; 0 mutes", async () => {
    const { runner, playback, store } = await open();
    assert.deepEqual(json(await runner.run("set_volume", '{"percent": 50}')), { percent: 50 });
    assert.equal(playback.last, percentToGain(50));
    assert.equal(store.get(VOLUME_KEY), 50);
    assert.deepEqual(json(await runner.run("set_volume", '{"delta": 10}')), { percent: 60 });
    assert.deepEqual(json(await runner.run("set_volume", '{"delta": 70}')), { percent: 100 });
    assert.equal(playback.last, 1);
    assert.deepEqual(json(await runner.run("set_volume", '{"delta": -100}')), { percent: 0 });
    assert.equal(playback.last, 0);
    assert.deepEqual(json(await runner.run("get_volume", "")), { percent: 0 });
  });

  test("bad arguments: an error answer, the volume unchanged, the next call works", async () => {
    const { runner, volume, playback } = await open();
    const errors = await Promise.all(
      ['{"percent": 150}', '{"percent": 50, "delta": 5}', "{}", '{"percent": "loud"}', '{"percent": 12.5}', '{"level": 3}'].map(async (a) => String(json(await runner.run("set_volume", a)).error)),
    );
    assert.match(errors[0]!, /percent: Too big: expected number to be <=100/);
    assert.match(errors[1]!, /exactly one of percent or delta/);
    assert.match(errors[2]!, /exactly one of percent or delta/);
    assert.match(errors[3]!, /percent: Invalid input: expected number, received string/);
    assert.match(errors[4]!, /percent: .*expected int/);
    assert.match(errors[5]!, /Unrecognized key: "level"/);
    assert.equal(volume.percent, 80);
    assert.equal(playback.gains.length, 1);
    assert.deepEqual(json(await runner.run("set_volume", '{"percent": 30}')), { percent: 30 });
  });

  test("Volume.set from the control socket: rounds, clamps and refuses what is not a number", async () => {
    const { volume } = await open();
    assert.equal(await volume.set(33.6), 34);
    assert.equal(await volume.set(400), 100);
    await assert.rejects(volume.set(Number.NaN), /must be a number from 0 to 100/);
    assert.equal(volume.percent, 100);
  });

  test("concurrent changes apply one after the other", async () => {
    const { volume } = await open();
    const results = await Promise.all([volume.set(10), volume.change(5), volume.change(5)]);
    assert.deepEqual(results, [10, 15, 20]);
  });
});

describe("volume persistence", () => {
  test("a new daemon with the same state directory restores the saved level, not initial_percent", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "state-"));
    const store = new FileStateStore(dir, silentLogger());
    const first = await open({ store });
    await first.runner.run("set_volume", '{"percent": 35}');
    await store.settled();
    const second = await open({ store: new FileStateStore(dir, silentLogger()), config: { ...SOFTWARE, initial_percent: 90 } });
    assert.equal(second.volume.percent, 35);
    assert.deepEqual(second.playback.gains, [percentToGain(35)]);
    assert.deepEqual(json(await second.runner.run("get_volume", "{}")), { percent: 35 });
  });

  test("a saved value that is not a level is ignored", async () => {
    for (const bad of ["loud", 250, -1, null]) {
      const store = new MemoryStateStore();
      store.set(VOLUME_KEY, bad);
      assert.equal((await open({ store })).volume.percent, 80, `saved ${String(bad)}`);
    }
  });
});

describe("alsa-mixer volume", () => {
  test("sets the control with amixer on the perceptual scale", async () => {
    const amixer = fakeAmixer("amixer-ok");
    const { runner } = await open({ config: { driver: "alsa-mixer", mixer_control: "Speaker", mixer_card: "1", initial_percent: 70 }, amixer: amixer.bin });
    assert.deepEqual(json(await runner.run("set_volume", '{"percent": 40}')), { percent: 40 });
    assert.deepEqual(amixer.calls(), ["-c 1 -M sset Speaker 70%", "-c 1 -M sset Speaker 40%"]);
  });

  test("without mixer_card amixer uses the default card", async () => {
    const amixer = fakeAmixer("amixer-default");
    await open({ config: { driver: "alsa-mixer", mixer_control: "PCM", initial_percent: 60 }, amixer: amixer.bin });
    assert.deepEqual(amixer.calls(), ["-M sset PCM 60%"]);
  });

  test("the real amixer on a card that does not exist: start-up logs the fix, set_volume answers it, nothing throws", async () => {
    const lines: string[] = [];
    const log = pino({ level: "info" }, new Writable({ write: (c: Buffer, _e, cb) => { lines.push(c.toString()); cb(); } }));
    const store = new MemoryStateStore();
    const { runner, volume } = await open({ config: { driver: "alsa-mixer", mixer_control: "PCM", mixer_card: "97", initial_percent: 50 }, log, store });
    await new Promise((resolve) => setImmediate(resolve));
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 50);
    assert.ok(logged, "no error was logged at start");
    assert.match(logged.msg, /cannot set the mixer control 'PCM' on card 97: Invalid card number '97'/);
    const e = String(json(await runner.run("set_volume", '{"percent": 20}')).error);
    assert.match(e, /^set_volume failed: cannot set the mixer control 'PCM' on card 97: /);
    assert.match(e, /aplay -l/);
    assert.match(e, /audio\.volume\.mixer_card/);
    assert.equal(volume.percent, 50, "the level did not change");
    assert.equal(store.get(VOLUME_KEY), undefined, "nothing was saved");
  });

  test("a control the card does not have: names amixer scontrols and the config key", async () => {
    const amixer = fakeAmixer("amixer-nocontrol", "amixer: Unable to find simple control 'Nope',0\n", 1);
    const { runner } = await open({ config: { driver: "alsa-mixer", mixer_control: "Nope", mixer_card: "2", initial_percent: 50 }, amixer: amixer.bin });
    const e = String(json(await runner.run("set_volume", '{"delta": -10}')).error);
    assert.match(e, /Unable to find simple control 'Nope',0/);
    assert.match(e, /`amixer -c 2 scontrols`/);
    assert.match(e, /audio\.volume\.mixer_control/);
  });

  test("amixer not installed: says which package, or to use the software driver", async () => {
    const { runner } = await open({ config: { driver: "alsa-mixer", mixer_control: "PCM", initial_percent: 50 }, amixer: path.join(tmp, "no-such-amixer") });
    const e = String(json(await runner.run("set_volume", '{"percent": 10}')).error);
    assert.match(e, /sudo apt install alsa-utils/);
    assert.match(e, /audio\.volume\.driver: software/);
  });
});
