import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeBase64, decodeEvent, encodeEvent, errorHint, linkHoldingProblem, S } from "../../src/agent/coze/protocol";
import { buildChatUpdate, formatsFromChatUpdated } from "../../src/agent/coze/session-config";
import { translate, type ReplyTracker } from "../../src/agent/coze/translate";

const pcm16k = { codec: "pcm" as const, sampleRate: 16000, channels: 1 as const };
const pcm24k = { codec: "pcm" as const, sampleRate: 24000, channels: 1 as const };

function ev(event_type: string, data?: Record<string, unknown>) {
  const d = decodeEvent(JSON.stringify({ id: "s1", event_type, data }), false);
  assert.ok(d.ok);
  return d.event;
}

describe("Coze wire encoding", () => {
  test("every client event has a unique id and the envelope fields", () => {
    const a = JSON.parse(encodeEvent("input_audio_buffer.append", { delta: "AAA=" }));
    const b = JSON.parse(encodeEvent("input_audio_buffer.complete"));
    assert.equal(a.event_type, "input_audio_buffer.append");
    assert.deepEqual(a.data, { delta: "AAA=" });
    assert.equal(b.data, undefined);
    assert.ok(typeof a.id === "string" && a.id.length > 0);
    assert.notEqual(a.id, b.id);
  });

  test("chat.update carries the user, formats and push-to-talk turn detection; no empty conversation_id", () => {
    const data = buildChatUpdate({ userId: "driver", input: pcm16k, output: pcm24k, outputFrameMs: 40, speechRate: 10, replyPace: 0, turnDetection: { type: "client_interrupt" } });
    assert.deepEqual(data.input_audio, { format: "pcm", codec: "pcm", sample_rate: 16000, channel: 1, bit_depth: 16 });
    assert.equal(data.output_audio?.codec, "pcm");
    assert.deepEqual(data.output_audio?.pcm_config, { sample_rate: 24000, frame_size_ms: 40 });
    assert.equal(data.output_audio?.speech_rate, 10);
    assert.deepEqual(data.turn_detection, { type: "client_interrupt" });
    assert.equal(data.chat_config?.user_id, "driver");
    assert.ok(!("conversation_id" in (data.chat_config ?? {})));
    const free = buildChatUpdate({
      userId: "u",
      input: { codec: "opus", sampleRate: 16000, channels: 1 },
      output: { codec: "opus", sampleRate: 24000, channels: 1 },
      outputFrameMs: 60,
      speechRate: 0,
      replyPace: 0,
      turnDetection: { type: "server_vad", prefixPaddingMs: 300, silenceDurationMs: 700 },
    });
    assert.deepEqual(free.turn_detection, { type: "server_vad", prefix_padding_ms: 300, silence_duration_ms: 700 });
    assert.deepEqual(free.input_audio, { format: "pcm", codec: "opus", sample_rate: 16000, channel: 1, bit_depth: 16 });
    assert.deepEqual(free.output_audio?.opus_config, { sample_rate: 24000, frame_size_ms: 60 });
    assert.equal(free.output_audio?.pcm_config, undefined);
    const resumed = buildChatUpdate({ userId: "u", conversationId: "c9", input: pcm16k, output: pcm24k, outputFrameMs: 40, speechRate: 0, replyPace: 0, turnDetection: { type: "client_interrupt" } });
    assert.equal(resumed.chat_config?.conversation_id, "c9");
  });

  test("limit_config paces the reply a little faster than it plays (as the vendor's hardware examples); Opus bitrate and CBR when set", () => {
    const pcm = buildChatUpdate({ userId: "u", input: pcm16k, output: pcm24k, outputFrameMs: 40, speechRate: 0, replyPace: 1.1, turnDetection: { type: "client_interrupt" } });
    // 25 frames of 40 ms play in a second; 1.1 × 25 = 27.5 → 28.
    assert.deepEqual(pcm.output_audio?.pcm_config, { sample_rate: 24000, frame_size_ms: 40, limit_config: { period: 1, max_frame_num: 28 } });
    const opus = buildChatUpdate({
      userId: "u",
      input: pcm16k,
      output: { codec: "opus", sampleRate: 24000, channels: 1 },
      outputFrameMs: 60,
      speechRate: 0,
      replyPace: 1.02,
      opusBitrate: 32000,
      opusCbr: true,
      turnDetection: { type: "client_interrupt" },
    });
    // The vendor's Opus example: 60 ms frames, 17 a second.
    assert.deepEqual(opus.output_audio?.opus_config, { sample_rate: 24000, frame_size_ms: 60, bitrate: 32000, use_cbr: true, limit_config: { period: 1, max_frame_num: 17 } });
    assert.ok(opus.event_subscriptions?.includes("conversation.cleared"));
  });

  test("chat.update subscribes to the events the device acts on, not to the text streamed token by token", () => {
    const data = buildChatUpdate({ userId: "u", input: pcm16k, output: pcm24k, outputFrameMs: 40, speechRate: 0, replyPace: 0, turnDetection: { type: "client_interrupt" } });
    const subs = new Set(data.event_subscriptions);
    const acted = [S.chatUpdated, S.error, S.audioDelta, S.chatCreatedConv, S.chatCompleted, S.chatFailed, S.chatCanceled, S.chatRequiresAction, S.speechStarted, S.speechStopped, S.bufferCompleted, S.transcriptCompleted, S.messageCompleted];
    for (const e of acted) assert.ok(subs.has(e), `${e} is not subscribed`);
    for (const e of [S.messageDelta, S.transcriptUpdate, S.sentenceStart, S.chatInProgress]) assert.ok(!subs.has(e), `${e} is subscribed`);
    const known = new Set<string>(Object.values(S));
    for (const e of subs) assert.ok(known.has(e), `${e} is not a server event`);
  });

  test("chat.updated is read back, with what we asked for where it is silent or nonsense", () => {
    const asked = { input: pcm16k, output: pcm24k };
    assert.deepEqual(formatsFromChatUpdated({ output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000 } } }, asked).output.sampleRate, 16000);
    assert.deepEqual(formatsFromChatUpdated(undefined, asked), asked);
    assert.deepEqual(formatsFromChatUpdated({ input_audio: { codec: "mp3", sample_rate: -1 } }, asked), asked);
  });

  test("decodeEvent rejects what is not one JSON event object, without throwing", () => {
    for (const [raw, binary, why] of [
      ["not json", false, /not JSON/],
      ["[1]", false, /not a JSON object/],
      ["null", false, /not a JSON object/],
      ['{"id":"x"}', false, /missing event_type/],
      ['{"event_type":"x","data":"s"}', false, /data is not an object/],
      ['{"event_type":"x","data":[1]}', false, /data is not an object/],
      ['{"event_type":"x"}', true, /binary frame/],
    ] as const) {
      const d = decodeEvent(raw, binary);
      assert.equal(d.ok, false, raw);
      if (!d.ok) assert.match(d.reason, why);
    }
    const ok = decodeEvent(Buffer.from('{"event_type":"chat.created","detail":{"logid":"L"}}'), false);
    assert.ok(ok.ok && ok.event.detail?.logid === "L");
  });

  test("strict base64: garbage is refused, not silently skipped", () => {
    assert.deepEqual(decodeBase64("AAEC"), Buffer.from([0, 1, 2]));
    assert.equal(decodeBase64("!!!!"), null);
    assert.equal(decodeBase64("AAE"), null);
    assert.equal(decodeBase64(12), null);
    assert.deepEqual(decodeBase64(""), Buffer.alloc(0));
  });

  test("error codes: auth codes are recognised and every common code has a fix", () => {
    assert.equal(linkHoldingProblem(4100), "auth");
    assert.equal(linkHoldingProblem("4101"), "auth");
    assert.equal(linkHoldingProblem(4008), "quota");
    assert.equal(linkHoldingProblem(4011), "quota");
    assert.equal(linkHoldingProblem(4000), null);
    assert.match(errorHint(4015)!, /publish/i);
    assert.match(errorHint(4100)!, /token/);
    assert.equal(errorHint(1234), undefined);
  });
});

describe("Coze server events → normalized events", () => {
  test("a reply's events map to reply.started / audio / text / done with the chat id", () => {
    const r: ReplyTracker = { current: null };
    assert.deepEqual(translate(ev("conversation.chat.created", { id: "chat1", conversation_id: "conv1" }), r), {
      kind: "events",
      events: [{ type: "reply.started", replyId: "chat1", conversationId: "conv1" }],
    });
    const audio = translate(ev("conversation.audio.delta", { content: Buffer.from([1, 2, 3, 4]).toString("base64"), chat_id: "chat1" }), r);
    assert.deepEqual(audio, { kind: "events", events: [{ type: "reply.audio", replyId: "chat1", audio: Buffer.from([1, 2, 3, 4]) }] });
    const text = translate(ev("conversation.message.completed", { type: "answer", content_type: "text", content: "hi", chat_id: "chat1" }), r);
    assert.deepEqual(text, { kind: "events", events: [{ type: "reply.text", replyId: "chat1", text: "hi", final: true }] });
    assert.equal(translate(ev("conversation.message.delta", { type: "follow_up", content: "x" }), r).kind, "ignored");
    assert.deepEqual(translate(ev("conversation.chat.completed", { id: "chat1" }), r), {
      kind: "events",
      events: [{ type: "reply.done", replyId: "chat1", status: "completed" }],
    });
    assert.equal(r.current, null);
  });

  test("audio comes from data.content, not data.delta; audio outside a reply is invalid", () => {
    const r: ReplyTracker = { current: "c" };
    assert.equal(translate(ev("conversation.audio.delta", { delta: "AAAA" }), r).kind, "invalid");
    assert.equal(translate(ev("conversation.audio.delta", { content: "AAAA" }), { current: null }).kind, "invalid");
  });

  test("failed carries the error and its fix; canceled ends the current reply", () => {
    const r: ReplyTracker = { current: "c1" };
    const failed = translate(ev("conversation.chat.failed", { id: "c1", last_error: { code: 4015, msg: "not published" } }), r);
    assert.ok(failed.kind === "events");
    const e = failed.events[0]!;
    assert.ok(e.type === "reply.done" && e.status === "failed" && e.error?.code === 4015 && /publish/i.test(e.error.hint ?? ""));
    const r2: ReplyTracker = { current: "c2" };
    assert.deepEqual(translate(ev("conversation.chat.canceled", { code: 2 }), r2), {
      kind: "events",
      events: [{ type: "reply.done", replyId: "c2", status: "canceled" }],
    });
  });

  test("input and transcript events; unknown events are ignored, not errors", () => {
    const r: ReplyTracker = { current: null };
    assert.deepEqual(translate(ev("input_audio_buffer.completed"), r), { kind: "events", events: [{ type: "input.committed" }] });
    assert.deepEqual(translate(ev("conversation.audio_transcript.completed", { content: "hello" }), r), {
      kind: "events",
      events: [{ type: "user.transcript", text: "hello", final: true }],
    });
    assert.equal(translate(ev("conversation.audio_transcript.update", {}), r).kind, "invalid");
    assert.equal(translate(ev("something.new"), r).kind, "ignored");
    assert.deepEqual(translate(ev("error", { code: 4009, msg: "busy" }), r), {
      kind: "events",
      events: [{ type: "agent.error", error: { code: 4009, message: "busy", hint: errorHint(4009)! } }],
    });
  });
});
