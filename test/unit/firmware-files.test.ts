/**
 * The files in firmware/ agree with the board profiles and the config schema they were
 * written for: boot snippets, ALSA devices, udev names, the config template.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { listBoards, loadBoard } from "../../src/config/board-load";
import type { BoardProfile } from "../../src/config/board-profile";
import { configSchema } from "../../src/config/schema";

const REPO = path.resolve(__dirname, "../../..");
const FIRMWARE = path.join(REPO, "firmware");
const boards: BoardProfile[] = listBoards().map((b) => loadBoard(b.name));

/** A file's lines without comments and blank lines. */
function contentLines(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

describe("firmware/boot: config.txt snippets", () => {
  test("each board with boot.config_txt lines has firmware/boot/<board>.txt holding exactly those lines", () => {
    const withLines = boards.filter((b) => b.boot.config_txt.length > 0);
    assert.ok(withLines.length >= 4, "the HAT boards declare overlays");
    for (const b of withLines) {
      const file = path.join(FIRMWARE, "boot", `${b.name}.txt`);
      assert.ok(fs.existsSync(file), `${file} is missing; copy boot.config_txt of boards/${b.name}.yaml into it`);
      assert.deepEqual(contentLines(file), b.boot.config_txt, `${file} differs from boot.config_txt in boards/${b.name}.yaml`);
    }
  });

  test("no snippet for a board that has no lines or no profile", () => {
    const expected = new Set(boards.filter((b) => b.boot.config_txt.length > 0).map((b) => `${b.name}.txt`));
    for (const f of fs.readdirSync(path.join(FIRMWARE, "boot"))) assert.ok(expected.has(f), `firmware/boot/${f} has no matching profile lines`);
  });
});

/** The slave { … } settings of one pcm block of an ALSA config file. */
function slaveOf(text: string, pcm: string): Record<string, string> {
  const block = new RegExp(`pcm\\.${pcm} \\{[\\s\\S]*?slave \\{([\\s\\S]*?)\\}`).exec(text);
  assert.ok(block, `pcm.${pcm} with a slave block`);
  const out: Record<string, string> = {};
  for (const m of block[1]!.matchAll(/^\s*(\w+)\s+"?([^"\s]+)"?/gm)) out[m[1]!] = m[2]!;
  return out;
}

describe("firmware/alsa: shared devices per board", () => {
  const hardware = boards.filter((b) => b.name !== "sim");

  test("every hardware board has one, and alsa-lib parses it and lists talkbox_playback and talkbox_capture", () => {
    for (const b of hardware) {
      const file = path.join(FIRMWARE, "alsa", `${b.name}.conf`);
      assert.ok(fs.existsSync(file), `${file} is missing`);
      // alsa-lib loads the file after its own config, as /etc/alsa/conf.d would be.
      const out = execFileSync("aplay", ["-L"], {
        env: { ...process.env, ALSA_CONFIG_PATH: `/usr/share/alsa/alsa.conf:${file}` },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.match(out, new RegExp(`^talkbox_playback\\n\\s+talkbox speaker \\(shared, ${b.name}\\)`, "m"), file);
      assert.match(out, new RegExp(`^talkbox_capture\\n\\s+talkbox microphone \\(shared, ${b.name}\\)`, "m"), file);
    }
  });

  test("a HAT's dmix/dsnoop run on the profile's card at its rate, format and channels (plug converts nothing for the daemon)", () => {
    for (const b of hardware.filter((h) => /CARD=/.test(h.audio.playback.device))) {
      const text = fs.readFileSync(path.join(FIRMWARE, "alsa", `${b.name}.conf`), "utf8");
      const card = /CARD=([^,]+)/.exec(b.audio.playback.device)![1];
      for (const [pcm, dev] of [["talkbox_dmix", b.audio.playback], ["talkbox_dsnoop", b.audio.capture]] as const) {
        const slave = slaveOf(text, pcm);
        assert.equal(slave.pcm, `hw:CARD=${card},DEV=0`, `${b.name} ${pcm}`);
        assert.equal(Number(slave.rate), dev.sample_rate, `${b.name} ${pcm} rate`);
        assert.equal(slave.format, dev.format, `${b.name} ${pcm} format`);
        assert.equal(Number(slave.channels), dev.channels, `${b.name} ${pcm} channels`);
      }
    }
  });

  test("USB boards use the card id the udev rules give the USB sound card", () => {
    const rules = fs.readFileSync(path.join(FIRMWARE, "udev", "90-talkbox.rules"), "utf8");
    const id = /SUBSYSTEMS=="usb", ATTR\{id\}="(\w+)"/.exec(rules)?.[1];
    assert.ok(id, "a rule naming USB sound cards");
    for (const b of hardware.filter((h) => !/CARD=/.test(h.audio.playback.device))) {
      const text = fs.readFileSync(path.join(FIRMWARE, "alsa", `${b.name}.conf`), "utf8");
      assert.equal(slaveOf(text, "talkbox_dmix").pcm, `hw:CARD=${id},DEV=0`, b.name);
      assert.equal(slaveOf(text, "talkbox_dsnoop").pcm, `hw:CARD=${id},DEV=0`, b.name);
    }
  });
});

describe("firmware/udev", () => {
  const rulesFile = path.join(FIRMWARE, "udev", "90-talkbox.rules");

  test("every rule line is a list of KEY op \"value\" pairs", () => {
    const pair = /^[A-Z_]+(\{[^}]+\})?(==|!=|\+=|-=|:=|=)"[^"]*"$/;
    for (const line of contentLines(rulesFile)) {
      for (const part of line.split(/,\s*/)) assert.match(part, pair, `in: ${line}`);
    }
  });

  test("the serial devices the profiles open are the names the rules create", () => {
    const rules = fs.readFileSync(rulesFile, "utf8");
    const serialPaths = boards.flatMap((b) => [b.serial?.panel?.path, b.serial?.gps?.path]).filter((p): p is string => p !== undefined);
    assert.ok(serialPaths.length > 0);
    for (const p of serialPaths.filter((s) => s.startsWith("/dev/talkbox-"))) {
      assert.match(rules, new RegExp(`SYMLINK\\+="${path.basename(p)}"`), `${p} is made by a rule`);
    }
  });
});

describe("firmware/talkbox.yaml.template", () => {
  test("names every top-level config key, set or commented", () => {
    const template = fs.readFileSync(path.join(FIRMWARE, "talkbox.yaml.template"), "utf8");
    const device = { device: "default", sample_rate: 16000, channels: 1, format: "S16_LE" as const };
    const keys = Object.keys(configSchema({ input: device, output: device, aec: false }).out.in.shape);
    assert.ok(keys.includes("agent") && keys.includes("audio"));
    for (const key of keys) assert.match(template, new RegExp(`^(# )?${key}:`, "m"), `the template lacks ${key}`);
  });
});
