/** `talkbox doctor` on this machine: no GPIO, no sound card, and the rig. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI } from "../support/daemon-process";
import { startRig } from "../rig/rig";
import { startEmulator } from "../../src/emulator/server";

function doctor(config: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-doctor-"));
  const file = path.join(dir, "talkbox.yaml");
  fs.writeFileSync(file, config);
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "doctor", "--config", file], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: stdout + stderr });
    });
  });
}

describe("talkbox doctor", { timeout: 60_000 }, () => {
  test("a HAT profile on a machine without the HAT: every missing part named with its fix, exit 1, no crash", async () => {
    const { code, out } = await doctor("board: respeaker-2mic\nagent: { url: emulator }\n");
    assert.equal(code, 1);
    assert.match(out, /^PASS {2}config/m);
    assert.match(out, /^FAIL {2}ALSA capture 'plughw:CARD=seeed2micvoicec,DEV=0'.*\n {6}fix: .*dtoverlay=seeed-2mic-voicecard/m);
    assert.match(out, /^FAIL {2}ALSA playback/m);
    assert.match(out, /^FAIL {2}GPIO pins 17, 12: .*\n {6}fix: .*gpiod/m);
    assert.match(out, /^FAIL {2}SPI \/dev\/spidev0\.0 .*\n {6}fix: .*dtparam=spi=on/m);
    assert.match(out, /^PASS {2}agent \(built-in emulator\)/m);
    assert.match(out, /4 checks failed/);
  });

  test("the sim board on the rig's sound card with the emulator: everything passes", async () => {
    const rig = await startRig({ micRate: 16000 });
    try {
      const { code, out } = await doctor(
        `board: sim\nagent: { url: emulator }\naudio: { input: { device: ${rig.micDevice} }, output: { device: ${rig.spkDevice} } }\n`,
        rig.env,
      );
      assert.equal(code, 0, out);
      assert.match(out, /^PASS {2}ALSA capture 'rigmic' at 16000 Hz, 1 ch, S16_LE: opens at this format$/m);
      assert.match(out, /^all checks passed$/m);
    } finally {
      await rig.close();
    }
  });

  test("libgpiod tools that find no GPIO chip are no GPIO access (gpiodetect exits 0 with an empty list)", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-gpiodetect-"));
    fs.writeFileSync(path.join(bin, "gpiodetect"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    try {
      const { code, out } = await doctor("board: usb-generic\nagent: { url: emulator }\n", { ...process.env, PATH: `${bin}:${process.env.PATH}` });
      assert.equal(code, 1);
      assert.match(out, /^FAIL {2}GPIO pins 17, 27: no GPIO access: .*find no chip/m);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  test("each native module is listed: built, or its fallback with the fix", async () => {
    const built = await doctor("board: sim\nagent: { url: emulator }\naudio: { uplink_codec: opus, downlink_codec: opus }\n");
    for (const m of ["@discordjs/opus", "epoll", "unix-dgram", "@serialport/bindings-cpp"]) {
      assert.match(built.out, new RegExp(`^PASS {2}native module ${m.replace("/", "\\/")} \\(.*\\): built`, "m"), built.out);
    }
    // Nothing native loads (as when nothing could be built): Opus is on its fallback, the systemd notifier is missing.
    const none = await doctor("board: sim\nagent: { url: emulator }\naudio: { uplink_codec: opus, downlink_codec: opus }\n", { ...process.env, NODE_OPTIONS: "--no-addons" });
    assert.match(none.out, /^WARN {2}native module @discordjs\/opus \(Opus encode\/decode\): fallback: opusscript .*\n {6}fix: /m);
    assert.match(none.out, /^FAIL {2}native module unix-dgram .*: missing: .*\n {6}fix: /m);
    assert.match(none.out, /^PASS {2}native module @serialport\/bindings-cpp .*not used by this config/m);
  });

  test("a rejected token and a bad config are reported, each with its fix", async () => {
    const emulator = await startEmulator({ token: "right-token" });
    try {
      const bad = await doctor(`board: sim\nagent: { url: "${emulator.url}", bot_id: "1", token: "wrong-token-123" }\n`);
      assert.equal(bad.code, 1);
      assert.match(bad.out, /^FAIL {2}agent 127\.0\.0\.1:\d+: the token was rejected \(HTTP 401\).*\n {6}fix: fix agent\.token/m);
      assert.ok(!bad.out.includes("wrong-token-123"), "the token appeared in the output");
    } finally {
      await emulator.close();
    }
    const broken = await doctor("board: sim\nagent: { url: emulator, boot_id: 1 }\n");
    assert.equal(broken.code, 1);
    assert.match(broken.out, /^FAIL {2}config: .*agent\.boot_id: unknown key/m);
  });

  test("the voice API: its ping endpoint is checked (seed 002), up and down, each with its fix", async () => {
    const emulator = await startEmulator();
    const config = (url: string): string => `board: sim\nagent: { backend: voiceapi, url: "${url}", token: "key-123456" }\n`;
    try {
      const up = await doctor(config(`${emulator.base}/api/voice/v2/user-stt-bot-tts/stream`));
      assert.match(up.out, /^PASS {2}health http:\/\/127\.0\.0\.1:\d+\/api\/voice\/v1\/user-stt-bot-tts\/ping: HTTP 200$/m);
      assert.match(up.out, /^PASS {2}agent 127\.0\.0\.1:\d+: session opened; pcm\/16000 up, pcm\/16000 down$/m);
      emulator.setAcceptConnections(false);
      const down = await doctor(config(`${emulator.base}/api/voice/v2/user-stt-bot-tts/stream`));
      assert.match(down.out, /^FAIL {2}health .*: HTTP 503\n {6}fix: the service answers but says it is not available/m);
    } finally {
      await emulator.close();
    }
    // The emulator's port, closed now: nothing listens there.
    const nowhere = await doctor(config(`${emulator.base}/api/voice/v2/user-stt-bot-tts/stream`));
    assert.match(nowhere.out, /^FAIL {2}health http:\/\/127\.0\.0\.1:\d+\/.*: ECONNREFUSED\n {6}fix: check the network/m);
  });
});
