import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { audioMs, classifyError, decodeEvent, encodeEvent, errorHint, readError, type WireEvent } from "../../src/agent/realtime/protocol";
import { buildSession, checkFormats, checkSessionUpdated, type RealtimeSessionSettings } from "../../src/agent/realtime/session-config";
import { newTracker, translate } from "../../src/agent/realtime/translate";
import { RealtimeBackend } from "../../src/agent/realtime/client";
import { ConfigError } from "../../src/config/errors";
import { silentLogger } from "../../src/log/logger";
import { noConversations } from "../../src/core/conversations";

const pcm16k = { codec: "pcm" as const, sampleRate: 16000, channels: 1 as const };
const pcm24k = { codec: "pcm" as const, sampleRate: 24000, channels: 1 as const };
const g711u = { codec: "g711u" as const, sampleRate: 8000, channels: 1 as const };

const settings = (over: Partial<RealtimeSessionSettings> = {}): RealtimeSessionSettings => ({
  flavour: "volcengine",
  tools: [],
  input: pcm16k,
  output: pcm16k,
  vad: { prefixPaddingMs: 600, silenceDurationMs: 500 },
  ...over,
});

function ev(e: Record<string, unknown>): WireEvent {
  const d = decodeEvent(JSON.stringify(e), false);
  assert.ok(d.ok);
  return d.event;
}

describe("Realtime wire encoding", () => {
  test("client events carry type and a unique event_id with their fields at the top level", () => {
    const a = JSON.parse(encodeEvent("input_audio_buffer.append", { audio: "AAA=" }));
    const b = JSON.parse(encodeEvent("input_audio_buffer.commit"));
    assert.deepEqual(Object.keys(a).sort(), ["audio", "event_id", "type"]);
    assert.equal(a.type, "input_audio_buffer.append");
    assert.equal(a.audio, "AAA=");
    assert.notEqual(a.event_id, b.event_id);
  });

  test("decodeEvent rejects what is not one JSON event object, without throwing", () => {
    for (const [raw, binary, why] of [
      ["nope", false, /not JSON/],
      ["[1]", false, /not a JSON object/],
      ['{"x":1}', false, /missing type/],
      ['{"type":""}', false, /missing type/],
      ['{"type":"error"}', true, /binary/],
    ] as const) {
      const d = decodeEvent(raw, binary);
      assert.equal(d.ok, false);
      if (!d.ok) assert.match(d.reason, why);
    }
  });

  test("audio duration per format", () => {
    assert.equal(audioMs("pcm", 16000, 640), 20);
    assert.equal(audioMs("pcm", 24000, 4800), 100);
    assert.equal(audioMs("g711u", 8000, 160), 20);
  });

  test("errors are classified: races are quiet, the key and idle closes are recognised", () => {
    const e = (error: Record<string, unknown>) => readError(ev({ type: "error", error }));
    assert.equal(classifyError(e({ type: "invalid_request_error", code: "response_cancel_not_active", message: "x" })), "cancel-not-active");
    assert.equal(classifyError(e({ code: "conversation_already_has_active_response", message: "x" })), "already-active");
    assert.equal(classifyError(e({ type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key" })), "auth");
    assert.equal(classifyError(e({ code: "session_expired", message: "Your session hit the maximum duration of 30 minutes." })), "session-gone");
    assert.equal(classifyError(e({ type: "invalid_request_error", message: "session idle timeout" })), "idle");
    assert.equal(classifyError(e({ type: "server_error", code: "server_error", message: "There is problem in server side" })), "other");
    assert.match(errorHint(e({ type: "invalid_request_error", code: "rate_limit_exceeded", message: "slow down" })) ?? "", /rate limit/);
    assert.equal(readError(ev({ type: "error" })).message, "error without a message");
  });
});

describe("Realtime session config", () => {
  test("each flavour's formats; unsupported ones are named with the keys to change", () => {
    assert.deepEqual(checkFormats("volcengine", pcm16k, pcm16k), []);
    assert.deepEqual(checkFormats("openai", pcm24k, g711u), []);
    const volc = checkFormats("volcengine", pcm16k, pcm24k);
    assert.equal(volc.length, 1);
    assert.match(volc[0]!, /audio\.downlink_codec.*16000/);
    const oai = checkFormats("openai", { codec: "opus", sampleRate: 16000, channels: 1 }, pcm16k);
    assert.equal(oai.length, 2);
    assert.match(oai[0]!, /audio\.uplink_codec.*24000.*g711/);
    assert.deepEqual(checkFormats("volcengine", g711u, pcm16k).length, 1);
  });

  test("the constructor refuses an unsupported combination with a ConfigError", () => {
    assert.throws(
      () =>
        new RealtimeBackend(
          {
            flavour: "volcengine",
            url: "ws://127.0.0.1:1/v1/realtime",
            token: "t",
            session: { tools: [], input: pcm16k, output: pcm24k, vad: { prefixPaddingMs: 1, silenceDurationMs: 100 } },
            mode: "push-to-talk",
            keepaliveMs: 0,
            connectTimeoutMs: 1000,
            pingIntervalMs: 1000,
            pingTimeoutMs: 1000,
            reconnect: { initialMs: 1, maxMs: 1, authFailureMs: 1 },
            conversations: () => noConversations,
          },
          silentLogger(),
        ),
      (err: unknown) => err instanceof ConfigError && /downlink_rate: 16000/.test(err.message),
    );
  });

  test("turn detection: null for push-to-talk and always on the gateway; server VAD for OpenAI's free conversation", () => {
    assert.equal(buildSession(settings(), "free").turn_detection, null);
    assert.equal(buildSession(settings({ flavour: "openai", input: pcm24k, output: pcm24k }), "push-to-talk").turn_detection, null);
    assert.deepEqual(buildSession(settings({ flavour: "openai", input: pcm24k, output: pcm24k }), "free").turn_detection, {
      type: "server_vad",
      prefix_padding_ms: 600,
      silence_duration_ms: 500,
    });
    const s = buildSession(settings(), "push-to-talk");
    assert.ok(
      !("instructions" in s) && !("voice" in s) && !("temperature" in s) && !("input_audio_transcription" in s) && !("input_audio_noise_reduction" in s),
      "unset keys are left out",
    );
  });

  test("noise reduction goes out as OpenAI's input_audio_noise_reduction", () => {
    const s = buildSession(settings({ flavour: "openai", input: pcm24k, output: pcm24k, noiseReduction: "far_field" }), "free");
    assert.deepEqual(s.input_audio_noise_reduction, { type: "far_field" });
  });

  test("session.updated: formats read back, what is missing stands as asked, what talkbox cannot play fails", () => {
    const asked = settings({ flavour: "openai", input: pcm24k, output: pcm24k });
    const ok = checkSessionUpdated({ session: { id: "sess_9", input_audio_format: "g711_ulaw" } }, asked, "push-to-talk");
    assert.ok(ok.ok);
    if (ok.ok) {
      assert.deepEqual(ok.input, g711u);
      assert.deepEqual(ok.output, pcm24k);
      assert.equal(ok.sessionId, "sess_9");
    }
    const bad = checkSessionUpdated({ session: { output_audio_format: "mp3" } }, asked, "push-to-talk");
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.message, /output_audio_format.*mp3/);
    assert.equal(checkSessionUpdated({}, asked, "push-to-talk").ok, false);
    const vadOff = checkSessionUpdated({ session: { turn_detection: null } }, asked, "free");
    assert.ok(vadOff.ok && vadOff.warnings.some((w) => /server VAD off/.test(w)));
  });
});

describe("Realtime server events → agent events", () => {
  test("a function-call response gets reply.started but no reply.done; the spoken follow-up gets both", () => {
    const t = newTracker();
    const out = (e: Record<string, unknown>) => translate(ev(e), t, pcm16k);
    assert.deepEqual(out({ type: "response.created", response: { id: "r1" } }), { kind: "events", events: [{ type: "reply.started", replyId: "r1" }] });
    const call = out({ type: "response.function_call_arguments.done", response_id: "r1", call_id: "c1", name: "get_volume", arguments: "{}" });
    assert.deepEqual(call, { kind: "events", events: [{ type: "tool.call", callId: "c1", name: "get_volume", arguments: "{}" }] });
    const done = out({ type: "response.done", response: { id: "r1", status: "completed", output: [{ type: "function_call", call_id: "c1", name: "get_volume" }] } });
    assert.deepEqual(done, { kind: "events", events: [], finished: { id: "r1", status: "completed", calls: ["c1"] } });
    out({ type: "response.created", response: { id: "r2" } });
    const last = out({ type: "response.done", response: { id: "r2", status: "completed" } });
    assert.deepEqual(last, { kind: "events", events: [{ type: "reply.done", replyId: "r2", status: "completed" }], finished: { id: "r2", status: "completed", calls: [] } });
  });

  test("a call announced only in response.done is still asked for", () => {
    const t = newTracker();
    translate(ev({ type: "response.created", response: { id: "r1" } }), t, pcm16k);
    const done = translate(ev({ type: "response.done", response: { id: "r1", status: "completed", output: [{ type: "function_call", call_id: "c7", name: "x", arguments: '{"a":1}' }] } }), t, pcm16k);
    assert.deepEqual(done, { kind: "events", events: [{ type: "tool.call", callId: "c7", name: "x", arguments: '{"a":1}' }], finished: { id: "r1", status: "completed", calls: ["c7"] } });
  });

  test("cancelled, failed and incomplete responses end the reply, with the reason as the error", () => {
    const t = newTracker();
    const done = (response: Record<string, unknown>) => translate(ev({ type: "response.done", response }), t, pcm16k);
    const cancelled = done({ id: "r1", status: "cancelled", output: [{ type: "function_call", call_id: "c1", name: "x" }] });
    assert.ok(cancelled.kind === "events");
    assert.deepEqual(cancelled.events.at(-1), { type: "reply.done", replyId: "r1", status: "canceled" });
    const failed = done({ id: "r2", status: "failed", status_details: { type: "failed", error: { type: "server_error", code: "model_error" } } });
    assert.ok(failed.kind === "events");
    assert.deepEqual(failed.events[0], { type: "reply.done", replyId: "r2", status: "failed", error: { code: "model_error", message: "the reply ended with status failed" } });
    const incomplete = done({ id: "r3", status: "incomplete", status_details: { type: "incomplete", reason: "max_output_tokens" } });
    assert.ok(incomplete.kind === "events");
    const e = incomplete.events[0];
    assert.ok(e?.type === "reply.done" && e.status === "failed" && e.error?.code === "max_output_tokens" && /token limit/.test(e.error.hint ?? ""));
  });

  test("audio is tracked per item for truncation; a new response starts afresh", () => {
    const t = newTracker();
    const out = (e: Record<string, unknown>) => translate(ev(e), t, pcm16k);
    out({ type: "response.created", response: { id: "r1" } });
    out({ type: "response.audio.delta", response_id: "r1", item_id: "i1", delta: Buffer.alloc(640).toString("base64") });
    out({ type: "response.audio.delta", response_id: "r1", item_id: "i2", delta: Buffer.alloc(1280).toString("base64") });
    assert.deepEqual(t.audio, { id: "i2", startMs: 20, ms: 40 });
    out({ type: "response.created", response: { id: "r2" } });
    assert.equal(t.audio, null);
  });

  test("user speech, transcripts and unknown or broken events", () => {
    const t = newTracker();
    const out = (e: Record<string, unknown>) => translate(ev(e), t, pcm16k);
    assert.deepEqual(out({ type: "input_audio_buffer.speech_started" }), { kind: "events", events: [{ type: "input.speech_started" }] });
    assert.deepEqual(out({ type: "conversation.item.input_audio_transcription.completed", transcript: "你好" }), {
      kind: "events",
      events: [{ type: "user.transcript", text: "你好", final: true }],
    });
    assert.equal(out({ type: "conversation.item.input_audio_transcription.completed" }).kind, "invalid");
    assert.equal(out({ type: "response.audio.delta", response_id: "r", delta: "***" }).kind, "invalid");
    assert.equal(out({ type: "response.audio.delta", delta: "AAAA" }).kind, "invalid", "audio outside any response");
    assert.equal(out({ type: "brand.new" }).kind, "ignored");
    assert.deepEqual(out({ type: "rate_limits.updated", rate_limits: [] }), { kind: "events", events: [] });
  });
});
