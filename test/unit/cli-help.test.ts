/** The compiled CLI's help, version, usage errors and `config check`, with their exit codes. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { loadConfig, maskSecrets } from "../../src/config/load";
import { CLI } from "../support/daemon-process";

const CANARY = "tok-CANARY-cli-91b0";
const COMMANDS = ["run", "talk", "status", "config check", "emulator", "boards", "doctor", "version", "help"];

const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-cli-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => fs.mkdtempSync(path.join(root, `c${n++}-`));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment: nothing of the test runner's TALKBOX_* or systemd variables. */
const BASE_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir() };

function talkbox(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...BASE_ENV, ...opts.env }, cwd: opts.cwd ?? root }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

function writeConfig(text: string, mode = 0o600): string {
  const file = path.join(freshDir(), "talkbox.yaml");
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  return file;
}

describe("help", () => {
  test("talkbox --help, -h, help and no arguments: the same overview, every command, the exit codes", async () => {
    const runs = await Promise.all([["--help"], ["-h"], ["help"], []].map((args) => talkbox(args)));
    for (const r of runs) {
      assert.equal(r.code, 0);
      assert.equal(r.stderr, "");
      assert.equal(r.stdout, runs[0]!.stdout);
    }
    const text = runs[0]!.stdout;
    for (const c of COMMANDS) assert.match(text, new RegExp(`^ {2}${c} +\\S`, "m"), `lists ${c}`);
    const exits = text.slice(text.indexOf("Exit codes:")).split("\n").slice(1).filter(Boolean);
    assert.deepEqual(exits.map((l) => Number(l.trim().split(/\s+/)[0])), [0, 1, 2, 3, 78, 130]);
    assert.match(text, /^ {2}78 +configuration error/m);
  });

  for (const c of COMMANDS) {
    test(`talkbox ${c} --help and talkbox help ${c}: usage, options, examples, exit codes`, async () => {
      const [a, b] = await Promise.all([talkbox([...c.split(" "), "--help"]), talkbox(["help", ...c.split(" ")])]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(a.stdout, b.stdout);
      assert.match(a.stdout, new RegExp(`^Usage: talkbox ${c}`, "m"));
      assert.match(a.stdout, /^Options:\n(?: {2}.*\n)*? {2}-h, --help +this text$/m);
      assert.match(a.stdout, /^Examples:\n {2}talkbox /m);
      assert.match(a.stdout, /^Exit codes:\n {2}0 /m);
    });
  }

  test("per-command details: run names the token's sources and systemd; config check its exit 78", async () => {
    const run = await talkbox(["run", "-h"]);
    assert.match(run.stdout, /TALKBOX_TOKEN, the systemd credential 'token'/);
    assert.match(run.stdout, /READY=1/);
    const check = await talkbox(["config", "--help"]);
    assert.equal(check.code, 0);
    assert.match(check.stdout, /^Usage: talkbox config check \[--config FILE\]/m);
    assert.match(check.stdout, /^ {2}78 +configuration error/m);
    const talk = await talkbox(["talk", "--help"]);
    assert.match(talk.stdout, /^ {2}130 +interrupted by Ctrl-C/m);
  });
});

describe("usage errors exit 2 and point at the help", () => {
  const cases: Array<[string[], RegExp]> = [
    [["frobnicate"], /^talkbox: unknown command 'frobnicate'\nRun 'talkbox --help' for usage\.$/m],
    [["frobnicate", "--help"], /^talkbox: unknown command 'frobnicate'/m],
    [["status", "--bogus"], /^talkbox status: Unknown option '--bogus'.*\nRun 'talkbox status --help' for usage\.$/m],
    [["boards", "extra"], /^talkbox boards: Unexpected argument 'extra'/m],
    [["talk"], /^talkbox talk: --seconds N is required/m],
    [["talk", "--seconds", "0"], /^talkbox talk: --seconds N is required/m],
    [["emulator", "--port", "99999"], /^talkbox emulator: --port must be a number/m],
    [["run", "--config"], /^talkbox run: Option '-c, --config <value>' argument missing/m],
    [["config"], /^talkbox config: expected a sub-command: check\nRun 'talkbox config --help'/m],
    [["config", "show"], /^talkbox config: unknown sub-command 'show'; expected one of: check/m],
    [["config", "check", "--json"], /^talkbox config check: Unknown option '--json'/m],
    [["help", "nosuch"], /^talkbox: no command 'nosuch'/m],
  ];
  for (const [args, expected] of cases) {
    test(`talkbox ${args.join(" ")}`, async () => {
      const r = await talkbox(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, expected);
    });
  }
});

test("talkbox version: the package's version, Node's and the platform", async () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8")) as { version: string };
  for (const args of [["version"], ["--version"]]) {
    const r = await talkbox(args);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `talkbox ${pkg.version} (node ${process.version}, ${process.platform}/${process.arch})\n`);
  }
});

describe("talkbox config check", () => {
  const VALID = `board: sim\nagent:\n  coze:\n    bot_id: "7350000000000000001"\n  token: ${CANARY}\nconversation:\n  mode: free\n`;

  test("a valid file: exit 0, the effective config as YAML with the token masked, the board and the token's source", async () => {
    const file = writeConfig(VALID);
    const stateDir = path.join(freshDir(), "state");
    const r = await talkbox(["config", "check", "--config", file], { env: { TALKBOX_BOT_ID: "7350000000000000002", STATE_DIRECTORY: stateDir } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", "a mode 600 file draws no warning");
    assert.ok(!r.stdout.includes(CANARY));
    const header = r.stdout.split("\n").filter((l) => l.startsWith("#"));
    assert.deepEqual(header, [
      "# talkbox config check: valid",
      `# file: ${file}`,
      "# board: sim (Simulator: keyboard/control-socket talk button, ALSA default devices or files)",
      `# agent.token: from the config file ${file}`,
    ]);
    const printed = YAML.parse(r.stdout) as ReturnType<typeof maskSecrets>;
    // What the daemon would run with, in this process's view of the same inputs.
    const expected = maskSecrets(loadConfig({ path: file, env: { TALKBOX_BOT_ID: "7350000000000000002" } }).config);
    expected.state.dir = stateDir;
    assert.deepEqual(printed, expected);
    assert.equal(printed.agent.token, "********");
    assert.equal(printed.agent.coze.bot_id, "7350000000000000002", "the environment is applied");
    assert.equal(printed.conversation.mode, "free");
    assert.equal(printed.state.dir, stateDir, "state.dir follows $STATE_DIRECTORY");
  });

  test("the token's source: TALKBOX_TOKEN, then the systemd credential, then the file", async () => {
    const file = writeConfig(VALID);
    const creds = freshDir();
    fs.writeFileSync(path.join(creds, "token"), `${CANARY}-cred\n`);
    const fromCred = await talkbox(["config", "check", "-c", file], { env: { CREDENTIALS_DIRECTORY: creds } });
    assert.match(fromCred.stdout, new RegExp(`^# agent\\.token: from the systemd credential ${path.join(creds, "token")}$`, "m"));
    const fromEnv = await talkbox(["config", "check", "-c", file], { env: { CREDENTIALS_DIRECTORY: creds, TALKBOX_TOKEN: `${CANARY}-env` } });
    assert.match(fromEnv.stdout, /^# agent\.token: from the environment variable TALKBOX_TOKEN$/m);
    for (const r of [fromCred, fromEnv]) {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!(r.stdout + r.stderr).includes(CANARY));
    }
  });

  test("a token in a file every user can read: a warning with the fix on stderr, still exit 0", async () => {
    const file = writeConfig(VALID, 0o644);
    const r = await talkbox(["config", "check", "-c", file]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, new RegExp(`^warning: ${file} holds agent\\.token and every user .* fix: chmod 640 ${file} && chown root:talkbox ${file}`, "m"));
    assert.ok(YAML.parse(r.stdout), "stdout stays pure YAML");
  });

  test("an invalid file: exit 78, one line per problem on stderr, nothing on stdout", async () => {
    const file = writeConfig(`agent:\n  bot_id: "7350000000000000001"\n  token: ${CANARY}\n  tokn: x\nconversation:\n  mode: chatty\n`);
    const r = await talkbox(["config", "check", "--config", file]);
    assert.equal(r.code, 78);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^invalid config: ${file}:$`, "m"));
    assert.match(r.stderr, /^ {2}- agent\.tokn: unknown key/m);
    assert.match(r.stderr, /^ {2}- conversation\.mode: expected one of "push-to-talk", "free"/m);
    assert.ok(!r.stderr.includes(CANARY));
  });

  test("a file that does not exist: exit 78 naming it", async () => {
    const missing = path.join(freshDir(), "nope.yaml");
    const r = await talkbox(["config", "check", "--config", missing]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, new RegExp(`${missing}: config file not found`));
  });

  test("no config file at all, on the emulator: valid, and says there is no file and no token", { skip: fs.existsSync("/etc/talkbox/talkbox.yaml") }, async () => {
    const r = await talkbox(["config", "check"], { cwd: freshDir(), env: { TALKBOX_AGENT_URL: "emulator" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^# file: none \(defaults and environment only\)$/m);
    assert.match(r.stdout, /^# agent\.token: not set$/m);
  });
});
