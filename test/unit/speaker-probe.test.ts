/**
 * The speaker probe: the native module is loaded and the device opened in a child process,
 * so that a native abort costs the child, not the daemon.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { createHook } from "node:async_hooks";
import { probeSpeaker } from "../../src/audio/playback/speaker-probe";
import { loadSpeaker, SpeakerSink } from "../../src/audio/playback/speaker-sink";
import { silentLogger } from "../../src/log/logger";
import { startRig, type Rig } from "../rig/rig";

const format = { sampleRate: 16000, channels: 1 };
const ABORTS = path.resolve(__dirname, "../../../test/fixtures/aborts-on-load");

describe("speaker probe", { timeout: 60_000 }, () => {
  let rig: Rig;
  const saved = process.env.ALSA_CONFIG_PATH;
  before(async () => {
    // No `default` device at all: the case that aborted an unpatched speaker on load.
    rig = await startRig({ micRate: 16000, defaultPcm: false });
    process.env.ALSA_CONFIG_PATH = rig.env.ALSA_CONFIG_PATH;
  });
  after(async () => {
    if (saved === undefined) delete process.env.ALSA_CONFIG_PATH;
    else process.env.ALSA_CONFIG_PATH = saved;
    await rig.close();
  });

  test("the real speaker module opens the rig's card although ALSA's default cannot be opened", async () => {
    // The patched addon carries the C playback thread (scripts/patches/, player.c).
    assert.deepEqual(await probeSpeaker(rig.spkDevice, format), { ok: true, player: true });
    // Nothing was played: the probe opens and closes the device only.
    assert.equal(rig.speakerOut().length, 0);
  });

  test("a device that does not exist: a reason, no crash", async () => {
    const r = await probeSpeaker("no_such_pcm", format);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /open|no_such_pcm/i);
  });

  test("a module that aborts the process loading it: the child dies, the probe says so", async () => {
    const r = await probeSpeaker(rig.spkDevice, format, { module: ABORTS });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /crashed the process that loaded it \(SIGABRT: .*Assertion/);
  });

  test("every write's native work item is released (speaker 0.5.5 leaked one per write: scripts/patches)", async () => {
    // Each write is a Node-API async work item, an async resource: init when it is created,
    // destroy only when napi_delete_async_work frees it. Unpatched, none is ever destroyed:
    // a native object, a JS object and a global handle per period written, forever.
    const live = new Set<number>();
    let created = 0;
    const hook = createHook({
      init(id, type) {
        if (type !== "speaker:write") return;
        live.add(id);
        created++;
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    try {
      const sink = new SpeakerSink(rig.spkDevice, format, loadSpeaker(), silentLogger());
      const period = Buffer.alloc(640); // 20 ms
      for (let i = 0; i < 50; i++) await new Promise<void>((resolve, reject) => sink.write(period, (err) => (err ? reject(err) : resolve())));
      await sink.close();
      // Destroy hooks are queued and emitted on the loop's next turns.
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    } finally {
      hook.disable();
    }
    assert.ok(created >= 50, `${created} writes seen`);
    assert.equal(live.size, 0, `${live.size} of ${created} write work items never freed`);
  });
});
