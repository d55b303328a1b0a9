/**
 * A misbehaving Coze service (the fault proxy in front of the emulator) against the
 * real daemon on the ALSA rig. Each case: the daemon stays alive, leaves the bad
 * state within a bounded time, says so once, and completes the next turn.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SERVER_EVENT_DATA } from "../../src/agent/coze/server-events";
import { startDevice, type Device, type DeviceOptions } from "../support/device";
import { speechLoop } from "../support/speech";
import { assertAlive, completeTurn, oversizeFrameCase, rssMiB, errorInPlaceCase, neverEndingReplyCase, spokenTurn, stalledReplyCase, warnings, withDevice } from "./support";
import { confusionFrames, json } from "./type-confusion";

const examples: Record<string, Record<string, unknown>> = {
  "chat.created": {},
  "chat.updated": { input_audio: { codec: "pcm", sample_rate: 16000 }, output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000 }, opus_config: { sample_rate: 16000 } } },
  "input_audio_buffer.completed": {},
  "input_audio_buffer.cleared": {},
  "input_audio_buffer.speech_started": {},
  "input_audio_buffer.speech_stopped": {},
  "conversation.audio_transcript.update": { content: "hi" },
  "conversation.audio_transcript.completed": { content: "hi" },
  "conversation.chat.created": { id: "c-fault", conversation_id: "conv-fault" },
  "conversation.chat.in_progress": {},
  "conversation.chat.completed": { id: "c-fault" },
  "conversation.chat.failed": { id: "c-fault", last_error: { code: 5000, msg: "internal" } },
  "conversation.chat.requires_action": {
    id: "c-fault",
    required_action: { submit_tool_outputs: { tool_calls: [{ id: "call-fault", function: { name: "get_volume", arguments: "{}" } }] } },
  },
  "conversation.chat.canceled": {},
  "conversation.message.delta": { type: "answer", content_type: "text", content: "hi", chat_id: "c-fault" },
  "conversation.message.completed": { type: "answer", content_type: "text", content: "hi", chat_id: "c-fault" },
  "conversation.audio.sentence_start": {},
  "conversation.audio.delta": { content: "AAAA", chat_id: "c-fault" },
  "conversation.audio.completed": {},
  "conversation.cleared": {},
  error: { code: 4000, msg: "bad parameter" },
};

const event = (event_type: string, data: unknown): string => json({ id: "fault", event_type, data });

async function device(o: DeviceOptions = {}): Promise<Device> {
  return startDevice({ proxy: true, rig: { micPcm: speechLoop(30) }, ...o });
}

/** Server frames are handled in order: once this marker's warning is logged, every frame before it was handled. */
async function sendAndSettle(dev: Device, frames: string[]): Promise<void> {
  const conn = dev.proxy!.latest;
  for (const f of frames) conn.send(f);
  const marker = `end-marker-${Date.now()}`;
  conn.send(event("error", { code: 4000, msg: marker }));
  await dev.daemon.waitForLog((l) => String(l.msg).includes(marker), 30_000);
}

describe("fault suite: a misbehaving Coze service", () => {
  test("every server event with each field replaced by each wrong JSON type (generated from the schemas)", { timeout: 60_000 }, async () => {
    await withDevice(device(), async (dev) => {
      const frames = confusionFrames(SERVER_EVENT_DATA, examples, event);
      const from = dev.daemon.logs.length;
      await sendAndSettle(dev, frames);
      assertAlive(dev);
      // One line and then a count, not one warning per event.
      const invalid = warnings(dev, from, /^ignored an invalid event from the agent/);
      assert.ok(invalid.length >= 1 && invalid.length <= 4, `${invalid.length} warnings about invalid events`);
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.length - 1).catch(() => undefined);
      await completeTurn(dev);
      assert.equal(dev.emulator.sessions().length, 1, "type confusion must not cost the connection");
    });
  });

  test("a tool call whose arguments are 100 000 levels deep is answered with an error", { timeout: 60_000 }, async () => {
    await withDevice(device(), async (dev) => {
      const deep = (n: number): string => "[".repeat(n) + "]".repeat(n);
      // From the emulator, so the chat waits at requires_action for the answers as Coze does.
      dev.emulator.scriptToolCall({ name: "set_volume", arguments: deep(30_000) });
      dev.emulator.scriptToolCall({ name: "set_volume", arguments: deep(100_000) });
      const from = dev.daemon.logs.length;
      const answered = new Promise<string>((resolve) =>
        dev.proxy!.events.on("client-frame", (_c, t: string) => {
          if (t.includes("submit_tool_outputs")) resolve(t);
        }),
      );
      await dev.press();
      await dev.appends(25);
      await dev.release();
      const submitted = JSON.parse(await answered) as { data: { tool_outputs: Array<{ output: string }> } };
      assert.match(submitted.data.tool_outputs[0]!.output, /nested deeper than 32 levels/);
      assert.match(submitted.data.tool_outputs[1]!.output, /longer than 65536 characters/);
      assertAlive(dev);
      // The log comes through the daemon's stdout, so it may arrive after the frame.
      await dev.daemon.waitForLog((l) => l.msg === "tool set_volume failed", 5_000, from);
      await dev.daemon.waitForState("idle", 30_000, from);
      await completeTurn(dev);
    });
  });

  for (const [code, msg] of [
    [4016, "a chat is already running"],
    [5000, "internal error"],
  ] as const) {
    test(`an error ${code} in place of the reply ends the turn at once, not after reply_timeout_ms`, { timeout: 60_000 }, async () => {
      await withDevice(device({ config: { conversation: { reply_timeout_ms: 120_000 } } }), async (dev) => {
        await errorInPlaceCase(dev, "input_audio_buffer.complete", event("error", { code, msg }), new RegExp(`answered with an error: ${msg}`), false);
      });
    });
  }

  test("a reply whose audio ends without conversation.chat.completed: speaking ends after reply_timeout_ms", { timeout: 60_000 }, async () => {
    await withDevice(device({ config: { conversation: { reply_timeout_ms: 1500 } } }), async (dev) => {
      await neverEndingReplyCase(dev, '"conversation.chat.completed"', false);
    });
  });

  test("a PCM reply with an odd byte count plays out and ends (no spinning playback thread)", { timeout: 60_000 }, async () => {
    await withDevice(device(), async (dev) => {
      let first = true;
      dev.proxy!.onServer = (_conn, text) => {
        if (!first || !text.includes('"conversation.audio.delta"')) return "pass";
        first = false;
        const ev = JSON.parse(text) as { data: { content: string } };
        ev.data.content = Buffer.concat([Buffer.from(ev.data.content, "base64"), Buffer.from([0x11])]).toString("base64");
        return { replace: [JSON.stringify(ev)] };
      };
      await spokenTurn(dev);
      dev.proxy!.onServer = null;
      await completeTurn(dev);
    });
  });

  test("a whole reply sent at once (120 s of audio): audio.reply_buffer_ms plays, the rest is dropped, the reply is stopped", { timeout: 60_000 }, async () => {
    await withDevice(device({ config: { audio: { reply_buffer_ms: 5000 } } }), async (dev) => {
      const second = Buffer.alloc(32_000, 0x10).toString("base64");
      dev.proxy!.onServer = (conn, text) => {
        if (!text.includes('"conversation.chat.created"')) return "pass";
        dev.proxy!.onServer = (_c, t) => (t.includes('"conversation.audio.delta"') ? "drop" : "pass");
        const chatId = (JSON.parse(text) as { data: { id: string } }).data.id;
        conn.send(text);
        return { replace: Array.from({ length: 120 }, () => event("conversation.audio.delta", { content: second, chat_id: chatId })) };
      };
      const before = rssMiB(dev.daemon.child.pid!);
      const from = dev.daemon.logs.length;
      const cancel = new Promise<void>((resolve) =>
        dev.proxy!.events.on("client-frame", (_c, t: string) => {
          if (t.includes('"conversation.chat.cancel"')) resolve();
        }),
      );
      await dev.press();
      await dev.appends(25);
      await dev.release();
      await cancel;
      const speaking = await dev.daemon.waitForState("speaking", 10_000, from);
      const grown = rssMiB(dev.daemon.child.pid!) - before;
      await dev.daemon.waitForState("idle", 20_000, dev.daemon.logs.indexOf(speaking));
      assert.equal(warnings(dev, from, /faster than it plays/).length, 1, "one warning");
      assert.ok(grown < 30, `RSS grew ${grown.toFixed(1)} MiB`);
      dev.proxy!.onServer = null;
      await completeTurn(dev);
    });
  });

  test("a frame larger than the protocol allows (8 MiB) is a protocol error of that link, not 100 MiB of RAM", { timeout: 60_000 }, async () => {
    await withDevice(device(), async (dev) => {
      await oversizeFrameCase(dev, event("conversation.audio.delta", { content: "A".repeat(8 * 1024 * 1024), chat_id: "x" }), "4 MiB", false);
      assert.equal(dev.emulator.sessions().length, 2);
    });
  });

  test("a link that stalls as the turn ends is dropped within seconds, the turn is answered on the new link, and the next turn works", { timeout: 60_000 }, async () => {
    await withDevice(device({ config: { conversation: { reply_timeout_ms: 60_000 } } }), async (dev) => {
      await stalledReplyCase(dev, "input_audio_buffer.complete", false);
    });
  });

  test("a drop as the turn ends: the turn the agent never acknowledged goes again, whole, on the new link", { timeout: 60_000 }, async () => {
    await withDevice(device(), async (dev) => {
      const from = dev.daemon.logs.length;
      await dev.press();
      await dev.appends(8);
      const said = Buffer.concat(dev.emulator.sessions()[0]!.received.filter((r) => r.event?.event_type === "input_audio_buffer.append").map((r) => Buffer.from(String((r.event!.data as { delta: string }).delta), "base64")));
      const answered = dev.nextTurn();
      // The end of the turn goes into a socket that is dying: the agent never gets it.
      dev.proxy!.onClient = (conn, text) => {
        if (!text.includes('"input_audio_buffer.complete"')) return "pass";
        dev.proxy!.onClient = null;
        conn.drop();
        return "drop";
      };
      await dev.release();
      const turn = await answered;
      assert.equal(turn.session, 1, "answered on the new link");
      assert.ok(turn.audio.length >= said.length && turn.audio.subarray(0, said.length).equals(said), "what was said before the drop is in the re-sent turn");
      await dev.daemon.waitForState("idle", 15_000, from + 1);
      assert.equal(warnings(dev, from, /before the answer was complete/).length, 0);
      assertAlive(dev);
      await completeTurn(dev);
    });
  });

  test("10 000 invalid events in a burst: a handful of log lines, not 10 000", { timeout: 60_000 }, async () => {
    await withDevice(device(), async (dev) => {
      const from = dev.daemon.logs.length;
      await sendAndSettle(dev, Array.from({ length: 10_000 }, (_, i) => event("conversation.audio.delta", { content: i, chat_id: "x" })));
      const lines = dev.daemon.logs.slice(from).filter((l) => l.level >= 40);
      assert.ok(lines.length <= 5, `${lines.length} warning lines`);
      assertAlive(dev);
      await completeTurn(dev);
    });
  });
});
