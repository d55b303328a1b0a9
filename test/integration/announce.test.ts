/**
 * Announcements (seed 004's ExternalTextToSpeech) on the whole device: the compiled daemon
 * on the rig's real-time card, the emulator over a loopback WebSocket, the command over the
 * real control socket, spoken by the device's offline voice (espeak-ng, the real program).
 */
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { execFileSync } from "node:child_process";
import { daemonPlayback, nextClientEvent, startDevice, type Device } from "../support/device";
import { until } from "../support/daemon-process";
import { follow } from "../support/state-stream";
import type { ControlConnection, ControlReply } from "../../src/control/client";
import { MAGIC } from "../../src/control/framing";
import { SPEECH_MS_PER_CHAR } from "../../src/emulator/shared/speech-tone";
import { SPEECH_16K, silence } from "../support/speech";

const BYTES_PER_MS = 32; // 16 kHz mono S16_LE at the card
/** The device's own voice, whatever the agent can do. */
const LOCAL = { config: { announce: { voice: "local" } } };

/** How long espeak-ng speaks `text` (its own WAV, 22050 Hz, header of 44 bytes). */
function espeakMs(text: string): number {
  const wav = execFileSync("espeak-ng", ["--stdout", "--stdin", "-b", "1", "-v", /\p{Script=Han}/u.test(text) ? "cmn" : "en-us", "-s", "160"], { input: text });
  return ((wav.length - 44) / 2 / 22050) * 1000;
}


const announcement = (status: string, text?: string) => (f: ControlReply) => f.Event === "Announcement" && f.Status === status && (text === undefined || f.Text === text);
const say = (c: ControlConnection, text: string, mode: 1 | 2 | 3 | string) => c.request({ Command: "ExternalTextToSpeech", Message: text, InterruptMode: mode });

/** Audio at the card from `fromNs` on, in ms: what played of the chunks that started after it. */
function playedMsAfter(dev: Device, fromNs: bigint): number {
  return daemonPlayback(dev.rig).chunks.filter(([ns]) => ns >= fromNs).reduce((n, [, , len]) => n + len, 0) / BYTES_PER_MS;
}

describe("announcements (ExternalTextToSpeech) on the ALSA rig, the device's own voice", { timeout: 120_000 }, () => {
  before(() => {
    try {
      execFileSync("espeak-ng", ["--version"]);
    } catch {
      assert.fail("espeak-ng is not installed: bash scripts/setup.sh installs it (apt-get install espeak-ng)");
    }
  });

  test("idle, mode 3: spoken at once in the local voice, heard in full at the card; the device announces, then rests", async () => {
    const dev = await startDevice(LOCAL);
    try {
      const stream = await follow(dev);
      const text = "The doorbell rang.";
      const t0 = process.hrtime.bigint();
      const reply = await say(dev.control, text, 3);
      assert.equal(reply.Ok, true, JSON.stringify(reply));
      assert.equal(reply.Result, "spoken");
      assert.equal(reply.Voice, "local");
      assert.equal(reply.State, "announcing");
      await stream.next(announcement("started", text), "the announcement started");
      await stream.next(announcement("completed", text), "the announcement completed");
      await stream.next((f) => f.Event === "State" && f.State === "idle", "idle again");
      const heard = playedMsAfter(dev, t0);
      const expected = espeakMs(text);
      assert.ok(Math.abs(heard - expected) < 100, `${heard.toFixed(0)} ms played, espeak-ng speaks it in ${expected.toFixed(0)} ms`);
      const states = stream.frames.filter((f) => f.Event === "State").map((f) => f.State);
      assert.deepEqual(states, ["announcing", "idle"]);
      await stream.close();
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("mode 1 during a reply: the reply is cancelled on the wire, its sound stops, the announcement is heard in full", async () => {
    const dev = await startDevice(LOCAL);
    try {
      await dev.press();
      await dev.appends(150);
      await dev.release();
      await dev.daemon.waitForState("speaking");
      await until(() => daemonPlayback(dev.rig).bytes.length > 3_200, "the reply at the speaker");
      const stream = await follow(dev);
      const text = "Battery low, please charge me.";
      const cancel = nextClientEvent(dev.emulator, "conversation.chat.cancel");
      const reply = await say(dev.control, text, "1");
      assert.equal(reply.Result, "spoken");
      const cancelAt = await cancel;
      const done = await stream.next(announcement("completed", text), "the announcement completed");
      assert.equal(done.Voice, "local");
      const after = playedMsAfter(dev, cancelAt);
      const expected = espeakMs(text);
      // The reply had seconds queued: what played after the cancel is the announcement, not it.
      assert.ok(after < expected + 150, `${after.toFixed(0)} ms played after the cancel; the announcement is ${expected.toFixed(0)} ms`);
      assert.ok(after > expected - 100, `only ${after.toFixed(0)} ms of a ${expected.toFixed(0)} ms announcement played`);
      // In the history as the bot's words, whole (heard to its end).
      await until(() => remembered(dev).length > 0, "the assistant message");
      assert.deepEqual(remembered(dev), [text]);
      await dev.daemon.waitForState("idle");
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("mode 2 during a reply: both heard after the reply, in order; mode 3 meanwhile is dropped", async () => {
    const dev = await startDevice(LOCAL);
    try {
      await dev.press();
      await dev.appends(50);
      await dev.release();
      await dev.daemon.waitForState("speaking");
      const stream = await follow(dev);
      const a = await say(dev.control, "First notice.", 2);
      const b = await say(dev.control, "第二条通知。", 2);
      const c = await say(dev.control, "Only when idle.", 3);
      assert.deepEqual([a.Result, a.Position, b.Result, b.Position], ["queued", 1, "queued", 2]);
      assert.equal(c.Result, "dropped");
      assert.match(String(c.Reason), /speaking/);
      await stream.next(announcement("completed", "第二条通知。"), "the second announcement completed");
      await stream.next((f) => f.Event === "State" && f.State === "idle", "idle after both");
      const order = stream.frames.filter((f) => f.Event === "Announcement" || f.Event === "State").map((f) => (f.Event === "State" ? f.State : `${f.Status}:${f.Text}`));
      // No moment of rest between the reply and the first, nor between the two.
      assert.deepEqual(order, ["dropped:Only when idle.", "started:First notice.", "announcing", "completed:First notice.", "started:第二条通知。", "completed:第二条通知。", "idle"]);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("the talk button during an announcement cuts it (only the heard part is reported) and starts the turn", async () => {
    const dev = await startDevice(LOCAL);
    try {
      const stream = await follow(dev);
      const text = "This is a long announcement that the user will interrupt with the talk button before it ends.";
      await say(dev.control, text, 3);
      await stream.next(announcement("started"), "started");
      await until(() => daemonPlayback(dev.rig).bytes.length > 500 * BYTES_PER_MS, "half a second of it at the speaker");
      const pressed = await dev.press();
      assert.equal(pressed.State, "listening");
      const cut = await stream.next(announcement("interrupted"), "the announcement interrupted");
      const heard = String(cut.Heard);
      assert.ok(heard.length > 0 && heard.length < text.length && text.startsWith(heard), `heard part: '${heard}'`);
      const cutAt = process.hrtime.bigint();
      await dev.appends(25);
      assert.ok(playedMsAfter(dev, cutAt) < 100, "the announcement played on after the press");
      await dev.release();
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("bad input gets an error reply naming the rule, and nothing else changes; 200 Chinese characters are fine", async () => {
    const dev = await startDevice(LOCAL);
    try {
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ Command: "ExternalTextToSpeech", Message: "x".repeat(201), InterruptMode: 1 }, /at most 200 characters.*201/],
        [{ Command: "ExternalTextToSpeech", Message: "", InterruptMode: 1 }, /Message must not be empty/],
        [{ Command: "ExternalTextToSpeech", Message: "   ", InterruptMode: 1 }, /Message must not be empty/],
        [{ Command: "ExternalTextToSpeech", InterruptMode: 1 }, /Message must be a string/],
        [{ Command: "ExternalTextToSpeech", Message: "hi" }, /InterruptMode must be 1/],
        [{ Command: "ExternalTextToSpeech", Message: "hi", InterruptMode: 4 }, /InterruptMode must be 1/],
        [{ Command: "ExternalTextToSpeech", Message: "hi", InterruptMode: "high" }, /InterruptMode must be 1/],
        [{ Command: "ExternalTextToSpeech", Message: 42, InterruptMode: 1 }, /Message must be a string/],
        [{ Command: "ExternalTextToSpeech", Message: ["hi"], InterruptMode: 1 }, /Message must be a string/],
        [{ Command: "ExternalTextToSpeech", Message: "hi", InterruptMode: 1.5 }, /InterruptMode must be 1/],
      ];
      for (const [cmd, rule] of bad) {
        const r = await dev.control.request(cmd);
        assert.equal(r.Ok, false, JSON.stringify(cmd));
        assert.match(String(r.Error), rule, JSON.stringify(cmd));
      }
      assert.equal((await dev.status()).State, "idle");
      assert.ok(!dev.daemon.logs.some((l) => String(l.msg).startsWith("announcing")), "a bad command was spoken");

      // A 1 MB frame: an error reply, the connection closed (the frame cannot be skipped), the daemon fine.
      const s = net.createConnection(dev.socket);
      await once(s, "connect");
      const header = Buffer.alloc(8);
      MAGIC.copy(header, 0);
      header.writeUInt32BE(1024 * 1024, 4);
      s.write(header);
      const [data] = (await once(s, "data")) as [Buffer];
      assert.match(data.subarray(8).toString("utf8"), /exceeds the 65536-byte limit/);
      s.destroy();
      assert.equal((await dev.status()).State, "idle");

      const chinese = "请".repeat(200);
      assert.equal(Buffer.byteLength(chinese), 600);
      const ok = await say(dev.control, chinese, 3);
      assert.equal(ok.Ok, true, String(ok.Error));
      assert.equal(ok.Result, "spoken");
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

/** What the device told the agent it said: the assistant messages on the chat link (seed 004, Q2/Q3). */
function remembered(dev: Device): string[] {
  return dev.emulator
    .sessions()
    .flatMap((s) => s.received)
    .map((r) => r.event)
    .filter((e) => e?.event_type === "conversation.message.create" && e.data?.role === "assistant")
    .map((e) => String(e!.data!.content));
}

describe("announcements in the agent's voice (Coze speech synthesis), and the fallback", { timeout: 120_000 }, () => {
  test("idle: spoken by Coze's /v1/audio/speech at the speaker's rate, heard in full, and kept in the history", async () => {
    const dev = await startDevice();
    try {
      const stream = await follow(dev);
      const text = "Dinner is ready.";
      const t0 = process.hrtime.bigint();
      const reply = await say(dev.control, text, 2);
      assert.equal(reply.Result, "spoken");
      assert.equal(reply.Voice, "agent");
      const done = await stream.next(announcement("completed", text), "the announcement completed");
      assert.equal(done.Voice, "agent");
      const speech = dev.emulator.speeches();
      assert.equal(speech.length, 1);
      assert.deepEqual([speech[0]!.text, speech[0]!.sampleRate, speech[0]!.completed], [text, 16000, true]);
      const expected = [...text].length * SPEECH_MS_PER_CHAR;
      const heard = playedMsAfter(dev, t0);
      assert.ok(Math.abs(heard - expected) < 60, `${heard.toFixed(0)} ms played; the emulator speaks it in ${expected} ms`);
      await until(() => remembered(dev).length > 0, "the assistant message");
      assert.deepEqual(remembered(dev), [text]);
      await stream.close();
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("cut by the talk button: only the part heard joins the history", async () => {
    const dev = await startDevice();
    try {
      const stream = await follow(dev);
      const text = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"; // 30 characters: 3.6 s
      await say(dev.control, text, 1);
      await stream.next(announcement("started"), "started");
      const t0 = process.hrtime.bigint();
      await until(() => playedMsAfter(dev, t0) > 1200, "1.2 s of it at the speaker");
      await dev.press();
      const cut = await stream.next(announcement("interrupted"), "interrupted");
      const heard = String(cut.Heard);
      await until(() => remembered(dev).length > 0, "the assistant message");
      assert.deepEqual(remembered(dev), [heard]);
      assert.ok(text.startsWith(heard), heard);
      const chars = [...heard].length;
      // 1.2 s or a little more of 3.6 s: about 10 of 30 characters, never the whole.
      assert.ok(chars >= 9 && chars <= 16, `${chars} characters heard: '${heard}'`);
      await dev.release();
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  for (const backend of ["coze", "realtime"] as const) {
    test(`the agent unreachable (${backend}): the device's own voice speaks, and says so`, async () => {
      const dev = await startDevice(backend === "realtime" ? { realtime: { flavour: "openai" }, config: { audio: { uplink_rate: 24000, downlink_rate: 24000 } } } : {});
      try {
        dev.emulator.setAcceptConnections(false);
        dev.emulator.dropAll();
        await dev.daemon.waitForState("offline");
        const stream = await follow(dev);
        const reply = await say(dev.control, "The network is down.", 3);
        assert.equal(reply.Result, "spoken");
        assert.equal(reply.Voice, "local");
        const done = await stream.next(announcement("completed", "The network is down."), "completed");
        assert.equal(done.Voice, "local");
        assert.equal(dev.emulator.speeches().length, 0);
        assert.equal(dev.emulator.realtimeSessions().flatMap((x) => x.responses).length, 0);
        await stream.next((f) => f.Event === "State" && f.State === "offline", "offline again");
      } finally {
        await dev.stop().catch(() => {});
      }
    });
  }
});

/** OpenAI takes pcm16 at 24 kHz only. */
const OPENAI = { audio: { uplink_rate: 24000, downlink_rate: 24000 } };

/** The emulator's Realtime responses that were told to say something (announcements in the agent's voice). */
function toldResponses(dev: Device): { id: string; instructions: string; status: string; itemId: string | null; truncateMs: number | null }[] {
  return dev.emulator
    .realtimeSessions()
    .flatMap((s) => s.responses)
    .filter((r) => typeof r.request?.instructions === "string")
    .map((r) => ({ id: r.id, instructions: String(r.request!.instructions), status: r.status, itemId: r.itemId, truncateMs: r.truncate?.audioEndMs ?? null }));
}

describe("announcements on Realtime in the agent's voice, in the history as its words", { timeout: 60_000 }, () => {
  for (const flavour of ["openai", "volcengine"] as const) {
    test(`${flavour}: a response told to say the text word for word, heard in full at the card, no reply events, no extra item`, async () => {
      const dev = await startDevice({ realtime: { flavour }, ...(flavour === "openai" ? { config: OPENAI } : {}) });
      try {
        const stream = await follow(dev);
        const text = "Time to leave for school.";
        const t0 = process.hrtime.bigint();
        const reply = await say(dev.control, text, 3);
        assert.equal(reply.Voice, "agent", JSON.stringify(reply));
        const done = await stream.next(announcement("completed", text), "completed");
        assert.equal(done.Voice, "agent");
        await stream.next((f) => f.Event === "State" && f.State === "idle", "idle");
        const told = toldResponses(dev);
        assert.equal(told.length, 1);
        assert.ok(told[0]!.instructions.endsWith(JSON.stringify(text)), told[0]!.instructions);
        assert.equal(told[0]!.status, "completed");
        const expected = [...text].length * SPEECH_MS_PER_CHAR;
        const heard = playedMsAfter(dev, t0);
        assert.ok(Math.abs(heard - expected) < 80, `${heard.toFixed(0)} ms played; the agent says it in ${expected} ms`);
        const session = dev.emulator.realtimeSessions()[0]!;
        // Its own response put it in the history: no message item besides.
        assert.deepEqual(session.received.filter((r) => r.type === "conversation.item.create"), []);
        assert.deepEqual(session.errors, [], "the service refused something");
        // The device never took it for a reply: no turn, no reply text in the stream.
        assert.ok(!stream.frames.some((f) => f.Event === "State" && f.State === "speaking"), "the announcement was taken for a reply");
        await stream.close();
      } finally {
        await dev.stop().catch(() => {});
      }
    });

    test(`${flavour}, the device's voice: ${flavour === "openai" ? "added as an assistant message item" : "not sent (the gateway takes no message items)"}`, async () => {
      const dev = await startDevice({ realtime: { flavour }, config: { ...(flavour === "openai" ? OPENAI : {}), announce: { voice: "local" } } });
      try {
        const stream = await follow(dev);
        const text = "Time to leave for school.";
        const reply = await say(dev.control, text, 3);
        assert.equal(reply.Voice, "local");
        await stream.next(announcement("completed", text), "completed");
        const session = dev.emulator.realtimeSessions()[0]!;
        const created = () => session.received.filter((r) => r.type === "conversation.item.create").map((r) => r.event!.item);
        if (flavour === "openai") {
          await until(() => created().length > 0, "the item");
          assert.deepEqual(created(), [{ type: "message", role: "assistant", content: [{ type: "text", text }] }]);
        } else {
          // An absence has no event: a turn's audio after it, on the same socket, arrives after anything sent before.
          await dev.press();
          await dev.appends(3);
          await dev.release();
          assert.deepEqual(created(), []);
        }
        assert.deepEqual(toldResponses(dev), []);
        assert.deepEqual(session.errors, [], "the service refused something");
      } finally {
        await dev.stop().catch(() => {});
      }
    });
  }

  test("volcengine with a Coze bot: instructions do not reach the bot, so the device's own voice speaks", async () => {
    const dev = await startDevice({ realtime: { flavour: "volcengine" }, config: { agent: { realtime: { flavour: "volcengine", coze_bot_id: "7400000000000000001" } } } });
    try {
      const reply = await say(dev.control, "Dinner is ready.", 3);
      assert.equal(reply.Result, "spoken");
      const stream = await follow(dev);
      const done = await stream.next(announcement("completed", "Dinner is ready."), "completed");
      assert.equal(done.Voice, "local");
      assert.deepEqual(toldResponses(dev), []);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("spoken alerts", { timeout: 60_000 }, () => {
  test("the link lost: said once per incident in the device's voice, however often reconnecting fails; again after the next loss", async () => {
    const dev = await startDevice({ config: { announce: { alerts: { enabled: true } } } });
    try {
      const stream = await follow(dev);
      const alerts = () => stream.frames.filter((f) => f.Event === "Announcement" && f.Source === "alert" && f.Status === "started");
      dev.emulator.setAcceptConnections(false);
      dev.emulator.dropAll();
      const said = await stream.next((f) => f.Event === "Announcement" && f.Source === "alert" && f.Status === "completed", "the offline alert");
      assert.equal(said.Text, "I am offline. Reconnecting.");
      assert.equal(said.Voice, "local");
      // Failed reconnects (reconnect.max_ms is 1 s in tests) for seconds after the alert ended: nothing more is said.
      const downs = () => stream.frames.filter((f) => f.Event === "Link" && f.State === "down").length;
      const before = downs();
      await until(() => downs() >= before + 4, "four more failed reconnects");
      assert.equal(alerts().length, 1);
      dev.emulator.setAcceptConnections(true);
      await stream.next((f) => f.Event === "Link" && f.State === "ready", "the link back");
      dev.emulator.dropAll();
      await until(() => alerts().length === 2, "the second incident's alert");
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("refusals the user must act on", { timeout: 60_000 }, () => {
  test("a bot not published (Coze 4015): its own alert, once; the link held for minutes, not retried; the status says why", async () => {
    const dev = await startDevice({ ready: "offline", config: { agent: { coze: { bot_id: "unpublished" } }, announce: { alerts: { enabled: true } } } });
    try {
      const stream = await follow(dev);
      const said = await stream.next((f) => f.Event === "Announcement" && f.Source === "alert" && f.Status === "completed", "the not-found alert");
      assert.equal(said.Text, "The agent was not found. Check that it is published.");
      const link = (await dev.status()).Link as { state: string; problem: string; retryInMs: number; message: string };
      assert.deepEqual([link.state, link.problem, link.retryInMs], ["down", "not_found", 300_000]);
      assert.match(link.message, /not published.*Publish → API/);
      const agent = (await dev.status()).Agent as { Reachable: boolean; Answering: null; ConsecutiveFailures: number; LastFailure: string };
      assert.deepEqual([agent.Reachable, agent.Answering, agent.ConsecutiveFailures], [false, null, 1]);
      assert.match(agent.LastFailure, /^link not_found: .*not published/);
      // A press is the user saying they published it: one attempt, refused again, said no more.
      await dev.press();
      await dev.release();
      await until(() => dev.emulator.sessions().length === 2, "the press's one attempt");
      await stream.next((f) => f.Event === "Link" && f.State === "down" && f.Problem === "not_found", "refused again");
      const after = stream.frames.slice(stream.frames.indexOf(said) + 1);
      assert.deepEqual(after.filter((f) => f.Event === "Announcement" && f.Source === "alert"), [], "the same refusal was announced again");
      assert.equal(dev.emulator.sessions().length, 2, "retried without a press");
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("the idle prompt (free conversation)", { timeout: 60_000 }, () => {
  test("after announce.idle_prompt_ms of the user's silence, the prompt is spoken, then the device listens again", async () => {
    const dev = await startDevice({ ready: "listening", config: { conversation: { mode: "free" }, announce: { voice: "local", idle_prompt_ms: 1500 } } });
    try {
      const stream = await follow(dev);
      const t0 = Date.now();
      const started = await stream.next((f) => f.Event === "Announcement" && f.Source === "idle-prompt" && f.Status === "started", "the idle prompt");
      assert.ok(Date.now() - t0 >= 1000, "the prompt came before the silence was long enough");
      assert.equal(started.Text, "I noticed you have been quiet for a while. Shall I explain that again?");
      await stream.next((f) => f.Event === "Announcement" && f.Source === "idle-prompt" && f.Status === "completed", "the prompt heard");
      await stream.next((f) => f.Event === "State" && f.State === "listening", "listening again");
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("announcements on Realtime (OpenAI): priorities, in the agent's voice", { timeout: 60_000 }, () => {
  const realtime = { realtime: { flavour: "openai" as const }, emulator: { realtimePacing: "realtime" as const }, config: OPENAI };

  /** A reply playing at the card. */
  async function replying(dev: Device, appends = 100): Promise<void> {
    await dev.press();
    await dev.appends(appends);
    await dev.release();
    await dev.daemon.waitForState("speaking");
    await until(() => daemonPlayback(dev.rig).bytes.length > 3_200, "the reply at the speaker");
  }

  /** When the emulator receives the next client event of `type`. */
  function nextRealtimeEvent(dev: Device, type: string): Promise<bigint> {
    return new Promise<bigint>((resolve) => {
      const on = (_i: number, rec: { type: string | null; atNs: bigint }): void => {
        if (rec.type !== type) return;
        dev.emulator.events.off("realtime-client-event", on);
        resolve(rec.atNs);
      };
      dev.emulator.events.on("realtime-client-event", on);
    });
  }

  test("mode 1 during a reply: response.cancel (and the heard part truncated) on the wire, the reply's sound stops, the announcement is heard", async () => {
    const dev = await startDevice(realtime);
    try {
      await replying(dev);
      const stream = await follow(dev);
      const cancel = nextRealtimeEvent(dev, "response.cancel");
      const text = "Battery low.";
      const reply = await say(dev.control, text, 1);
      assert.equal(reply.Result, "spoken");
      const cancelAt = await cancel;
      const done = await stream.next(announcement("completed", text), "the announcement completed");
      assert.equal(done.Voice, "agent");
      const session = dev.emulator.realtimeSessions()[0]!;
      const reply1 = session.responses[0]!;
      assert.equal(reply1.status, "cancelled");
      assert.ok(reply1.truncate, "the reply was not truncated to what was heard");
      const told = toldResponses(dev);
      assert.deepEqual(told.map((r) => r.status), ["completed"]);
      const after = playedMsAfter(dev, cancelAt);
      const expected = [...text].length * SPEECH_MS_PER_CHAR;
      assert.ok(after < expected + 150 && after > expected - 100, `${after.toFixed(0)} ms played after the cancel; the announcement is ${expected} ms`);
      await stream.next((f) => f.Event === "State" && f.State === "idle", "idle");
      assert.deepEqual(session.errors, []);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("mode 2 during a reply: both heard after it, in order, each its own response; mode 3 meanwhile dropped, and spoken once idle", async () => {
    const dev = await startDevice(realtime);
    try {
      await replying(dev, 40);
      const stream = await follow(dev);
      const a = await say(dev.control, "First notice.", 2);
      const b = await say(dev.control, "第二条通知。", "2");
      const c = await say(dev.control, "Only when idle.", 3);
      assert.deepEqual([a.Result, a.Position, b.Result, b.Position, c.Result], ["queued", 1, "queued", 2, "dropped"]);
      await stream.next(announcement("completed", "第二条通知。"), "the second announcement completed");
      await stream.next((f) => f.Event === "State" && f.State === "idle", "idle after both");
      const order = stream.frames.filter((f) => f.Event === "Announcement" || f.Event === "State").map((f) => (f.Event === "State" ? f.State : `${f.Status}:${f.Text}`));
      assert.deepEqual(order, ["dropped:Only when idle.", "started:First notice.", "announcing", "completed:First notice.", "started:第二条通知。", "completed:第二条通知。", "idle"]);
      const session = dev.emulator.realtimeSessions()[0]!;
      // The reply ran to its end: the announcements waited for it.
      assert.equal(session.responses[0]!.status, "completed");
      assert.deepEqual(toldResponses(dev).map((r) => JSON.parse(r.instructions.slice(r.instructions.lastIndexOf(": ") + 2)) as string), ["First notice.", "第二条通知。"]);
      const idle = await say(dev.control, "Now it is quiet.", 3);
      assert.equal(idle.Result, "spoken");
      assert.equal(idle.Voice, "agent");
      await stream.next(announcement("completed", "Now it is quiet."), "the mode-3 one, idle");
      assert.deepEqual(session.errors, []);
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("cut by the talk button: its response is cancelled and its item truncated to what was heard; the turn that follows is answered", async () => {
    const dev = await startDevice(realtime);
    try {
      const stream = await follow(dev);
      const text = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"; // 30 characters: 3.6 s
      await say(dev.control, text, 3);
      await stream.next(announcement("started"), "started");
      const t0 = process.hrtime.bigint();
      await until(() => playedMsAfter(dev, t0) > 1200, "1.2 s of it at the speaker");
      const truncated = nextRealtimeEvent(dev, "conversation.item.truncate");
      await dev.press();
      const cut = await stream.next(announcement("interrupted"), "interrupted");
      await truncated;
      const told = toldResponses(dev);
      assert.equal(told.length, 1);
      await until(() => toldResponses(dev)[0]!.status !== "in_progress", "the response ended");
      const r = toldResponses(dev)[0]!;
      assert.equal(r.status, "cancelled");
      // 1.2 s or a little more of 3.6 s was heard; the item keeps that much, never the whole.
      assert.ok(r.truncateMs !== null && r.truncateMs >= 1150 && r.truncateMs <= 2000, `truncated at ${r.truncateMs} ms`);
      // Still streaming when cut, so the stream's Heard is an estimate at a typical pace; the history (the truncated item) is exact.
      const heard = String(cut.Heard);
      assert.ok(heard.length > 0 && heard.length < text.length && text.startsWith(heard), `heard: '${heard}'`);
      const session = dev.emulator.realtimeSessions()[0]!;
      assert.deepEqual(session.received.filter((e) => e.type === "conversation.item.create"), [], "the heard part was added besides the truncated item");
      await dev.appends(20);
      await dev.release();
      await dev.daemon.waitForState("speaking");
      assert.deepEqual(session.errors, []);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});

describe("announcements and the user's voice (free conversation)", { timeout: 60_000 }, () => {
  for (const backend of ["coze", "realtime"] as const) {
    test(`${backend}: mode 2 waiting for a reply is dropped when the user speaks over that reply (seed 004, Q1)`, async () => {
      // 1 s quiet, an utterance, 1.5 s quiet (the reply starts), a second utterance over the reply.
      const micPcm = Buffer.concat([silence(16000, 1), SPEECH_16K, silence(16000, 1.5), SPEECH_16K, silence(16000, 30)]);
      const config = { conversation: { mode: "free" }, audio: { echo: "none", ...(backend === "realtime" ? { uplink_rate: 24000, downlink_rate: 24000 } : {}) }, announce: { voice: "local" } };
      const dev = await startDevice({ rig: { micPcm }, ready: "listening", config, ...(backend === "realtime" ? { realtime: { flavour: "openai" as const }, emulator: { realtimePacing: "realtime" as const } } : {}) });
      try {
        const stream = await follow(dev);
        await stream.next((f) => f.Event === "State" && f.State === "speaking", "the first reply");
        const queued = await say(dev.control, "After this answer.", 2);
        assert.equal(queued.Result, "queued");
        const dropped = await stream.next(announcement("dropped", "After this answer."), "the queued announcement dropped");
        assert.match(String(dropped.Reason), /interrupted the reply by voice/);
        assert.ok(!stream.frames.some(announcement("started")), "it was spoken");
      } finally {
        await dev.stop().catch(() => {});
      }
    });
  }
});

describe("the slow-reply phrase (seed 004's 延迟安抚)", { timeout: 60_000 }, () => {
  test("Coze, slow: after slow_reply_ms the agent's voice says it; the reply's first audio cuts it, the reply plays whole; not in the history", async () => {
    const dev = await startDevice({ emulator: { replyDelayMs: 2500 }, config: { announce: { slow_reply_ms: 600 } } });
    try {
      const stream = await follow(dev);
      await dev.press();
      await dev.appends(40);
      const done = dev.nextTurn();
      await dev.release();
      const started = await stream.next((f) => f.Event === "Announcement" && f.Source === "slow-reply" && f.Status === "started", "the phrase");
      assert.equal(started.Text, "One moment, I am working on it.");
      assert.equal(started.Voice, "agent");
      // 31 characters: 3.7 s of the emulator's speech, longer than the 2.5 s the reply takes.
      const cut = await stream.next((f) => f.Event === "Announcement" && f.Source === "slow-reply" && f.Status !== "started", "the phrase's end");
      assert.equal(cut.Status, "interrupted");
      const turn = await done;
      await stream.next((f) => f.Event === "State" && f.State === "idle", "idle after the reply");
      const states = stream.frames.filter((f) => f.Event === "State").map((f) => f.State);
      assert.deepEqual(states, ["listening", "thinking", "speaking", "idle"], "the phrase is no state of its own");
      assert.equal(await dev.stopDaemon(), 0);
      const played = daemonPlayback(dev.rig).bytes;
      assert.ok(played.length > turn.reply.length + 1000 * BYTES_PER_MS, "the phrase did not play for the second and a half before the reply");
      assert.ok(played.subarray(played.length - turn.reply.length).equals(turn.reply), "the reply did not play whole after the phrase");
      assert.deepEqual(remembered(dev), [], "the phrase joined the agent's history");
    } finally {
      await dev.stop().catch(() => {});
    }
  });

  test("Realtime: the device's own voice says it (a response.create would wait behind the reply), heard whole when the reply is slower, once", async () => {
    const dev = await startDevice({
      realtime: { flavour: "volcengine" },
      emulator: { replyDelayMs: 3000 },
      config: { announce: { slow_reply_ms: 400, slow_reply: "Wait." } },
    });
    try {
      const stream = await follow(dev);
      await dev.press();
      await dev.appends(30);
      await dev.release();
      const started = await stream.next((f) => f.Event === "Announcement" && f.Source === "slow-reply" && f.Status === "started", "the phrase");
      assert.equal(started.Voice, "local");
      await stream.next((f) => f.Event === "Announcement" && f.Source === "slow-reply" && f.Status === "completed", "the phrase heard whole");
      await stream.next((f) => f.Event === "State" && f.State === "idle", "idle after the reply");
      assert.deepEqual(toldResponses(dev), [], "the phrase was asked of the agent");
      const said = () => stream.frames.filter((f) => f.Event === "Announcement" && f.Source === "slow-reply" && f.Status === "started").length;
      assert.equal(said(), 1);
    } finally {
      await dev.stop().catch(() => {});
    }
  });
});
