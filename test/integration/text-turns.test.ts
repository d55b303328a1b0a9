/**
 * Typed questions (`{"Command":"Text"}`, `talkbox text`) on each backend: the compiled daemon on
 * the rig, the emulator, the command over the real control socket. The answer is spoken like a
 * spoken turn's; the text reaches the agent as its protocol says: Coze a user message, OpenAI a
 * user item and a response, the voice API v2 a text frame in the user's session.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { daemonPlayback, startDevice, type Device } from "../support/device";
import { CLI, until } from "../support/daemon-process";
import { openControlConnection } from "../../src/control/client";
import { ATTACHMENT } from "../../src/emulator/voiceapi/session";

const QUESTION = "What is the weather tomorrow?";

async function ask(dev: Device, extra: Record<string, unknown> = {}): Promise<void> {
  const reply = await dev.control.request({ Command: "Text", Message: QUESTION, ...extra });
  assert.equal(reply.Ok, true, JSON.stringify(reply));
  assert.equal(reply.State, "thinking");
  await dev.daemon.waitForState("speaking");
  await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findLastIndex((l) => l.msg === "state speaking"));
  assert.ok(daemonPlayback(dev.rig).bytes.length > 0, "nothing was spoken");
}

describe("typed questions on every backend", { timeout: 90_000 }, () => {
  test("Coze: a user message on the chat link; the answer is spoken", async () => {
    const dev = await startDevice();
    try {
      await ask(dev);
      const sent = dev.emulator.sessions()[0]!.received.map((r) => r.event).filter((e) => e?.event_type === "conversation.message.create");
      assert.deepEqual(sent.map((e) => e!.data), [{ role: "user", content_type: "text", content: QUESTION }]);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("OpenAI Realtime: a user item with the text, then a response; the answer is spoken", async () => {
    const dev = await startDevice({ realtime: { flavour: "openai" }, config: { audio: { uplink_rate: 24000, downlink_rate: 24000 } } });
    try {
      await ask(dev);
      const session = dev.emulator.realtimeSessions()[0]!;
      const items = session.received.filter((r) => r.type === "conversation.item.create").map((r) => r.event!.item);
      assert.deepEqual(items, [{ type: "message", role: "user", content: [{ type: "input_text", text: QUESTION }] }]);
      assert.deepEqual(session.responses.map((r) => r.status), ["completed"]);
      assert.deepEqual(session.errors, []);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("the voice API v2: a text frame in the asking user's session, from the CLI; the answer is spoken", async () => {
    const dev = await startDevice({ voiceapi: { version: "v2" } });
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [CLI, "text", QUESTION, "--user", "passenger", "--socket", dev.socket], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
      );
      assert.match(out, /^sent/);
      await dev.daemon.waitForState("speaking");
      await dev.daemon.waitForState("idle", 15_000, dev.daemon.logs.findLastIndex((l) => l.msg === "state speaking"));
      const turns = dev.emulator.voiceApiTurns();
      assert.deepEqual(turns.map((t) => [t.userId, t.text]), [["passenger", QUESTION]]);
      assert.deepEqual(dev.emulator.voiceApiSessions()[0]!.users, ["passenger"]);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("refused, with the reason, where the protocol takes no text (the gateway, v1), while the button is held, and bad input", async () => {
    for (const o of [{ realtime: { flavour: "volcengine" as const } }, { voiceapi: { version: "v1" as const } }]) {
      const dev = await startDevice(o);
      try {
        const reply = await dev.control.request({ Command: "Text", Message: QUESTION });
        assert.equal(reply.Ok, false);
        assert.match(String(reply.Error), /its protocol takes no text/);
        // The device does not wait for an answer that cannot come.
        await until(() => dev.daemon.logs.some((l) => l.msg === "state thinking"), "the wait for an answer");
        await dev.daemon.waitForState("idle", 5000, dev.daemon.logs.findIndex((l) => l.msg === "state thinking"));
      } finally {
        await dev.stop().catch(() => {});
      }
    }
    const dev = await startDevice();
    try {
      await dev.press();
      const held = await dev.control.request({ Command: "Text", Message: QUESTION });
      assert.equal(held.Ok, false);
      assert.match(String(held.Error), /talk button is held/);
      await dev.release();
      for (const [cmd, rule] of [
        [{ Command: "Text", Message: "" }, /must not be empty/],
        [{ Command: "Text" }, /Message must be a string/],
        [{ Command: "Text", Message: "x".repeat(2001) }, /at most 2000 characters/],
        [{ Command: "Text", Message: "hi", User: "a b" }, /User must be/],
      ] as const) {
        const r = await dev.control.request(cmd);
        assert.equal(r.Ok, false, JSON.stringify(cmd));
        assert.match(String(r.Error), rule);
      }
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("the voice API's attachments", { timeout: 60_000 }, () => {
  test("not spoken: logged, and on the state stream for the user it was for; status --follow shows it", async () => {
    const dev = await startDevice({ voiceapi: { version: "v2" } });
    const follow = execFile(process.execPath, [CLI, "status", "--follow", "--socket", dev.socket]);
    let followed = "";
    follow.stdout!.on("data", (d: Buffer) => (followed += d.toString("utf8")));
    try {
      const conn = await openControlConnection(dev.socket);
      const frames: Record<string, unknown>[] = [];
      conn.onEvent((f) => frames.push(f));
      await conn.request({ Command: "Subscribe" });
      await until(() => followed.includes("--- following"), "status --follow subscribed");
      await dev.control.request({ Command: "Text", Message: "Send me an attachment, please.", User: "driver" });
      await until(() => frames.some((f) => f.Event === "Attachment"), "the attachment frame");
      const a = frames.find((f) => f.Event === "Attachment")!;
      assert.equal(a.User, "driver");
      assert.deepEqual(JSON.parse(String(a.Content)), ATTACHMENT);
      const thinking = frames.find((f) => f.Event === "State" && f.State === "thinking")!;
      assert.equal(thinking.User, "driver");
      await until(() => /attachment for driver: .*PROMO-2026/.test(followed), "status --follow's line");
      // The daemon's log arrives through its stdout pipe, which can lag the control socket.
      await until(() => dev.daemon.logs.some((l) => /the agent sent an attachment/.test(l.msg)), "the attachment's log line");
      await conn.close();
    } finally {
      follow.kill();
      await dev.stop().catch(() => {});
    }
  });
});
