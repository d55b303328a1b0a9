/**
 * A backend's server-event checks are compiled when it is created, not at the first reply:
 * zod compiles an object check into a function (`new Function`) at its first parse, which
 * cost 4-5 ms on the first reply's way to the speaker after every start. After priming,
 * decoding each kind of event must construct no function. Each protocol runs in this one
 * process in turn, so the spy sees exactly what a first decode compiles.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { CozeBackend } from "../../src/agent/coze/client";
import { decodeServerEvent as decodeCoze, primeServerChecks as primeCoze } from "../../src/agent/coze/protocol";
import { SERVER_EVENT_DATA } from "../../src/agent/coze/server-events";
import { decodeServerEvent as decodeRealtime, primeServerChecks as primeRealtime } from "../../src/agent/realtime/protocol";
import { SERVER_EVENTS } from "../../src/agent/realtime/server-events";
import { KIND } from "../../src/agent/voiceapi/names";
import { decodeV2, primeServerChecks as primeVoiceApi } from "../../src/agent/voiceapi/protocol";
import { silentLogger } from "../../src/log/logger";
import { cozeLinkOptions } from "../support/coze-link";

/** How many functions `fn` constructs from source (what zod's compiler does). */
function functionsConstructed(fn: () => void): number {
  const original = globalThis.Function;
  let count = 0;
  globalThis.Function = new Proxy(original, {
    construct(target, args) {
      count++;
      return Reflect.construct(target, args) as object;
    },
  });
  try {
    fn();
  } finally {
    globalThis.Function = original;
  }
  return count;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe("server-event checks are compiled when a backend is created", () => {
  test("the spy sees zod compile a check at its first parse (else this file could not fail)", () => {
    const fresh = z.looseObject({ a: z.string().optional() });
    assert.ok(functionsConstructed(() => fresh.safeParse({ a: "x" })) > 0, "zod compiled nothing: the checks below prove nothing");
  });

  test("Coze: creating the backend compiles every event's check, nested ones included", () => {
    new CozeBackend(cozeLinkOptions("ws://127.0.0.1:1/v1/chat"), silentLogger());
    const events = [
      ...Object.keys(SERVER_EVENT_DATA).map((event_type) => ({ id: "e", event_type, data: {} })),
      { id: "e", event_type: "conversation.audio.delta", data: { content: "AAAA", chat_id: "c" } },
      { id: "e", event_type: "conversation.chat.failed", data: { id: "c", last_error: { code: 4000, msg: "bad" } } },
      {
        id: "e",
        event_type: "conversation.chat.requires_action",
        data: { id: "c", required_action: { submit_tool_outputs: { tool_calls: [{ id: "t", function: { name: "f", arguments: "{}" } }] } } },
      },
      { id: "e", event_type: "chat.updated", data: { input_audio: { codec: "pcm" }, output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000 } } } },
    ];
    const n = functionsConstructed(() => {
      for (const e of events) decodeCoze(json(e), false);
    });
    assert.equal(n, 0, `${n} functions compiled while decoding the first events`);
    // Priming again is free: once per process.
    assert.equal(
      functionsConstructed(() => primeCoze()),
      0,
    );
  });

  test("Realtime: every event's check, after priming", () => {
    primeRealtime();
    const n = functionsConstructed(() => {
      for (const type of Object.keys(SERVER_EVENTS)) decodeRealtime(json({ type, event_id: "e" }), false);
      decodeRealtime(json({ type: "response.audio.delta", event_id: "e", response_id: "r", item_id: "i", delta: "AAAA" }), false);
    });
    assert.equal(n, 0, `${n} functions compiled while decoding the first events`);
  });

  test("voice API: every frame's check, after priming", () => {
    primeVoiceApi();
    const n = functionsConstructed(() => {
      decodeV2(json(Object.values(KIND).map((k) => ({ kind: k.name, user_id: "u", message: "m" }))), false);
    });
    assert.equal(n, 0, `${n} functions compiled while decoding the first frames`);
  });
});
