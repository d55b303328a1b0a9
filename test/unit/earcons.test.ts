/**
 * Earcons: which change of state sounds which, and the WAV files (the shipped ones, and a
 * user's that is wrong: a warning saying how to fix it, that sound off, the device fine).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { earconFor, loadEarcons, MAX_EARCON_MS } from "../../src/device/earcons";
import { builtinSoundsDir, earconFiles } from "../../src/app/earcon-files";
import { wavHeader } from "../../src/audio/wav";
import { createLogger } from "../../src/log/logger";

describe("earcons: which sound for which change", () => {
  test("press, release, barge-in, mute and unmute, error; nothing for the agent's own steps", () => {
    const cases: [string, string, string, string | null][] = [
      ["idle", "listening", "button.down", "listen_start"],
      ["speaking", "listening", "button.down", "listen_start"],
      ["listening", "thinking", "button.up", "listen_stop"],
      ["listening", "idle", "button.up", "listen_stop"],
      ["listening", "muted", "button.down", "listen_stop"],
      ["muted", "listening", "button.down", "listen_start"],
      ["thinking", "error", "timeout", "error"],
      ["listening", "thinking", "speech.stopped", null],
      ["speaking", "listening", "speech.started", null],
      ["thinking", "speaking", "reply.audio", null],
      ["speaking", "idle", "playback.drained", null],
      ["idle", "announcing", "announce.request", null],
    ];
    for (const [from, to, cause, name] of cases) assert.equal(earconFor(from as never, to as never, cause), name, `${from} → ${to} (${cause})`);
  });
});

describe("earcons: the files", () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "earcons-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function logger(): { log: ReturnType<typeof createLogger>; lines: string[] } {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", format: "json", destination: { write: (l: string) => void lines.push(l) } });
    return { log, lines };
  }

  test("the built-in sounds load at the speaker's format: short, and as long as their files say", async () => {
    const files = earconFiles({ listen_start: "builtin", listen_stop: "builtin", error: "builtin" });
    assert.equal(path.dirname(files.listen_start!), builtinSoundsDir());
    const { log, lines } = logger();
    const sounds = await loadEarcons(files, { sampleRate: 48000, channels: 2 }, log);
    assert.deepEqual(lines, []);
    for (const [name, pcm] of Object.entries(sounds)) {
      const ms = (pcm.length / 4 / 48000) * 1000;
      assert.ok(ms > 100 && ms < 500, `${name}: ${ms} ms`);
    }
    assert.deepEqual(Object.keys(sounds).sort(), ["error", "listen_start", "listen_stop"]);
    assert.deepEqual(earconFiles({ listen_start: "off", listen_stop: "off", error: "off" }), {});
  });

  test("a missing file, not a WAV, 8-bit, too long: each a warning naming the key and the fix; the others still load", async () => {
    const write = (name: string, body: Buffer): string => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, body);
      return f;
    };
    const tooLong = Buffer.alloc(Math.round((16000 * (MAX_EARCON_MS + 100)) / 1000) * 2);
    const eightBit = wavHeader({ sampleRate: 16000, channels: 1 }, 100);
    eightBit.writeUInt16LE(8, 34);
    const cases: [string, RegExp][] = [
      [path.join(dir, "missing.wav"), /ENOENT/],
      [write("text.wav", Buffer.from("hello, not a sound")), /not a WAV file/],
      [write("8bit.wav", Buffer.concat([eightBit, Buffer.alloc(100)])), /not 16-bit PCM/],
      [write("long.wav", Buffer.concat([wavHeader({ sampleRate: 16000, channels: 1 }, tooLong.length), tooLong])), /lasts 2100 ms/],
    ];
    for (const [file, why] of cases) {
      const { log, lines } = logger();
      const sounds = await loadEarcons({ listen_start: file, error: earconFiles({ listen_start: "off", listen_stop: "off", error: "builtin" }).error! }, { sampleRate: 16000, channels: 1 }, log);
      assert.deepEqual(Object.keys(sounds), ["error"], file);
      assert.equal(lines.length, 1, file);
      const msg = String(JSON.parse(lines[0]!).msg);
      assert.match(msg, why);
      assert.match(msg, /^earcons\.listen_start: .*that sound is off\. Use a 16-bit PCM WAV file/);
    }
  });
});
