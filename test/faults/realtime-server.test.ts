/**
 * A misbehaving OpenAI-Realtime-compatible service (the fault proxy in front of the
 * emulator's /v1/realtime) against the real daemon on the ALSA rig: the same promises
 * as for Coze — alive, out of the bad state in bounded time, said once, next turn works.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SERVER_EVENTS } from "../../src/agent/realtime/server-events";
import { S } from "../../src/agent/realtime/names";
import { startDevice, type Device, type DeviceOptions } from "../support/device";
import { speechLoop } from "../support/speech";
import { assertAlive, completeTurn, oversizeFrameCase, errorInPlaceCase, neverEndingReplyCase, stalledReplyCase, warnings, withDevice } from "./support";
import { confusionFrames, json } from "./type-confusion";

const call = { type: "function_call", call_id: "call-fault", name: "get_volume", arguments: "{}" };
const examples: Record<string, Record<string, unknown>> = {
  [S.sessionCreated]: { session: { id: "sess-fault" } },
  [S.sessionUpdated]: { session: { id: "sess-fault", input_audio_format: "pcm16", output_audio_format: "pcm16", turn_detection: null, tools: [] } },
  [S.bufferCommitted]: {},
  [S.bufferCleared]: {},
  [S.speechStarted]: {},
  [S.speechStopped]: {},
  [S.itemCreated]: {},
  [S.itemTruncated]: {},
  [S.transcriptionDelta]: { delta: "hi" },
  [S.transcriptionCompleted]: { transcript: "hi" },
  [S.transcriptionFailed]: { error: { message: "no speech" } },
  [S.responseCreated]: { response: { id: "resp-fault" } },
  [S.outputItemAdded]: {},
  [S.outputItemDone]: { item: call },
  [S.contentPartAdded]: {},
  [S.contentPartDone]: {},
  [S.audioDelta]: { response_id: "resp-fault", item_id: "item-fault", delta: "AAAA" },
  [S.audioDone]: {},
  [S.audioTranscriptDelta]: { response_id: "resp-fault", delta: "hi" },
  [S.audioTranscriptDone]: { response_id: "resp-fault", transcript: "hi" },
  [S.textDelta]: { response_id: "resp-fault", delta: "hi" },
  [S.textDone]: { response_id: "resp-fault", text: "hi" },
  [S.functionArgumentsDelta]: {},
  [S.functionArgumentsDone]: { response_id: "resp-fault", call_id: "call-fault", name: "get_volume", arguments: "{}" },
  [S.responseDone]: {
    response: { id: "resp-fault", status: "failed", status_details: { reason: "error", error: { code: "server_error", type: "server_error", message: "x" } }, output: [call] },
  },
  [S.rateLimits]: {},
  [S.error]: { error: { type: "invalid_request_error", code: "bad", message: "bad parameter", param: null, event_id: null } },
};

const event = (type: string, body: unknown): string => json(typeof body === "object" && body !== null && !Array.isArray(body) ? { event_id: "fault", type, ...body } : { event_id: "fault", type, body });

async function device(o: DeviceOptions = {}): Promise<Device> {
  return startDevice({ proxy: true, realtime: { flavour: "volcengine" }, rig: { micPcm: speechLoop(30) }, ...o });
}

describe("fault suite: a misbehaving Realtime service", () => {
  test("every server event with each field replaced by each wrong JSON type (generated from the schemas)", { timeout: 90_000 }, async () => {
    await withDevice(device(), async (dev) => {
      // The schema checks the event's own fields: a wrong whole event is a non-object where the type sits beside them.
      const frames = confusionFrames(SERVER_EVENTS, examples, event);
      const from = dev.daemon.logs.length;
      const conn = dev.proxy!.latest;
      for (const f of frames) conn.send(f);
      // Frames are handled in order: once the marker's error is logged, every frame before it was handled.
      const marker = `end-marker-${Date.now()}`;
      conn.send(event(S.error, { error: { type: "invalid_request_error", message: marker } }));
      await dev.daemon.waitForLog((l) => String(l.msg).includes(marker), 30_000, from);
      assertAlive(dev);
      const invalid = warnings(dev, from, /^ignored an invalid event from the agent/);
      assert.ok(invalid.length >= 1 && invalid.length <= 4, `${invalid.length} warnings about invalid events`);
      await dev.daemon.waitForState("idle", 10_000, dev.daemon.logs.length - 1).catch(() => undefined);
      await completeTurn(dev, true);
    });
  });

  test("an error in place of the reply ends the turn at once, not after reply_timeout_ms", { timeout: 60_000 }, async () => {
    await withDevice(device({ config: { conversation: { reply_timeout_ms: 120_000 } } }), async (dev) => {
      const overloaded = event(S.error, { error: { type: "server_error", code: "server_error", message: "the model is overloaded" } });
      await errorInPlaceCase(dev, "response.create", overloaded, /answered with an error: .*overloaded/, true);
    });
  });

  test("a reply whose audio ends without response.done: speaking ends after reply_timeout_ms", { timeout: 60_000 }, async () => {
    await withDevice(device({ config: { conversation: { reply_timeout_ms: 1500 } } }), async (dev) => {
      await neverEndingReplyCase(dev, `"${S.responseDone}"`, true);
    });
  });

  test("a frame larger than the protocol allows (4 MiB) is a protocol error of that link", { timeout: 60_000 }, async () => {
    await withDevice(device(), async (dev) => {
      await oversizeFrameCase(dev, event(S.audioDelta, { response_id: "x", delta: "A".repeat(4 * 1024 * 1024) }), "2 MiB", true);
    });
  });

  test("a link that stalls as the turn ends is dropped within seconds, the turn is answered on the new link, and the next turn works", { timeout: 60_000 }, async () => {
    await withDevice(device({ config: { conversation: { reply_timeout_ms: 60_000 } } }), async (dev) => {
      await stalledReplyCase(dev, "input_audio_buffer.commit", true);
    });
  });
});
