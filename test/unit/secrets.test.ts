/** The token's three sources and their precedence, config file permission warnings, and scrubbing. */
import { configError } from "../support/config-error";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/load";
import { permissionWarnings, scrubStrings } from "../../src/config/secrets";
import { scrubber } from "../../src/log/logger";

const FILE_TOKEN = "file-CANARY-0a1b2c";
const CRED_TOKEN = "cred-CANARY-3d4e5f";
const ENV_TOKEN = "env-CANARY-6a7b8c";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-secrets-unit-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => fs.mkdtempSync(path.join(root, `c${n++}-`));

function configFile(text: string, mode = 0o600): string {
  const file = path.join(freshDir(), "talkbox.yaml");
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  return file;
}

function credentials(token: string): string {
  const dir = freshDir();
  fs.writeFileSync(path.join(dir, "token"), token);
  return dir;
}

const REAL_AGENT = 'agent:\n  coze:\n    bot_id: "7350000000000000001"\n';
const withToken = `${REAL_AGENT}  token: ${FILE_TOKEN}\n`;

describe("agent.token sources", () => {
  test("the config file alone", () => {
    const file = configFile(withToken);
    const loaded = loadConfig({ path: file, env: {} });
    assert.equal(loaded.config.agent.token, FILE_TOKEN);
    assert.deepEqual(loaded.secretSources["agent.token"], { kind: "file", file });
    assert.deepEqual(loaded.secrets, [FILE_TOKEN]);
  });

  test("a systemd credential overrides the file; its trailing newline is not part of the token", () => {
    const dir = credentials(`${CRED_TOKEN}\n`);
    const loaded = loadConfig({ path: configFile(withToken), env: { CREDENTIALS_DIRECTORY: dir } });
    assert.equal(loaded.config.agent.token, CRED_TOKEN);
    assert.deepEqual(loaded.secretSources["agent.token"], { kind: "credential", file: path.join(dir, "token") });
    assert.deepEqual(loaded.secrets, [CRED_TOKEN]);
  });

  test("TALKBOX_TOKEN overrides both", () => {
    const env = { CREDENTIALS_DIRECTORY: credentials(CRED_TOKEN), TALKBOX_TOKEN: ENV_TOKEN };
    const loaded = loadConfig({ path: configFile(withToken), env });
    assert.equal(loaded.config.agent.token, ENV_TOKEN);
    assert.deepEqual(loaded.secretSources["agent.token"], { kind: "env", variable: "TALKBOX_TOKEN" });
    assert.deepEqual(loaded.secrets, [ENV_TOKEN]);
  });

  test("a credential alone satisfies a real agent's required token", () => {
    const loaded = loadConfig({ path: configFile(REAL_AGENT), env: { CREDENTIALS_DIRECTORY: credentials(`${CRED_TOKEN}\r\n`) } });
    assert.equal(loaded.config.agent.token, CRED_TOKEN);
  });

  test("a credentials directory without a token credential: the file's token is used", () => {
    const loaded = loadConfig({ path: configFile(withToken), env: { CREDENTIALS_DIRECTORY: freshDir() } });
    assert.equal(loaded.config.agent.token, FILE_TOKEN);
    assert.equal(loaded.secretSources["agent.token"]?.kind, "file");
  });

  test("no token anywhere: the error names all three places to put one", () => {
    const err = configError(() => loadConfig({ path: configFile(REAL_AGENT), env: {} }));
    assert.match(err.message, /agent\.token: .*agent\.token in the config file.*TALKBOX_TOKEN.*systemd credential/);
  });

  test("an empty or unreadable credential is a config error that names the file, never a value", () => {
    const empty = credentials("\n");
    const e1 = configError(() => loadConfig({ path: configFile(withToken), env: { CREDENTIALS_DIRECTORY: empty } }), FILE_TOKEN);
    assert.match(e1.message, /token: the systemd credential 'token' is empty/);
    const unreadable = freshDir();
    fs.mkdirSync(path.join(unreadable, "token"));
    const e2 = configError(() => loadConfig({ path: configFile(withToken), env: { CREDENTIALS_DIRECTORY: unreadable } }), FILE_TOKEN);
    assert.match(e2.message, /token: cannot read the systemd credential \(EISDIR\)/);
  });

  test("another key invalid while the token comes from a credential: the error never carries the credential", () => {
    const dir = credentials(CRED_TOKEN);
    const err = configError(() => loadConfig({ path: configFile("agent: { bot_id: '1', token: x }\nlog: { level: loud }\n"), env: { CREDENTIALS_DIRECTORY: dir } }), CRED_TOKEN);
    assert.match(err.message, /log\.level/);
  });
});

describe("config file permissions", () => {
  const cases: Array<[mode: number, token: boolean, expected: RegExp[]]> = [
    [0o600, true, []],
    [0o640, true, []],
    [0o644, false, []],
    [0o644, true, [/holds agent\.token and every user on this machine can read it \(mode 0644\)/]],
    [0o664, false, [/can be changed by its group \(mode 0664\)/]],
    [0o602, false, [/can be changed by every user \(mode 0602\)/]],
    [0o666, true, [/every user .* can read it/, /can be changed by its group and every user \(mode 0666\)/]],
  ];
  for (const [mode, token, expected] of cases) {
    test(`mode ${mode.toString(8)}, ${token ? "with" : "without"} a token: ${expected.length} warning(s)`, () => {
      const file = configFile(token ? withToken : REAL_AGENT, mode);
      const warnings = permissionWarnings(file, token);
      assert.equal(warnings.length, expected.length, warnings.join("\n"));
      expected.forEach((re, i) => {
        assert.match(warnings[i]!, re);
        assert.ok(warnings[i]!.includes(`fix: chmod 640 ${file} && chown root:talkbox ${file}`), "says how to fix it");
      });
    });
  }

  test("loadConfig reports them, for the file it read", () => {
    const file = configFile(withToken, 0o644);
    assert.equal(loadConfig({ path: file, env: {} }).warnings.length, 1);
    assert.equal(loadConfig({ path: configFile(withToken, 0o640), env: {} }).warnings.length, 0);
    const env = { CREDENTIALS_DIRECTORY: credentials(CRED_TOKEN) };
    assert.equal(loadConfig({ path: configFile(REAL_AGENT, 0o644), env }).warnings.length, 0, "no token in a readable file: fine");
  });
});

test("scrubStrings masks a secret anywhere in a reply, keys and nesting included, and leaves the rest", () => {
  const reply = { Ok: true, Link: { message: `rejected 'Bearer ${ENV_TOKEN}'`, retry: 5 }, List: [ENV_TOKEN, 1, null], [ENV_TOKEN]: "x" };
  const scrubbed = scrubStrings(reply, scrubber([ENV_TOKEN]));
  assert.ok(!JSON.stringify(scrubbed).includes(ENV_TOKEN));
  assert.deepEqual(scrubbed, { Ok: true, Link: { message: "rejected 'Bearer [redacted]'", retry: 5 }, List: ["[redacted]", 1, null], "[redacted]": "x" });
});

describe("CrashGuard: an uncaught error in the CLI process", () => {
  const crash = path.resolve(__dirname, "../../src/cli/crash.js");
  const logger = path.resolve(__dirname, "../../src/log/logger.js");
  function runScript(body: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const script = `const { CrashGuard } = require(${JSON.stringify(crash)}); const { createLogger } = require(${JSON.stringify(logger)});
      const secret = ${JSON.stringify(ENV_TOKEN)}; const guard = new CrashGuard(); guard.addSecrets([secret]); guard.install(); ${body}`;
    return new Promise((resolve) => {
      execFile(process.execPath, ["-e", script], (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
    });
  }

  test("before the logger exists: exit 1, the report on stderr, the token masked", async () => {
    const r = await runScript("setImmediate(() => { throw new Error('cannot reach https://x/?token=' + secret); });");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /talkbox crashed: Error: cannot reach https:\/\/x\/\?token=\[redacted\]/);
    assert.ok(!(r.stdout + r.stderr).includes(ENV_TOKEN));
  });

  test("in the daemon: a fatal log line, the token masked; a stray rejection is logged, masked", async () => {
    const r = await runScript(
      "guard.useLogger(createLogger({ format: 'json', secrets: [secret] }));" +
        "Promise.reject(new Error('rejected ' + secret));" +
        "setTimeout(() => { throw new Error('boom ' + secret); }, 50);",
    );
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } });
    assert.deepEqual(lines.map((l) => [l.level, l.msg, l.err?.message]), [
      [50, "unhandled promise rejection", "rejected [redacted]"],
      [60, "talkbox crashed; systemd will restart it", "boom [redacted]"],
    ]);
    assert.ok(!(r.stdout + r.stderr).includes(ENV_TOKEN));
  });
});
