/**
 * The device install: the systemd unit (verify, sandbox exposure), shellcheck on every
 * script, scripts/install.sh and uninstall.sh run end to end into a throwaway root, and
 * firmware/image/build-image.sh on a small disk image built here (FAT boot + ext4 root, like
 * Raspberry Pi OS), read back with mtools and debugfs. None of it needs root.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/load";

const REPO = path.resolve(__dirname, "../../..");
const UNIT = path.join(REPO, "firmware/systemd/talkbox.service");
const TOKEN = "pat_TESTSECRET_9f3c1e77";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-install-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
function freshDir(name: string): string {
  const dir = path.join(tmp, `${name}-${dirs++}`);
  fs.mkdirSync(dir);
  return dir;
}

interface Run {
  code: number;
  out: string;
}

/** Runs a command to its end; output is stdout + stderr. */
function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
    // A script that exits before reading its input (a refused argument) closes the pipe: EPIPE
    // there is not the test's failure; its exit code and output say what happened.
    child.stdin?.on("error", () => {});
    child.stdin?.end(opts.input ?? "");
  });
}

function mode(file: string): string {
  return (fs.statSync(file).mode & 0o7777).toString(8).padStart(4, "0");
}

describe("systemd unit", () => {
  test("systemd-analyze verify accepts talkbox.service and talkbox-firstboot.service", async () => {
    // verify checks that ExecStart's binary exists: point the copies at this machine's node
    // and this checkout, keeping every other line as installed.
    const dir = freshDir("verify");
    const units = [
      ["talkbox.service", fs.readFileSync(UNIT, "utf8").replace("/usr/bin/node ", `${process.execPath} `)],
      ["talkbox-firstboot.service", fs.readFileSync(path.join(REPO, "firmware/image/talkbox-firstboot.service"), "utf8")],
    ] as const;
    for (const [name, text] of units) fs.writeFileSync(path.join(dir, name), text.replaceAll("/opt/talkbox", REPO));
    const res = await run("systemd-analyze", ["verify", ...units.map(([name]) => path.join(dir, name))]);
    assert.equal(res.code, 0, res.out);
    assert.doesNotMatch(res.out, /unknown|invalid|ignoring/i, res.out);
  });

  test("the sandbox's exposure (systemd-analyze security --offline) is at most 3.0", async () => {
    const res = await run("systemd-analyze", ["security", "--offline=true", "--no-pager", UNIT]);
    const level = /Overall exposure level for talkbox\.service: (\d+(?:\.\d+)?)/.exec(res.out);
    assert.ok(level, `no exposure level in:\n${res.out}`);
    assert.ok(Number(level[1]) <= 3.0, `exposure ${level[1]} > 3.0:\n${res.out}`);
  });
});

describe("shell scripts", () => {
  test("shellcheck passes on scripts/*.sh, firmware/**/*.sh and test/rig/build.sh", async () => {
    const scripts: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".sh")) scripts.push(p);
      }
    };
    walk(path.join(REPO, "firmware"));
    for (const f of fs.readdirSync(path.join(REPO, "scripts"))) if (f.endsWith(".sh")) scripts.push(path.join(REPO, "scripts", f));
    scripts.push(path.join(REPO, "test/rig/build.sh"));
    for (const must of ["scripts/install.sh", "scripts/uninstall.sh", "scripts/setup.sh", "firmware/image/build-image.sh"]) {
      assert.ok(scripts.includes(path.join(REPO, must)), must);
    }
    const res = await run("shellcheck", ["--external-sources", ...scripts]);
    assert.equal(res.code, 0, res.out);
  });
});

describe("scripts/install.sh and uninstall.sh into a throwaway root", { timeout: 120_000 }, () => {
  const root = freshDir("root");
  // --no-build: the test installs what this checkout compiled (a rebuild here would mean npm ci).
  const install = (...args: string[]): Promise<Run> => run("bash", [path.join(REPO, "scripts/install.sh"), "--root", root, "--no-build", ...args]);
  const uninstall = (...args: string[]): Promise<Run> => run("bash", [path.join(REPO, "scripts/uninstall.sh"), "--root", root, ...args]);
  const at = (p: string): string => path.join(root, p);
  fs.mkdirSync(at("boot/firmware"), { recursive: true });
  // As Raspberry Pi OS ships it: the file ends inside a model-specific section.
  fs.writeFileSync(at("boot/firmware/config.txt"), "dtparam=audio=on\n[cm5]\ndtoverlay=dwc2,dr_mode=host\n");

  test("a first install puts every file in place with its mode, and never prints the token", async () => {
    const res = await install("--board", "respeaker-2mic", "--token", TOKEN, "--bot-id", "7351234567890123456", "--apply-overlays");
    assert.equal(res.code, 0, res.out);
    assert.ok(!res.out.includes(TOKEN), "the token appeared in the installer's output");

    assert.equal(mode(at("etc/talkbox")), "0750");
    assert.equal(mode(at("etc/talkbox/talkbox.yaml")), "0640");
    assert.equal(mode(at("etc/talkbox/token")), "0640");
    assert.equal(fs.readFileSync(at("etc/talkbox/token"), "utf8"), `${TOKEN}\n`);
    assert.doesNotMatch(fs.readFileSync(at("etc/talkbox/talkbox.yaml"), "utf8"), new RegExp(TOKEN));
    for (const f of ["etc/systemd/system/talkbox.service", "etc/systemd/system/talkbox.service.d/10-token.conf", "etc/udev/rules.d/90-talkbox.rules", "etc/modules-load.d/talkbox.conf", "etc/alsa/conf.d/50-talkbox.conf"]) {
      assert.equal(mode(at(f)), "0644", f);
    }
    assert.match(fs.readFileSync(at("etc/systemd/system/talkbox.service.d/10-token.conf"), "utf8"), /^LoadCredential=token:\/etc\/talkbox\/token$/m);
    assert.equal(fs.readFileSync(at("etc/alsa/conf.d/50-talkbox.conf"), "utf8"), fs.readFileSync(path.join(REPO, "firmware/alsa/respeaker-2mic.conf"), "utf8"));
    assert.equal(fs.readlinkSync(at("usr/local/bin/talkbox")), "/opt/talkbox/dist/src/cli.js");
    assert.equal(mode(at("opt/talkbox/dist/src/cli.js")), "0755");

    const unit = fs.readFileSync(at("etc/systemd/system/talkbox.service"), "utf8");
    assert.match(unit, /^ExecStart=\S*node \/opt\/talkbox\/dist\/src\/cli\.js run --config \/etc\/talkbox\/talkbox\.yaml$/m);

    const config = fs.readFileSync(at("boot/firmware/config.txt"), "utf8");
    assert.match(config, /\n\[all\]\ndtparam=spi=on\ndtparam=i2c_arm=on\ndtoverlay=seeed-2mic-voicecard\n$/);
  });

  test("the installed app runs with its production packages only", async () => {
    const res = await run(process.execPath, [at("opt/talkbox/dist/src/cli.js"), "boards"]);
    assert.equal(res.code, 0, res.out);
    assert.match(res.out, /^respeaker-2mic\s/m);
    assert.ok(fs.existsSync(at("opt/talkbox/node_modules/yaml/package.json")), "a runtime dependency");
    assert.ok(!fs.existsSync(at("opt/talkbox/node_modules/typescript")), "a dev dependency was installed");
    assert.ok(!fs.existsSync(at("opt/talkbox/src")), "the TypeScript sources are not installed");
  });

  test("the written config is valid and gets the token the way systemd passes it", () => {
    const loaded = loadConfig({
      path: at("etc/talkbox/talkbox.yaml"),
      boardsDir: at("opt/talkbox/boards"),
      // LoadCredential=token:/etc/talkbox/token puts the file as $CREDENTIALS_DIRECTORY/token.
      env: { CREDENTIALS_DIRECTORY: at("etc/talkbox") },
    });
    assert.equal(loaded.board.name, "respeaker-2mic");
    assert.equal(loaded.config.agent.coze.bot_id, "7351234567890123456");
    assert.equal(loaded.config.agent.token, TOKEN);
    assert.equal(loaded.config.audio.input.device, "talkbox_capture");
    assert.equal(loaded.config.audio.output.device, "talkbox_playback");
  });

  test("a board without shared ALSA devices (sim) gets a config that loads, with the profile's devices", async () => {
    const other = freshDir("sim-board");
    const res = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", other, "--no-build", "--skip-npm", "--board", "sim", "--bot-id", "42", "--token", TOKEN]);
    assert.equal(res.code, 0, res.out);
    const loaded = loadConfig({ path: path.join(other, "etc/talkbox/talkbox.yaml"), boardsDir: path.join(REPO, "boards"), env: { CREDENTIALS_DIRECTORY: path.join(other, "etc/talkbox") } });
    assert.equal(loaded.board.name, "sim");
    assert.equal(loaded.config.audio.input.device, "default");
    assert.equal(loaded.config.audio.output.device, "default");
  });

  test("--backend voiceapi --host gives a config for the voice API that loads; without --host it says what to set", async () => {
    const other = freshDir("voiceapi");
    const res = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", other, "--no-build", "--skip-npm", "--board", "car-serial-panel", "--backend", "voiceapi", "--host", "voice.example.com:8443", "--token", TOKEN]);
    assert.equal(res.code, 0, res.out);
    assert.doesNotMatch(res.out, /bot_id is not set|voiceapi.host is not set/);
    const loaded = loadConfig({ path: path.join(other, "etc/talkbox/talkbox.yaml"), boardsDir: path.join(REPO, "boards"), env: { CREDENTIALS_DIRECTORY: path.join(other, "etc/talkbox") } });
    assert.equal(loaded.config.agent.backend, "voiceapi");
    assert.equal(loaded.config.agent.url, "wss://voice.example.com:8443/api/voice/v2/user-stt-bot-tts/stream");
    assert.equal(loaded.config.agent.token, TOKEN);

    const bare = freshDir("voiceapi-nohost");
    const noHost = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", bare, "--no-build", "--skip-npm", "--board", "sim", "--backend", "voiceapi"]);
    assert.equal(noHost.code, 0, noHost.out);
    assert.match(noHost.out, /agent\.voiceapi\.host is not set yet: edit .*talkbox\.yaml/);
    assert.throws(
      () => loadConfig({ path: path.join(bare, "etc/talkbox/talkbox.yaml"), boardsDir: path.join(REPO, "boards"), env: {} }),
      /agent\.voiceapi\.host: required/,
    );

    const badHost = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", freshDir("voiceapi-bad"), "--no-build", "--skip-npm", "--board", "sim", "--backend", "voiceapi", "--host", "wss://voice.example.com/x"]);
    assert.notEqual(badHost.code, 0);
    assert.match(badHost.out, /--host takes a host name.*no wss:\/\/, no path/);
    const hostAlone = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", freshDir("voiceapi-alone"), "--no-build", "--skip-npm", "--board", "sim", "--host", "voice.example.com"]);
    assert.notEqual(hostAlone.code, 0);
    assert.match(hostAlone.out, /--host is the voice API's host: give it with --backend voiceapi/);
  });

  test("a second run keeps an edited config, adds no boot line twice, and keeps the token when none is given", async () => {
    const configFile = at("etc/talkbox/talkbox.yaml");
    fs.appendFileSync(configFile, "# my own edit\n");
    const bootBefore = fs.readFileSync(at("boot/firmware/config.txt"), "utf8");
    const res = await install("--board", "respeaker-2mic", "--bot-id", "999", "--apply-overlays");
    assert.equal(res.code, 0, res.out);
    assert.match(fs.readFileSync(configFile, "utf8"), /# my own edit\n$/);
    assert.match(fs.readFileSync(configFile, "utf8"), /bot_id: "7351234567890123456"/);
    assert.equal(fs.readFileSync(at("boot/firmware/config.txt"), "utf8"), bootBefore);
    assert.equal(fs.readFileSync(at("etc/talkbox/token"), "utf8"), `${TOKEN}\n`);
    assert.equal(mode(configFile), "0640");
  });

  test("a token from a file replaces the old one and is not printed either", async () => {
    const tokenFile = path.join(freshDir("token"), "token");
    fs.writeFileSync(tokenFile, `${TOKEN}_NEW\r\n`);
    const res = await install("--token-file", tokenFile);
    assert.equal(res.code, 0, res.out);
    assert.ok(!res.out.includes(TOKEN), res.out);
    assert.equal(fs.readFileSync(at("etc/talkbox/token"), "utf8"), `${TOKEN}_NEW\n`);
  });

  test("bad input is refused with a message that says what to do", async () => {
    const other = freshDir("bad");
    const unknown = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", other, "--no-build", "--board", "no-such-board"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.out, /no board profile 'no-such-board'.*one of: .*respeaker-2mic/);
    const none = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", other, "--no-build"]);
    assert.notEqual(none.code, 0);
    assert.match(none.out, /pass --board NAME/);
    const overlays = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", other, "--no-build", "--board", "aiy-voicehat-v1", "--apply-overlays"]);
    assert.notEqual(overlays.code, 0);
    assert.match(overlays.out, /no .*config\.txt.*Raspberry Pi/);
  });

  test("the first boot of an image without a network gives up with that reason, a bounded number of times", async () => {
    // What an image holds: the app without node_modules; the first boot runs the app's own installer.
    const image = freshDir("firstboot");
    const staged = await run("bash", [path.join(REPO, "scripts/install.sh"), "--root", image, "--no-build", "--skip-npm", "--board", "sim"]);
    assert.equal(staged.code, 0, staged.out);
    const registry = "http://127.0.0.1:9/";
    const res = await run("bash", [path.join(image, "opt/talkbox/scripts/install.sh"), "--root", image], { env: { ...process.env, npm_config_registry: registry } });
    assert.notEqual(res.code, 0);
    assert.match(res.out, new RegExp(`cannot reach the npm registry \\(${registry.replace(/[./]/g, "\\$&")}\\): no network yet\\?`));
    assert.ok(!fs.existsSync(path.join(image, "opt/talkbox/node_modules")), "a half-done node_modules would end the first boot");
    const unit = fs.readFileSync(path.join(REPO, "firmware/image/talkbox-firstboot.service"), "utf8");
    assert.match(unit, /^StartLimitBurst=5$/m);
    assert.match(unit, /^Environment=HOME=\/root$/m);
  });

  test("uninstall removes the app and the unit but keeps the config and token", async () => {
    const res = await uninstall();
    assert.equal(res.code, 0, res.out);
    for (const gone of ["opt/talkbox", "etc/systemd/system/talkbox.service", "etc/systemd/system/talkbox.service.d", "etc/udev/rules.d/90-talkbox.rules", "etc/alsa/conf.d/50-talkbox.conf", "etc/modules-load.d/talkbox.conf", "usr/local/bin/talkbox"]) {
      assert.ok(!fs.existsSync(at(gone)), `${gone} is still there`);
    }
    assert.match(fs.readFileSync(at("etc/talkbox/talkbox.yaml"), "utf8"), /# my own edit/);
    assert.ok(fs.existsSync(at("etc/talkbox/token")));
    assert.match(res.out, /config\.txt still has the lines talkbox added/);
  });

  test("uninstall --purge removes the config and the token too", async () => {
    const res = await uninstall("--purge");
    assert.equal(res.code, 0, res.out);
    assert.ok(!fs.existsSync(at("etc/talkbox")));
  });
});

describe("firmware/image/build-image.sh on a Raspberry Pi OS-shaped image", { timeout: 120_000 }, () => {
  const dir = freshDir("image");
  const input = path.join(dir, "raspios.img");
  const output = path.join(dir, "talkbox.img");
  const BOOT_START = 8192;
  const ROOT_START = 8192 + 65536;
  const bootAt = `${output}@@${BOOT_START * 512}`;
  const rootAt = `${output}?offset=${ROOT_START * 512}`;
  const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

  /** debugfs -R on the output's root partition. */
  const debugfs = (request: string): string => execFileSync("debugfs", ["-R", request, rootAt], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const statMode = (p: string): string => /Mode:\s+(\d+)/.exec(debugfs(`stat "${p}"`))?.[1] ?? "missing";

  test("builds an image: config.txt lines on the boot partition, the app, config, token and first-boot unit on the root", async () => {
    // 160 MiB, DOS label, FAT32 boot at sector 8192 and ext4 root after it, as the official image.
    execFileSync("truncate", ["-s", "160M", input]);
    execFileSync("sfdisk", ["-q", input], { input: `label: dos\nstart=${BOOT_START}, size=65536, type=c\nstart=${ROOT_START}, type=83\n` });
    execFileSync("mkfs.vfat", ["-n", "bootfs", "--offset", String(BOOT_START), input, "32768"], { stdio: "ignore" });
    const rootfs = path.join(dir, "rootfs");
    for (const d of ["etc/systemd/system/multi-user.target.wants", "etc/alsa/conf.d", "etc/udev/rules.d", "opt", "usr/local/bin", "boot/firmware", "var/lib"]) {
      fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    }
    // Raspberry Pi OS bookworm says so here (its apt has Node 18: the tarball below is needed).
    fs.writeFileSync(path.join(rootfs, "etc/os-release"), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n');
    execFileSync("mkfs.ext4", ["-q", "-d", rootfs, "-E", `offset=${ROOT_START * 512}`, input, `${(160 * 2048 - ROOT_START) / 2}k`]);
    const bootConfig = path.join(dir, "config.txt");
    fs.writeFileSync(bootConfig, "dtparam=audio=on\n[pi4]\narm_boost=1\n");
    execFileSync("mcopy", ["-i", `${input}@@${BOOT_START * 512}`, bootConfig, "::config.txt"], { env });

    // A stand-in for the official Node tarball: one directory, bin/node and bin/npm as a link.
    const node = path.join(dir, "node-v20.99.0-linux-arm64");
    fs.mkdirSync(path.join(node, "bin"), { recursive: true });
    fs.mkdirSync(path.join(node, "lib/node_modules/npm/bin"), { recursive: true });
    fs.writeFileSync(path.join(node, "bin/node"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(node, "lib/node_modules/npm/bin/npm-cli.js"), "\n");
    fs.symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", path.join(node, "bin/npm"));
    const tarball = path.join(dir, "node.tar.xz");
    execFileSync("tar", ["-cJf", tarball, "-C", dir, path.basename(node)]);

    const tokenFile = path.join(dir, "token");
    fs.writeFileSync(tokenFile, `${TOKEN}\n`);
    const userconf = path.join(dir, "userconf.txt");
    fs.writeFileSync(userconf, "pi:$6$salt$hash\n");

    const res = await run("bash", [path.join(REPO, "firmware/image/build-image.sh"), input, output, "--board", "aiy-voicehat-v1", "--token-file", tokenFile, "--bot-id", "42", "--node-tarball", tarball, "--userconf", userconf, "--ssh", "--no-build"], { env });
    assert.equal(res.code, 0, res.out);
    assert.ok(!res.out.includes(TOKEN), "the token appeared in the output");

    const boot = execFileSync("mtype", ["-i", bootAt, "::config.txt"], { env, encoding: "utf8" });
    assert.match(boot, /^dtparam=audio=on\n\[pi4\]\narm_boost=1\n\n# talkbox \(aiy-voicehat-v1\)\n\[all\]\ndtoverlay=googlevoicehat-soundcard\n$/);
    const bootFiles = execFileSync("mdir", ["-b", "-i", bootAt, "::"], { env, encoding: "utf8" });
    assert.match(bootFiles, /userconf\.txt/);
    assert.match(bootFiles, /::\/ssh\b/);

    assert.equal(debugfs("cat /etc/talkbox/token"), `${TOKEN}\n`);
    assert.equal(statMode("/etc/talkbox"), "0750");
    assert.equal(statMode("/etc/talkbox/token"), "0640");
    assert.equal(statMode("/etc/talkbox/talkbox.yaml"), "0640");
    assert.match(debugfs("cat /etc/talkbox/talkbox.yaml"), /^board: aiy-voicehat-v1$/m);
    assert.equal(statMode("/opt/talkbox/dist/src/cli.js"), "0755");
    assert.equal(statMode("/opt/talkbox/scripts/install.sh"), "0755");
    assert.equal(statMode("/opt/talkbox/node_modules"), "missing", "host-built packages must not go into an image for another CPU");
    assert.match(debugfs("stat /etc/systemd/system/multi-user.target.wants/talkbox-firstboot.service"), /Fast link dest: "\/etc\/systemd\/system\/talkbox-firstboot\.service"/);
    assert.match(debugfs("cat /etc/systemd/system/talkbox-firstboot.service"), /^ExecStart=\/opt\/talkbox\/scripts\/install\.sh$/m);
    assert.match(debugfs("cat /etc/alsa/conf.d/50-talkbox.conf"), /hw:CARD=sndrpigooglevoi/);
    assert.equal(statMode("/usr/local/bin/node"), "0755");
    assert.match(debugfs("stat /usr/local/bin/npm"), /Fast link dest: "\.\.\/lib\/node_modules\/npm\/bin\/npm-cli\.js"/);
    // Files written by debugfs belong to root, whoever built the image.
    assert.match(debugfs("stat /opt/talkbox/package.json"), /User:\s+0\s+Group:\s+0\b/);

    // The root file system is consistent after the writes.
    const part = path.join(dir, "root.part");
    execFileSync("dd", [`if=${output}`, `of=${part}`, "bs=512", `skip=${ROOT_START}`, "status=none"]);
    const fsck = await run("e2fsck", ["-fn", part]);
    assert.equal(fsck.code, 0, fsck.out);

    // The input image is untouched.
    assert.equal(execFileSync("mtype", ["-i", `${input}@@${BOOT_START * 512}`, "::config.txt"], { env, encoding: "utf8" }), "dtparam=audio=on\n[pi4]\narm_boost=1\n");
  });

  test("a bookworm image without --node-tarball is refused (it could never install), naming the fix", async () => {
    const out = path.join(dir, "no-node.img");
    const res = await run("bash", [path.join(REPO, "firmware/image/build-image.sh"), input, out, "--board", "usb-generic", "--no-build"], { env });
    assert.notEqual(res.code, 0);
    assert.match(res.out, /is Raspberry Pi OS bookworm, whose apt has no Node\.js 20: pass --node-tarball/);
    assert.ok(!fs.existsSync(out));
  });

  test("an input that is not a Raspberry Pi OS image is refused and leaves no output behind", async () => {
    const plain = path.join(dir, "plain.img");
    execFileSync("truncate", ["-s", "8M", plain]);
    const out = path.join(dir, "never.img");
    const res = await run("bash", [path.join(REPO, "firmware/image/build-image.sh"), plain, out, "--board", "usb-generic", "--no-build"], { env });
    assert.notEqual(res.code, 0);
    assert.match(res.out, /no DOS partition table.*Raspberry Pi OS image/);
    assert.ok(!fs.existsSync(out));
  });
});
