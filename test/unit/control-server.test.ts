import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createLogger, silentLogger, type Logger } from "../../src/log/logger";
import { encodeFrame, FrameDecoder } from "../../src/control/framing";
import { startControlServer, type ConnectionDeadlines, type ControlServer, type ControlHandler } from "../../src/control/server";
import { openControlConnection, sendCommand } from "../../src/control/client";
import { controlCommands, type ControlCommand } from "../../src/app/commands";
import { talkCommand } from "../../src/cli/talk";
import { statusCommand } from "../../src/cli/status";
import { within } from "../support/within";

const GUARD = { timeout: 10_000 };

let dir: string;
let counter = 0;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-control-"));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function socketPath(): string {
  return path.join(dir, `s${++counter}.sock`);
}

/** How long a wait may take before the test fails (a broken server must not hang the run). */
const WAIT_MS = 3000;

/** Records log lines so a test can wait for the one it expects. */
class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  private waiters: { match: (l: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  readonly logger: Logger = createLogger({
    level: "debug",
    format: "json",
    destination: { write: (s: string) => this.add(JSON.parse(s) as Record<string, unknown>) },
  });

  private add(line: Record<string, unknown>): void {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve();
      return false;
    });
  }

  waitFor(match: (l: Record<string, unknown>) => boolean): Promise<void> {
    if (this.lines.some(match)) return Promise.resolve();
    return within(new Promise((resolve) => this.waiters.push({ match, resolve })), WAIT_MS, "expected log line");
  }
}

/** A client that speaks raw bytes, to send what the real client never would. */
class RawClient {
  private readonly decoder = new FrameDecoder();
  private readonly frames: unknown[] = [];
  private readonly waiters: ((v: unknown) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const r of this.decoder.push(chunk)) {
        assert.ok(r.ok, `server sent an undecodable frame: ${JSON.stringify(r)}`);
        const waiter = this.waiters.shift();
        if (waiter) waiter(r.value);
        else this.frames.push(r.value);
      }
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  static async connect(p: string): Promise<RawClient> {
    const socket = net.createConnection(p);
    await once(socket, "connect");
    return new RawClient(socket);
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  next(): Promise<unknown> {
    if (this.frames.length > 0) return Promise.resolve(this.frames.shift());
    return within(new Promise((resolve) => this.waiters.push(resolve)), WAIT_MS, "a reply frame");
  }

  waitClosed(): Promise<void> {
    return within(this.closed, WAIT_MS, "the server closing the connection");
  }
}

interface Rig {
  server: ControlServer;
  calls: ControlCommand[];
}

async function startRig(
  handler?: ControlHandler<ControlCommand>,
  opts: { log?: Logger; maxConnections?: number; path?: string; deadlines?: { normal: ConnectionDeadlines; reserve: ConnectionDeadlines } } = {},
): Promise<Rig> {
  const calls: ControlCommand[] = [];
  const server = await startControlServer({
    path: opts.path ?? socketPath(),
    log: opts.log ?? silentLogger(),
    maxConnections: opts.maxConnections,
    ...(opts.deadlines ? { deadlines: opts.deadlines } : {}),
    commands: controlCommands,
    handler: (cmd) => {
      calls.push(cmd);
      return handler ? handler(cmd) : cmd.Command === "Status" ? { State: "idle" } : {};
    },
  });
  return { server, calls };
}

/** Leaves a socket file with nobody listening, as a daemon killed with SIGKILL does. */
async function staleSocket(p: string): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(`${p}.live`, resolve));
  fs.linkSync(`${p}.live`, p);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(fs.lstatSync(p).isSocket());
}

describe("control server", () => {
  test("dispatches Button and Status to the handler and replies Ok", GUARD, async () => {
    const { server, calls } = await startRig((cmd) =>
      cmd.Command === "Status" ? { State: "idle", Link: { Up: true } } : cmd.Command === "Button" ? { Pressed: cmd.Action === "down" } : {},
    );
    try {
      assert.deepEqual(await sendCommand(server.path, { Command: "Button", Name: "talk", Action: "down" }), {
        Ok: true,
        Pressed: true,
      });
      assert.deepEqual(await sendCommand(server.path, { Command: "Status" }), {
        Ok: true,
        State: "idle",
        Link: { Up: true },
      });
      assert.deepEqual(calls, [{ Command: "Button", Name: "talk", Action: "down" }, { Command: "Status" }]);
    } finally {
      await server.close();
    }
  });

  test("a handler cannot turn a success into Ok:false; throwing is how it fails", GUARD, async () => {
    const { server } = await startRig(() => ({ Ok: false, State: "idle" }));
    try {
      const reply = await sendCommand(server.path, { Command: "Status" });
      assert.deepEqual(reply, { Ok: true, State: "idle" });
      assert.deepEqual(Object.keys(reply), ["Ok", "State"]);
    } finally {
      await server.close();
    }
  });

  test("creates the parent directory and sets the socket mode to 0660", GUARD, async () => {
    const p = path.join(dir, "nested", "run", "talkbox.sock");
    const { server } = await startRig(undefined, { path: p });
    try {
      const st = fs.statSync(p);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o660);
    } finally {
      await server.close();
    }
    assert.equal(fs.existsSync(p), false, "close() removes the socket file");
  });

  test("a malformed frame gets an error reply; the same and other connections keep working", GUARD, async () => {
    const { server, calls } = await startRig();
    try {
      const a = await RawClient.connect(server.path);
      const b = await RawClient.connect(server.path);
      const badJson = Buffer.from("{oops");
      const header = Buffer.alloc(8);
      header.write("ctrl", 0, "latin1");
      header.writeUInt32BE(badJson.length, 4);
      a.write(Buffer.concat([header, badJson]));
      const r1 = (await a.next()) as Record<string, unknown>;
      assert.equal(r1["Ok"], false);
      assert.match(String(r1["Error"]), /not valid JSON/);

      a.write(encodeFrame({ Command: "Button", Name: "talk", Action: "sideways" }));
      assert.deepEqual(await a.next(), { Ok: false, Error: 'invalid Button command: Action must be "down", "up", "double", "triple" or "long"' });

      a.write(encodeFrame({ Command: "Dance" }));
      assert.deepEqual(await a.next(), { Ok: false, Error: 'unknown Command "Dance"; expected one of: Button, Status, Subscribe, Volume, ExternalTextToSpeech, Text, NewConversation, Stats, Agent, Agents' });

      a.write(encodeFrame({ Command: "Status" }));
      assert.deepEqual(await a.next(), { Ok: true, State: "idle" });
      b.write(encodeFrame({ Command: "Status" }));
      assert.deepEqual(await b.next(), { Ok: true, State: "idle" });
      assert.equal(calls.length, 2, "only the valid commands reach the handler");
      a.socket.destroy();
      b.socket.destroy();
    } finally {
      await server.close();
    }
  });

  for (const [what, bytes, error] of [
    ["bad magic", Buffer.from("hello daemon\n"), /bad frame magic/],
    ["an oversized length", Buffer.concat([Buffer.from("ctrl"), Buffer.from([0xff, 0xff, 0xff, 0xff])]), /exceeds the 65536-byte limit/],
  ] as const) {
    test(`${what} gets an error reply, then the connection is closed`, GUARD, async () => {
      const { server, calls } = await startRig();
      try {
        const c = await RawClient.connect(server.path);
        c.write(Buffer.concat([encodeFrame({ Command: "Status" }), bytes, encodeFrame({ Command: "Status" })]));
        assert.deepEqual(await c.next(), { Ok: true, State: "idle" });
        const r = (await c.next()) as Record<string, unknown>;
        assert.equal(r["Ok"], false);
        assert.match(String(r["Error"]), error);
        await c.waitClosed();
        assert.equal(calls.length, 1, "nothing after the bad header is dispatched");
        assert.deepEqual(await sendCommand(server.path, { Command: "Status" }), { Ok: true, State: "idle" });
      } finally {
        await server.close();
      }
    });
  }

  test("a handler that throws yields an error reply, logged at warn", GUARD, async () => {
    const logs = new LogCapture();
    let fail = true;
    const { server } = await startRig(
      () => {
        if (fail) throw new Error("microphone unplugged");
        return {};
      },
      { log: logs.logger },
    );
    try {
      const conn = await openControlConnection(server.path);
      assert.deepEqual(await conn.request({ Command: "Status" }), { Ok: false, Error: "microphone unplugged" });
      fail = false;
      assert.deepEqual(await conn.request({ Command: "Status" }), { Ok: true });
      await conn.close();
      const warn = logs.lines.find((l) => l["msg"] === "control command failed");
      assert.equal(warn?.["level"], 40);
    } finally {
      await server.close();
    }
  });

  test("replies keep request order even when an earlier command is slower", GUARD, async () => {
    let releaseDown!: () => void;
    const downGate = new Promise<void>((resolve) => (releaseDown = resolve));
    const { server, calls } = await startRig(async (cmd) => {
      if (cmd.Command === "Button" && cmd.Action === "down") {
        await downGate;
        return { Step: "down" };
      }
      return { Step: cmd.Command === "Button" ? cmd.Action : "status" };
    });
    try {
      const c = await RawClient.connect(server.path);
      c.write(
        Buffer.concat([
          encodeFrame({ Command: "Button", Name: "talk", Action: "down" }),
          encodeFrame({ Command: "Button", Name: "talk", Action: "up" }),
          encodeFrame({ Command: "Status" }),
        ]),
      );
      const replies = [c.next(), c.next(), c.next()];
      releaseDown();
      assert.deepEqual(await Promise.all(replies), [
        { Ok: true, Step: "down" },
        { Ok: true, Step: "up" },
        { Ok: true, Step: "status" },
      ]);
      assert.deepEqual(
        calls.map((c) => (c.Command === "Button" ? c.Action : c.Command)),
        ["down", "up", "Status"],
      );
      c.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test("answers every request of a client that half-closes after sending", GUARD, async () => {
    // Slow enough that the client's end-of-stream arrives before the replies are ready.
    const { server } = await startRig(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { State: "idle" };
    });
    try {
      const c = await RawClient.connect(server.path);
      c.socket.end(Buffer.concat([encodeFrame({ Command: "Status" }), encodeFrame({ Command: "Status" })]));
      assert.deepEqual(await c.next(), { Ok: true, State: "idle" });
      assert.deepEqual(await c.next(), { Ok: true, State: "idle" });
      await c.waitClosed();
    } finally {
      await server.close();
    }
  });

  test("a connection that closes mid-frame is logged at debug", GUARD, async () => {
    const logs = new LogCapture();
    const { server, calls } = await startRig(undefined, { log: logs.logger });
    try {
      const c = await RawClient.connect(server.path);
      c.socket.end(encodeFrame({ Command: "Status" }).subarray(0, 11));
      await c.waitClosed();
      await logs.waitFor((l) => l["msg"] === "control connection closed mid-frame; partial request dropped");
      const line = logs.lines.find((l) => l["msg"] === "control connection closed mid-frame; partial request dropped");
      assert.equal(line?.["level"], 20);
      assert.equal(line?.["pendingBytes"], 11);
      assert.equal(calls.length, 0);
    } finally {
      await server.close();
    }
  });

  test("beyond the cap, a few reserve slots for the CLI; beyond those, an error and a close", GUARD, async () => {
    const { server } = await startRig(undefined, { maxConnections: 2 });
    try {
      const held = [await RawClient.connect(server.path), await RawClient.connect(server.path)];
      for (const c of held) {
        c.write(encodeFrame({ Command: "Status" }));
        assert.deepEqual(await c.next(), { Ok: true, State: "idle" });
      }
      // The reserve: served like any other connection.
      const reserve = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(server.path)));
      for (const c of reserve) {
        c.write(encodeFrame({ Command: "Status" }));
        assert.deepEqual(await c.next(), { Ok: true, State: "idle" });
      }
      const extra = await RawClient.connect(server.path);
      const r = (await extra.next()) as Record<string, unknown>;
      assert.equal(r["Ok"], false);
      assert.match(String(r["Error"]), /too many control connections \(limit 2\)/);
      await extra.waitClosed();
      for (const c of [...held, ...reserve]) c.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test("16 idle clients and 8 with half a header: the idle ones give up their slots to newcomers, the half-sent ones are closed; status answers", GUARD, async () => {
    const deadlines = { normal: { requestMs: 300, idleMs: null }, reserve: { requestMs: 200, idleMs: 200 } };
    const { server } = await startRig(undefined, { maxConnections: 16, deadlines });
    try {
      const partial = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(server.path)));
      for (const c of partial) c.write("ctr");
      const idle = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(server.path)));
      // Every normal slot is held: the CLI lands in the reserve and is answered.
      assert.deepEqual(await sendCommand(server.path, { Command: "Status" }), { Ok: true, State: "idle" });
      for (const c of partial) {
        const r = (await c.next()) as Record<string, unknown>;
        assert.match(String(r["Error"]), /closing the connection: no complete request within 300 ms/);
        await c.waitClosed();
      }
      // Idle connections are not closed by a timer, only when their slot is needed.
      const fill = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(server.path)));
      const more = await RawClient.connect(server.path);
      // `more` took a slot (the reserve or an evicted idle one): it is served.
      more.write(encodeFrame({ Command: "Status" }));
      assert.deepEqual(await more.next(), { Ok: true, State: "idle" });
      const evicted = (await idle[0]!.next()) as Record<string, unknown>;
      assert.match(String(evicted["Error"]), /idle while another client needed the slot/);
      for (const c of [...idle, ...fill, more]) c.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test("a client that sends requests and never reads the replies: reading from it stops, memory does not grow", GUARD, async () => {
    const { server, calls } = await startRig();
    try {
      const c = await RawClient.connect(server.path);
      c.socket.pause();
      const frame = encodeFrame({ Command: "Status" });
      const burst = Buffer.concat(Array.from({ length: 1000 }, () => frame));
      // 200 000 requests, whatever the back-pressure (a hostile client buffers them itself).
      for (let i = 0; i < 200; i++) c.socket.write(burst);
      // The server handles requests until its replies back up; then it must stop. Wait until the count settles.
      let handled = -1;
      for (let i = 0; i < 200 && calls.length !== handled; i++) {
        handled = calls.length;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(handled < 20_000, `${handled} requests handled for a client that reads nothing`);
      c.socket.resume();
      c.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test("replaces a stale socket file left by a dead daemon", GUARD, async () => {
    const p = socketPath();
    await staleSocket(p);
    const { server } = await startRig(undefined, { path: p });
    try {
      assert.deepEqual(await sendCommand(p, { Command: "Status" }), { Ok: true, State: "idle" });
    } finally {
      await server.close();
    }
  });

  test("refuses to start on a socket another daemon is listening on", GUARD, async () => {
    const { server } = await startRig();
    try {
      const error = await startControlServer({ path: server.path, commands: controlCommands, handler: () => ({}), log: silentLogger() }).then(
        (second) => second.close().then(() => new Error("a second server started")),
        (e: Error) => e,
      );
      assert.match(error.message, /another talkbox daemon is already listening on .*s\d+\.sock; stop it first/);
      assert.deepEqual(await sendCommand(server.path, { Command: "Status" }), { Ok: true, State: "idle" });
    } finally {
      await server.close();
    }
  });

  test("refuses to replace a path that is not a socket", GUARD, async () => {
    const p = socketPath();
    fs.writeFileSync(p, "precious");
    await assert.rejects(
      startControlServer({ path: p, commands: controlCommands, handler: () => ({}), log: silentLogger() }),
      /exists and is not a socket/,
    );
    assert.equal(fs.readFileSync(p, "utf8"), "precious");
  });
});

describe("control client", () => {
  test("a missing socket says no daemon is running and how to start one", GUARD, async () => {
    const p = path.join(dir, "absent.sock");
    await assert.rejects(sendCommand(p, { Command: "Status" }), (err: Error) => {
      assert.equal(err.message, `no talkbox daemon at ${p} (is it running? start it with 'talkbox run', or pass --socket)`);
      return true;
    });
  });

  test("a stale socket reads the same as a missing one", GUARD, async () => {
    const p = socketPath();
    await staleSocket(p);
    await assert.rejects(sendCommand(p, { Command: "Status" }), /no talkbox daemon at .* 'talkbox run'/);
  });

  test("a daemon that never replies times out with a clear error", GUARD, async () => {
    const p = socketPath();
    const accepted: net.Socket[] = [];
    const mute = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => mute.listen(p, resolve));
    try {
      await assert.rejects(sendCommand(p, { Command: "Status" }, { timeoutMs: 100 }), /no reply from talkbox daemon at .* within 100 ms/);
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
  });

  test("permission denied names the socket's group and the usermod fix", GUARD, async () => {
    const { server } = await startRig();
    try {
      let message: string;
      if (process.getuid?.() === 0) {
        // Root ignores file modes, so ask as an unprivileged user.
        fs.chmodSync(dir, 0o755);
        const clientModule = path.resolve(__dirname, "../../src/control/client.js");
        const script =
          `require(${JSON.stringify(clientModule)}).sendCommand(${JSON.stringify(server.path)}, { Command: "Status" })` +
          `.then(() => console.log("connected"), (e) => console.log(e.message));`;
        const child = spawn(process.execPath, ["-e", script], { uid: 65534, gid: 65534, stdio: ["ignore", "pipe", "inherit"] });
        let stdout = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        await once(child, "exit");
        message = stdout.trim();
      } else {
        fs.chmodSync(server.path, 0o000);
        message = await sendCommand(server.path, { Command: "Status" }).then(
          () => "connected",
          (e: Error) => e.message,
        );
      }
      assert.match(message, /^permission denied on .*: the control socket is for members of group '([^']+)'; add yourself with 'sudo usermod -aG \1 \$USER'/);
    } finally {
      fs.chmodSync(dir, 0o700);
      await server.close();
    }
  });

  test("one connection carries several requests, answered in order", GUARD, async () => {
    const { server, calls } = await startRig();
    try {
      const conn = await openControlConnection(server.path);
      const replies = await Promise.all([
        conn.request({ Command: "Button", Name: "talk", Action: "down" }),
        conn.request({ Command: "Status" }),
        conn.request({ Command: "Button", Name: "talk", Action: "up" }),
      ]);
      assert.deepEqual(replies, [{ Ok: true }, { Ok: true, State: "idle" }, { Ok: true }]);
      assert.equal(calls.length, 3);
      await conn.close();
    } finally {
      await server.close();
    }
  });
});

describe("talkbox talk", () => {
  test("presses, holds for the requested time, releases", GUARD, async () => {
    const events: { action: string; at: number }[] = [];
    const { server } = await startRig((cmd) => {
      if (cmd.Command === "Button") events.push({ action: `${cmd.Name}:${cmd.Action}`, at: performance.now() });
      return { State: cmd.Command === "Button" && cmd.Action === "down" ? "listening" : "thinking" };
    });
    try {
      const lines: string[] = [];
      const code = await talkCommand({ socket: server.path, seconds: 0.3, out: (l) => lines.push(l) });
      assert.equal(code, 0);
      assert.deepEqual(
        events.map((e) => e.action),
        ["talk:down", "talk:up"],
      );
      const [down, up] = events;
      assert.ok(down && up);
      assert.ok(up.at - down.at >= 290, `held ${up.at - down.at} ms, asked for 300`);
      assert.deepEqual(lines, ["talk down: ok State=listening", "talk up: ok State=thinking"]);
    } finally {
      await server.close();
    }
  });

  test("Ctrl-C while holding releases the button before exiting", GUARD, async () => {
    let sawDown!: () => void;
    const downSeen = new Promise<void>((resolve) => (sawDown = resolve));
    const actions: string[] = [];
    const { server } = await startRig((cmd) => {
      if (cmd.Command === "Button") {
        actions.push(cmd.Action);
        if (cmd.Action === "down") sawDown();
      }
      return {};
    });
    try {
      const talkModule = path.resolve(__dirname, "../../src/cli/talk.js");
      const script =
        `require(${JSON.stringify(talkModule)}).talkCommand({ socket: ${JSON.stringify(server.path)}, seconds: 60 })` +
        `.then((code) => { process.exitCode = code; });`;
      const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const exited = once(child, "exit");
      await within(downSeen, WAIT_MS, "the press");
      // The reply to down may still be in flight: wait until the CLI has printed it,
      // so the signal lands during the hold.
      while (!output.includes("talk down: ok")) await within(once(child.stdout, "data"), WAIT_MS, `"talk down: ok" (got ${output})`);
      child.kill("SIGINT");
      const [code] = await within(exited, WAIT_MS, "talk exiting after Ctrl-C");
      assert.equal(code, 130, output);
      assert.deepEqual(actions, ["down", "up"]);
      assert.match(output, /talk up: ok/);
    } finally {
      await server.close();
    }
  });

  test("an Ok:false reply is printed and exits non-zero without holding", GUARD, async () => {
    const { server, calls } = await startRig(() => {
      throw new Error("no agent link; check the network");
    });
    try {
      const lines: string[] = [];
      const code = await talkCommand({ socket: server.path, seconds: 60, out: (l) => lines.push(l) });
      assert.equal(code, 1);
      assert.deepEqual(lines, ["talk down: error: no agent link; check the network"]);
      assert.equal(calls.length, 1, "no release is sent for a press that failed");
    } finally {
      await server.close();
    }
  });

  test("an unreachable daemon exits non-zero with the reason", GUARD, async () => {
    const lines: string[] = [];
    const code = await talkCommand({ socket: path.join(dir, "nobody.sock"), seconds: 1, out: (l) => lines.push(l) });
    assert.equal(code, 1);
    assert.match(lines.join("\n"), /no talkbox daemon at .*nobody\.sock/);
  });

  test("a non-positive hold time is a usage error", GUARD, async () => {
    const lines: string[] = [];
    assert.equal(await talkCommand({ socket: path.join(dir, "x.sock"), seconds: 0, out: (l) => lines.push(l) }), 2);
    assert.match(lines.join(""), /positive number of seconds/);
  });
});

describe("talkbox status", () => {
  const status = {
    State: "idle",
    Link: { State: "up", Backend: "coze", RttMs: 42 },
    LastTurn: { Id: "t-1", Outcome: { Kind: "answered" }, Tags: [] },
  };

  test("prints flattened, aligned key: value lines", GUARD, async () => {
    const { server } = await startRig(() => status);
    try {
      const lines: string[] = [];
      assert.equal(await statusCommand({ socket: server.path, out: (l) => lines.push(l) }), 0);
      assert.deepEqual(
        lines.map((l) => l.split(/:\s+/)),
        [
          ["State", "idle"],
          ["Link.State", "up"],
          ["Link.Backend", "coze"],
          ["Link.RttMs", "42"],
          ["LastTurn.Id", "t-1"],
          ["LastTurn.Outcome.Kind", "answered"],
          ["LastTurn.Tags", "[]"],
        ],
      );
      const valueColumns = new Set(lines.map((l) => l.search(/(?<=:\s+)\S/)));
      assert.equal(valueColumns.size, 1, `values not aligned:\n${lines.join("\n")}`);
    } finally {
      await server.close();
    }
  });

  test("--json prints the reply as JSON", GUARD, async () => {
    const { server } = await startRig(() => status);
    try {
      const lines: string[] = [];
      assert.equal(await statusCommand({ socket: server.path, json: true, out: (l) => lines.push(l) }), 0);
      assert.equal(lines.length, 1);
      assert.deepEqual(JSON.parse(lines[0] ?? ""), { Ok: true, ...status });
    } finally {
      await server.close();
    }
  });

  test("a failed reply or a missing daemon exits non-zero with the reason", GUARD, async () => {
    const { server } = await startRig(() => {
      throw new Error("still starting");
    });
    try {
      const lines: string[] = [];
      assert.equal(await statusCommand({ socket: server.path, out: (l) => lines.push(l) }), 1);
      assert.deepEqual(lines, ["error: still starting"]);
    } finally {
      await server.close();
    }
    const lines: string[] = [];
    assert.equal(await statusCommand({ socket: path.join(dir, "gone.sock"), out: (l) => lines.push(l) }), 1);
    assert.match(lines[0] ?? "", /^error: no talkbox daemon at /);
  });
});
