import { configError } from "../support/config-error";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { defaultBoardsDir, listBoards, loadBoard } from "../../src/config/board-load.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-boards-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
/** A fresh boards dir holding the given profiles (objects are written as YAML, strings as-is). */
function boardsDir(profiles: Record<string, unknown>): string {
  const dir = path.join(root, `boards-${dirCount++}`);
  fs.mkdirSync(dir);
  for (const [name, body] of Object.entries(profiles)) {
    fs.writeFileSync(path.join(dir, `${name}.yaml`), typeof body === "string" ? body : stringify(body));
  }
  return dir;
}

function profile(name: string, patch: (p: any) => void = () => {}): unknown {
  const p = {
    name,
    description: "test board",
    audio: {
      capture: { device: "hw:1", sample_rate: 48000 },
      playback: { device: "hw:2", sample_rate: 44100 },
    },
    buttons: [{ name: "talk", driver: "control" }],
  };
  patch(p);
  return p;
}


describe("sim board", () => {
  test("boards/sim.yaml validates, with the file fallback resolved against the boards dir", () => {
    const dir = defaultBoardsDir();
    assert.ok(fs.existsSync(path.join(dir, "sim.yaml")), `no sim.yaml in ${dir}`);
    const sim = loadBoard("sim");
    assert.deepEqual(sim, {
      name: "sim",
      description: "Simulator: keyboard/control-socket talk button, ALSA default devices or files",
      audio: {
        capture: {
          device: "default",
          sample_rate: 16000,
          channels: 1,
          format: "S16_LE",
          fallback: `file:${path.join(dir, "sim/speech-16k.raw")}`,
        },
        playback: { device: "default", sample_rate: 16000, channels: 1, format: "S16_LE", fallback: "dir:./talkbox-replies" },
        aec: false,
        codecs: {},
      },
      buttons: [
        { name: "talk", driver: "keyboard", key: " ", debounce_ms: 30, long_press_ms: 2000, double_press_ms: 400, long_press_action: "new-conversation", double_press_action: "toggle-mode", triple_press_action: "next-agent" },
        { name: "talk", driver: "control", debounce_ms: 30, long_press_ms: 2000, double_press_ms: 400, long_press_action: "new-conversation", double_press_action: "toggle-mode", triple_press_action: "next-agent" },
      ],
      leds: [],
      enable_pins: [],
      outputs: [],
      inputs: [],
      gpio_chip_labels: ["pinctrl-bcm2711", "pinctrl-bcm2835", "pinctrl-rp1"],
      serial: {},
      boot: { config_txt: [] },
    });
  });

  test("listBoards includes sim with its description", () => {
    const sim = listBoards().find((b) => b.name === "sim");
    assert.equal(sim?.description, "Simulator: keyboard/control-socket talk button, ALSA default devices or files");
  });
});

describe("shipped profiles", () => {
  const shipped = ["sim", "usb-generic", "respeaker-2mic", "respeaker-2mic-v2", "aiy-voicehat-v1", "adafruit-voice-bonnet", "waveshare-wm8960", "car-serial-panel"];

  test("every board the README promises is in boards/ and nothing else is", () => {
    assert.deepEqual(listBoards().map((b) => b.name).sort(), [...shipped].sort());
  });

  for (const name of shipped) {
    test(`${name} validates and has a talk button`, () => {
      const b = loadBoard(name);
      assert.equal(b.name, name);
      assert.ok(b.buttons.some((x) => x.name === "talk"), "no talk button");
      assert.ok(b.description.length > 10);
    });
  }

  test("the AIY Voice HAT is declared as the 48 kHz S32_LE stereo device its driver insists on", () => {
    const { capture, playback } = loadBoard("aiy-voicehat-v1").audio;
    for (const s of [capture, playback]) assert.deepEqual([s.sample_rate, s.channels, s.format], [48000, 2, "S32_LE"]);
  });
});

describe("loadBoard", () => {
  test("fills defaults and keeps absolute file fallbacks", () => {
    const dir = boardsDir({
      usb: profile("usb", (p) => {
        p.audio.capture.fallback = "file:/abs/speech.raw";
      }),
    });
    const b = loadBoard("usb", dir);
    assert.equal(b.audio.capture.channels, 1);
    assert.equal(b.audio.capture.format, "S16_LE");
    assert.equal(b.audio.capture.fallback, "file:/abs/speech.raw");
    assert.equal(b.audio.playback.fallback, undefined);
    assert.equal(b.audio.aec, false);
    assert.deepEqual(b.leds, []);
  });

  test("an unknown board lists the available ones", () => {
    const dir = boardsDir({ alpha: profile("alpha"), beta: profile("beta") });
    const err = configError(() => loadBoard("gamma", dir));
    assert.match(err.message, /unknown board "gamma"/);
    assert.match(err.message, /available boards: alpha, beta/);
    assert.match(err.message, /TALKBOX_BOARD/);
  });

  test("a path-like name is an unknown board, not a file read", () => {
    const dir = boardsDir({ alpha: profile("alpha") });
    fs.writeFileSync(path.join(root, "outside.yaml"), stringify(profile("outside")));
    const err = configError(() => loadBoard("../outside", dir));
    assert.match(err.message, /unknown board "\.\.\/outside"/);
  });

  const bad: Array<[string, (p: any) => void, string, RegExp]> = [
    ["a rate outside the allowed set", (p) => (p.audio.capture.sample_rate = 12345), "audio.capture.sample_rate", /48000/],
    ["a typo in a key", (p) => (p.audio.captrue = p.audio.capture), "audio.captrue", /unknown key.*capture/],
    ["a missing device", (p) => delete p.audio.playback.device, "audio.playback.device", /required/],
    ["a bad format", (p) => (p.audio.playback.format = "S24_LE"), "audio.playback.format", /"S16_LE", "S32_LE"/],
    ["zero channels", (p) => (p.audio.capture.channels = 0), "audio.capture.channels", /more than 0/],
    ["a fallback that is not a driver URI", (p) => (p.audio.capture.fallback = "speech.raw"), "audio.capture.fallback", /file:/],
    ["a keyboard button without a key", (p) => p.buttons.push({ name: "talk", driver: "keyboard" }), "buttons[1].key", /required/],
    ["a multi-character key", (p) => p.buttons.push({ name: "talk", driver: "keyboard", key: "ab" }), "buttons[1].key", /single character/],
    ["an unknown button driver", (p) => (p.buttons[0].driver = "bluetooth"), "buttons[0].driver", /"keyboard".*"gpio"/],
    ["a GPIO button without a pin", (p) => (p.buttons[0] = { name: "talk", driver: "gpio" }), "buttons[0].pin", /required/],
    ["an APA102 strip with neither SPI nor pins", (p) => (p.leds = [{ driver: "apa102", count: 3 }]), "leds[0]", /either spi/],
    ["an LED pattern for a state that does not exist", (p) => (p.leds = [{ driver: "gpio", pin: 25, patterns: { sleeping: { effect: "off" } } }]), "leds[0].patterns.sleeping", /unknown key/],
    ["a name that differs from the file name", (p) => (p.name = "sim"), "name", /match its file name/],
  ];
  for (const [what, patch, key, reason] of bad) {
    test(`a profile with ${what} names the file and ${key}`, () => {
      const dir = boardsDir({ custom: profile("custom", patch) });
      const err = configError(() => loadBoard("custom", dir));
      assert.ok(err.message.startsWith(path.join(dir, "custom.yaml")), err.message);
      const issue = err.issues.find((i) => i.startsWith(`${key}: `));
      assert.ok(issue, `no issue for ${key} in: ${err.message}`);
      assert.match(issue, reason);
    });
  }

  test("a YAML syntax error names the profile file and line", () => {
    const dir = boardsDir({ broken: "name: broken\naudio:\n  capture: [1, 2\n" });
    const err = configError(() => loadBoard("broken", dir));
    assert.match(err.message, /broken\.yaml: YAML syntax error at line \d+, column \d+/);
  });

  test("listBoards reports a broken profile instead of skipping it", () => {
    const dir = boardsDir({ good: profile("good"), worse: profile("worse", (p) => delete p.description) });
    const err = configError(() => listBoards(dir));
    assert.match(err.message, /worse\.yaml: description: required/);
  });
});
