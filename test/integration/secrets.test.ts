/**
 * The agent token never leaks: a canary token from each of its three sources, the errors
 * that are most likely to carry it provoked, and every output searched for it.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { startDevice, type Device } from "../support/device";
import { CLI, DaemonProcess } from "../support/daemon-process";
import { startRig } from "../rig/rig";

const CANARY = "pat_CANARY_7d1f0c9e4b2a";
/** The token a reload brings. */
const NEW_CANARY = "pat_RELOADED_3e9a5b71c04d";
const MASK = "********";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-secrets-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => fs.mkdtempSync(path.join(root, `case-${dirs++}-`));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

function assertNoCanary(what: string, text: string): void {
  assert.ok(!text.includes(CANARY), `the token leaked into ${what}:\n${text}`);
}

type Source = "file" | "env" | "credential";

/** The device's config and environment carrying the canary from `source` only. */
function tokenFrom(source: Source): { agent: Record<string, unknown>; env: NodeJS.ProcessEnv; expect: RegExp } {
  switch (source) {
    case "file":
      return { agent: { token: CANARY }, env: {}, expect: /the config file .*talkbox\.yaml/ };
    case "env":
      return { agent: { token: undefined }, env: { TALKBOX_TOKEN: CANARY }, expect: /the environment variable TALKBOX_TOKEN/ };
    case "credential": {
      const dir = freshDir();
      fs.writeFileSync(path.join(dir, "token"), `${CANARY}\n`, { mode: 0o600 });
      return { agent: { token: undefined }, env: { CREDENTIALS_DIRECTORY: dir }, expect: /the systemd credential .*\/token/ };
    }
  }
}

/** Everything a user could see from this device: daemon output, status, status --json, config check. */
async function outputs(dev: Device, env: NodeJS.ProcessEnv): Promise<{ status: Run; json: Run; check: Run }> {
  const configFile = path.join(dev.rig.dir, "talkbox.yaml");
  const status = await cli(["status", "--socket", dev.socket], env);
  const json = await cli(["status", "--json", "--socket", dev.socket], env);
  const check = await cli(["config", "check", "--config", configFile], { ...dev.rig.env, ...env });
  return { status, json, check };
}

describe("the agent token never leaks", { timeout: 90_000 }, () => {
  for (const source of ["file", "env", "credential"] as const) {
    test(`from the ${source}: a rejected token (HTTP 401), status, status --json, config check`, async () => {
      const { agent, env, expect } = tokenFrom(source);
      const dev = await startDevice({ emulator: { token: "the-right-token-0000" }, config: { agent }, env, ready: "offline" });
      try {
        const down = await dev.daemon.waitForLog((l) => typeof l.msg === "string" && /HTTP 401/.test(JSON.stringify(l)));
        assert.ok(down, "the daemon saw the 401");
        assert.ok(dev.daemon.logs.some((l) => expect.test(l.msg)), `the daemon logs where the token came from (${expect})`);

        const { status, json, check } = await outputs(dev, env);
        assert.equal(status.code, 0, status.stderr);
        assert.match(status.stdout, /Link\.problem:\s+auth/);
        assert.match(json.stdout, /HTTP 401/);
        assert.equal(check.code, 0, check.stderr);
        assert.match(check.stdout, new RegExp(`^# agent\\.token: from ${expect.source}`, "m"));
        assert.equal((YAML.parse(check.stdout) as { agent: { token: string } }).agent.token, MASK);
        for (const [what, run] of Object.entries({ status, json, check })) {
          assertNoCanary(`${what} stdout`, run.stdout);
          assertNoCanary(`${what} stderr`, run.stderr);
        }
      } finally {
        await dev.stop();
      }
      assertNoCanary("the daemon's output", dev.daemon.rawOutput.join("\n"));
    });
  }

  test("an agent that echoes the token in its refusal: the daemon's log and status show it masked", async () => {
    // Some servers quote the credential they reject; that text reaches the logs and `status`.
    const echo = http.createServer();
    echo.on("upgrade", (req, socket) => {
      const body = JSON.stringify({ code: 4100, msg: `authentication failed for '${req.headers.authorization ?? ""}'` });
      socket.once("finish", () => socket.destroy());
      socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const url = `ws://127.0.0.1:${(echo.address() as AddressInfo).port}/v1/chat`;
    const dev = await startDevice({ config: { agent: { url, token: CANARY } }, ready: "offline" });
    try {
      await dev.daemon.waitForLog((l) => JSON.stringify(l).includes("authentication failed for"));
      const { status, json } = await outputs(dev, {});
      assert.match(json.stdout, /authentication failed for 'Bearer \[redacted\]'/);
      for (const [what, run] of Object.entries({ status, json })) {
        assertNoCanary(`${what} stdout`, run.stdout);
        assertNoCanary(`${what} stderr`, run.stderr);
      }
      // A new token by reload (systemctl reload talkbox), refused and quoted too: masked as well.
      const file = path.join(dev.rig.dir, "talkbox.yaml");
      const config = YAML.parse(fs.readFileSync(file, "utf8")) as { agent: Record<string, unknown> };
      config.agent.token = NEW_CANARY;
      fs.writeFileSync(file, YAML.stringify(config));
      const from = dev.daemon.logs.length;
      process.kill(dev.daemon.child.pid!, "SIGHUP");
      await dev.daemon.waitForLog((l) => JSON.stringify(l).includes("authentication failed for"), 10_000, from);
      const after = await outputs(dev, {});
      assert.match(after.json.stdout, /authentication failed for 'Bearer \[redacted\]'/);
      for (const run of [after.status, after.json]) assert.ok(!`${run.stdout}${run.stderr}`.includes(NEW_CANARY), `the reloaded token in a control reply: ${run.stdout}`);
    } finally {
      await dev.stop();
      echo.close();
    }
    assert.ok(dev.daemon.rawOutput.some((l) => l.includes("Bearer [redacted]")), "the daemon logged the refusal, masked");
    assertNoCanary("the daemon's output", dev.daemon.rawOutput.join("\n"));
  });

  test("a config error next to the token: run and config check exit 78 without it", async () => {
    const dir = freshDir();
    const file = path.join(dir, "talkbox.yaml");
    const cases = {
      "an unknown key": `agent:\n  bot_id: "7000000000000000001"\n  token: ${CANARY}\n  tokne: ${CANARY}\n`,
      "a YAML syntax error on the token's line": `agent:\n  token: ${CANARY}: [\n`,
      "a token of the wrong type": `agent:\n  bot_id: "7000000000000000001"\n  token: [${CANARY}]\n`,
    };
    for (const [what, text] of Object.entries(cases)) {
      fs.writeFileSync(file, text);
      for (const args of [["run", "--config", file], ["config", "check", "--config", file]]) {
        const r = await cli(args, { PATH: process.env.PATH });
        assert.equal(r.code, 78, `${what}, ${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /talkbox\.yaml/);
        assertNoCanary(`${what}, ${args[0]} stdout`, r.stdout);
        assertNoCanary(`${what}, ${args[0]} stderr`, r.stderr);
      }
    }
  });

  test("a start-up failure whose message contains the token: exit 1, masked", async () => {
    // The control socket path is no secret, but if it held the token's text, the error quoting it must not.
    const dir = freshDir();
    const socket = path.join(dir, `${CANARY}.sock`);
    fs.writeFileSync(socket, "not a socket");
    const rig = await startRig({ micRate: 16000 });
    try {
      for (const source of ["file", "env", "credential"] as const) {
        const { agent, env } = tokenFrom(source);
        const config = {
          agent: { url: "emulator", ...agent },
          audio: { input: { device: rig.micDevice }, output: { device: rig.spkDevice } },
          control: { socket },
          log: { format: "json" },
        };
        const daemon = DaemonProcess.run(freshDir(), config, { ...rig.env, ...env });
        const code = await daemon.waitExit();
        const out = daemon.rawOutput.join("\n");
        assert.equal(code, 1, out);
        assert.match(out, /\[redacted\]\.sock exists and is not a socket/, "the failure is reported, with the token masked");
        assertNoCanary(`the start-up failure (${source})`, out);
      }
    } finally {
      await rig.close();
    }
  });
});
