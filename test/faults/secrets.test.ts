/**
 * A token with quotes and backslashes, echoed back by a server that refuses it: no
 * encoding of it (as is, JSON-escaped once or twice, URL-encoded) reaches the log,
 * `status`, or `doctor`. A token pasted as a YAML key is not printed by the config error.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDevice } from "../support/device";
import { CLI } from "../support/daemon-process";

const TOKEN = 'pat_Q"uo\\te\\\\CANARY/x+9 z';

/** Every form the token may take in output; independent of the daemon's scrubber. */
function forms(t: string): string[] {
  const j1 = JSON.stringify(t).slice(1, -1);
  return [t, j1, JSON.stringify(j1).slice(1, -1), encodeURIComponent(t), "CANARY"];
}

function assertClean(what: string, text: string): void {
  for (const f of forms(TOKEN)) assert.ok(!text.includes(f), `the token (as ${JSON.stringify(f)}) leaked into ${what}:\n${text.slice(0, 2000)}`);
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, out: `${stdout}\n${stderr}` });
    });
  });
}

/** A server that refuses every handshake and quotes the Authorization header, JSON-escaped, and URL-encoded. */
async function echoingServer(): Promise<{ url: string; close(): void }> {
  const server = http.createServer();
  server.on("upgrade", (req, socket) => {
    const auth = req.headers.authorization ?? "";
    const body = JSON.stringify({ code: 4100, msg: `authentication failed for ${JSON.stringify(auth)} (${encodeURIComponent(auth)})` });
    socket.once("finish", () => socket.destroy());
    socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat`, close: () => server.close() };
}

describe("fault suite: secrets in every encoding", () => {
  test("a token with quotes and backslashes echoed by the server: not in the log, status or doctor", { timeout: 90_000 }, async () => {
    const echo = await echoingServer();
    const dev = await startDevice({ config: { agent: { url: echo.url, token: TOKEN } }, ready: "offline" });
    try {
      await dev.daemon.waitForLog((l) => /authentication failed for/.test(JSON.stringify(l)), 10_000);
      const status = await cli(["status", "--json", "--socket", dev.socket], dev.rig.env);
      assert.match(status.out, /authentication failed for/);
      assertClean("status --json", status.out);
      const doctor = await cli(["doctor", "--config", path.join(dev.rig.dir, "talkbox.yaml")], dev.rig.env);
      assert.match(doctor.out, /authentication failed for/, doctor.out);
      assertClean("doctor", doctor.out);
    } finally {
      await dev.stop();
      echo.close();
    }
    assertClean("the daemon's output", dev.daemon.rawOutput.join("\n"));
  });

  test("a token pasted as a YAML key: the config error (exit 78) points at it without printing it", { timeout: 30_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-key-"));
    try {
      const file = path.join(dir, "talkbox.yaml");
      const key = "pat_CANARYabcdefghijklmnopqrstuvwxyz0123456789";
      fs.writeFileSync(file, `agent:\n  bot_id: "7000000000000000001"\n  ${key}:\n`);
      for (const args of [["run", "--config", file], ["config", "check", "--config", file], ["doctor", "--config", file]]) {
        const r = await cli(args, { PATH: process.env.PATH });
        if (args[0] !== "doctor") assert.equal(r.code, 78, r.out);
        assert.match(r.out, /agent\.\(a key of \d+ characters, not shown/, r.out);
        assert.ok(!r.out.includes(key) && !r.out.includes("CANARY"), `${args[0]} printed the key:\n${r.out}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
