import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createEncoder } from "../../src/codec/registry";
import { startEmulator, type Emulator } from "../../src/emulator/server";
import { FAST_PCM, TestClient, tone } from "./emulator-client";

/** One bad client message; `setup`/`restore` are valid chat.update patches around it. */
interface Case {
  name: string;
  /** The offending message (raw text, or a Buffer sent as a binary frame); `prepare` runs first. */
  bad: string | Buffer;
  prepare?: (c: TestClient) => void;
  setup?: Record<string, unknown>;
  restore?: Record<string, unknown>;
  code: number;
  msg: RegExp;
}

const ev = (event_type: string, data?: unknown, id: string | null = "c-1"): string =>
  JSON.stringify({ ...(id === null ? {} : { id }), event_type, ...(data === undefined ? {} : { data }) });
const update = (data: Record<string, unknown>): string => ev("chat.update", data);
const pcmIn = (over: Record<string, unknown>): Record<string, unknown> => ({ input_audio: { ...FAST_PCM.input_audio, ...over } });
const pcmOut = (over: Record<string, unknown>): Record<string, unknown> => ({
  output_audio: { codec: "pcm", pcm_config: { ...FAST_PCM.output_audio.pcm_config, ...over } },
});
const append = (delta: unknown): string => ev("input_audio_buffer.append", delta === undefined ? {} : { delta });

const CASES: Case[] = [
  { name: "not JSON", bad: "hello{", code: 4000, msg: /not JSON/ },
  { name: "a JSON array", bad: "[1,2]", code: 4000, msg: /not a JSON object/ },
  { name: "a binary frame", bad: Buffer.from([0x7b, 0x00, 0xff]), code: 4000, msg: /binary frame/ },
  { name: "no event_type", bad: JSON.stringify({ id: "x" }), code: 4000, msg: /missing event_type/ },
  { name: "missing id", bad: ev("input_audio_buffer.clear", undefined, null), code: 4000, msg: /missing id/ },
  { name: "unknown event_type", bad: ev("conversation.chat.camplete"), code: 4000, msg: /unknown event_type "conversation\.chat\.camplete"/ },
  { name: "data not an object", bad: ev("chat.update", [1]), code: 4000, msg: /data is not an object/ },
  { name: "input_audio not an object", bad: update({ input_audio: "pcm" }), code: 4000, msg: /input_audio must be an object/ },
  { name: "input codec", bad: update(pcmIn({ codec: "mp3" })), code: 4000, msg: /input_audio\.codec must be one of/ },
  { name: "input format", bad: update(pcmIn({ format: "wav" })), code: 4000, msg: /input_audio\.format/ },
  { name: "input sample_rate", bad: update(pcmIn({ sample_rate: 12345 })), code: 4000, msg: /input_audio\.sample_rate must be one of .*got 12345/ },
  { name: "input channel", bad: update(pcmIn({ channel: 2 })), code: 4000, msg: /input_audio\.channel must be 1/ },
  { name: "input bit_depth", bad: update(pcmIn({ bit_depth: 8 })), code: 4000, msg: /input_audio\.bit_depth must be 16/ },
  { name: "input g711 not at 8000", bad: update(pcmIn({ codec: "g711u", sample_rate: 16000 })), code: 4000, msg: /must be 8000 for g711u/ },
  { name: "output codec", bad: update({ output_audio: { codec: "aac" } }), code: 4000, msg: /output_audio\.codec must be one of/ },
  { name: "output sample_rate", bad: update(pcmOut({ sample_rate: 1000 })), code: 4000, msg: /output_audio\.pcm_config\.sample_rate/ },
  {
    name: "output g711a not at 8000",
    bad: update({ output_audio: { codec: "g711a", pcm_config: { sample_rate: 16000 } } }),
    code: 4000,
    msg: /pcm_config\.sample_rate must be 8000 for g711a/,
  },
  { name: "frame_size_ms 0", bad: update(pcmOut({ frame_size_ms: 0 })), code: 4000, msg: /frame_size_ms/ },
  { name: "limit max_frame_num 0", bad: update(pcmOut({ limit_config: { period: 1, max_frame_num: 0 } })), code: 4000, msg: /max_frame_num/ },
  { name: "limit period negative", bad: update(pcmOut({ limit_config: { period: -1, max_frame_num: 3 } })), code: 4000, msg: /period/ },
  { name: "speech_rate too high", bad: update({ output_audio: { speech_rate: 101 } }), code: 4000, msg: /speech_rate must be a number from -50 to 100/ },
  { name: "speech_rate too low", bad: update({ output_audio: { speech_rate: -51 } }), code: 4000, msg: /speech_rate/ },
  { name: "turn_detection.type", bad: update({ turn_detection: { type: "vad" } }), code: 4000, msg: /turn_detection\.type must be one of/ },
  { name: "empty conversation_id", bad: update({ chat_config: { conversation_id: "" } }), code: 4000, msg: /conversation_id must be a non-empty string/ },
  { name: "event_subscriptions not a list", bad: update({ event_subscriptions: "error" }), code: 4000, msg: /event_subscriptions/ },
  { name: "append without delta", bad: append(undefined), code: 4000, msg: /data\.delta must be a base64 string/ },
  { name: "append with a numeric delta", bad: append(42), code: 4000, msg: /data\.delta must be a base64 string/ },
  { name: "append with bad base64", bad: append("abc"), code: 4000, msg: /not valid base64/ },
  { name: "append with base64 garbage", bad: append("@@@@"), code: 4000, msg: /not valid base64/ },
  { name: "append with a half sample", bad: append(Buffer.from([1, 2, 3]).toString("base64")), code: 4000, msg: /3 bytes is not a whole number of 16-bit/ },
  { name: "complete with an empty buffer", bad: ev("input_audio_buffer.complete"), code: 4000, msg: /buffer is empty/ },
  { name: "an event the emulator does not implement", bad: ev("input_text.generate_audio", { content: "hi" }), code: 4000, msg: /not implemented in the emulator/ },
  { name: "message.create with an unknown role", bad: ev("conversation.message.create", { role: "system", content_type: "text", content: "hi" }), code: 4000, msg: /data\.role must be "user" or "assistant"/ },
  { name: "message.create with empty content", bad: ev("conversation.message.create", { role: "user", content_type: "text", content: "" }), code: 4000, msg: /data\.content must be a non-empty string/ },
  { name: "meta_data with a number", bad: update({ chat_config: { meta_data: { a: 1 } } }), code: 4000, msg: /meta_data must be an object of string values/ },
  { name: "need_play_prologue a string", bad: update({ need_play_prologue: "yes" }), code: 4000, msg: /need_play_prologue must be true or false/ },
  {
    name: "opus input: a corrupt packet",
    setup: pcmIn({ codec: "opus" }),
    // Framing code 2 with a first frame longer than the whole packet.
    bad: append(Buffer.from([0x0a, 0xfb, 1, 2, 3]).toString("base64")),
    restore: pcmIn({ codec: "pcm" }),
    code: 4000,
    msg: /append \(opus\): an Opus packet of 5 bytes does not decode .*one raw Opus packet/,
  },
  {
    name: "opus input: an empty packet",
    setup: pcmIn({ codec: "opus" }),
    bad: append(""),
    restore: pcmIn({ codec: "pcm" }),
    code: 4000,
    msg: /an empty Opus packet/,
  },
  {
    name: "opus input: a 10 ms packet",
    setup: pcmIn({ codec: "opus" }),
    bad: append(createEncoder({ codec: "opus", sampleRate: 16000, channels: 1 }, 10).encode(tone(16000, 0.01)).toString("base64")),
    restore: pcmIn({ codec: "pcm" }),
    code: 4000,
    msg: /an Opus packet of 10 ms: send 20 or 40 ms frames/,
  },
  { name: "input opus at 44100", bad: update(pcmIn({ codec: "opus", sample_rate: 44100 })), code: 4000, msg: /input_audio\.sample_rate must be one of 8000, 12000, 16000, 24000, 48000 for opus; got 44100/ },
  {
    name: "output opus at 44100",
    bad: update({ output_audio: { codec: "opus", opus_config: { sample_rate: 44100 } } }),
    code: 4000,
    msg: /opus_config\.sample_rate must be one of .* for opus; got 44100/,
  },
  {
    name: "output opus frame of 30 ms",
    bad: update({ output_audio: { codec: "opus", opus_config: { frame_size_ms: 30 } } }),
    code: 4000,
    msg: /opus_config\.frame_size_ms must be an Opus frame length: one of 10, 20, 40, 60, 80, 100, 120; got 30/,
  },
  { name: "output opus bitrate", bad: update({ output_audio: { codec: "opus", opus_config: { bitrate: 1000 } } }), code: 4000, msg: /opus_config\.bitrate/ },
  { name: "output opus use_cbr", bad: update({ output_audio: { codec: "opus", opus_config: { use_cbr: "yes" } } }), code: 4000, msg: /opus_config\.use_cbr/ },
  {
    name: "opus limit_config",
    bad: update({ output_audio: { codec: "opus", opus_config: { limit_config: { period: 1, max_frame_num: 1.5 } } } }),
    code: 4000,
    msg: /opus_config\.limit_config\.max_frame_num/,
  },
  { name: "opus_config not an object", bad: update({ output_audio: { codec: "opus", opus_config: 60 } }), code: 4000, msg: /opus_config must be an object/ },
  { name: "pcm_config not an object", bad: update({ output_audio: { codec: "pcm", pcm_config: "fast" } }), code: 4000, msg: /pcm_config must be an object/ },
  { name: "prefix_padding_ms negative", bad: update({ turn_detection: { type: "server_vad", prefix_padding_ms: -1 } }), code: 4000, msg: /prefix_padding_ms/ },
];

describe("emulator validation: error event, connection kept, next turn works", () => {
  let emu: Emulator;
  let c: TestClient;
  let index: number;
  before(async () => {
    emu = await startEmulator();
    const connected = once(emu.events, "connection");
    c = await TestClient.ready(emu.url);
    [index] = (await connected) as [number];
  });
  after(async () => {
    await c.close();
    await emu.close();
  });

  for (const k of CASES) {
    test(k.name, async () => {
      if (k.setup) {
        c.send("chat.update", k.setup);
        await c.next("chat.updated");
      }
      const configBefore = structuredClone(emu.sessions()[index]?.effectiveConfig);
      k.prepare?.(c);
      c.sendRaw(k.bad, Buffer.isBuffer(k.bad));
      const err = await c.next("error");
      assert.equal(err.data?.code, k.code);
      assert.match(String(err.data?.msg), k.msg);
      assert.equal(err.detail?.origin_message, k.bad.toString());
      assert.ok(err.detail?.logid);
      assert.deepEqual(emu.sessions()[index]?.effectiveConfig, configBefore, "a rejected message changes no config");
      if (k.restore) {
        c.send("chat.update", k.restore);
        await c.next("chat.updated");
      }
      assert.equal(emu.sessions()[index]?.open, true);
      const pcm = tone(16000, 0.1);
      assert.ok((await c.turn(pcm)).audio.equals(pcm), "a valid turn after the error echoes exactly its own audio");
    });
  }
});

describe("emulator validation: session state", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(() => emu.close());

  test("nothing but chat.update before the first chat.update; a rejected first update leaves the session unconfigured", async () => {
    const c = await TestClient.connect(emu.url);
    await c.next("chat.created");
    const appendRaw = append(tone(16000, 0.02).toString("base64"));
    c.sendRaw(appendRaw);
    const e1 = await c.next("error");
    assert.equal(e1.data?.code, 4000);
    assert.match(String(e1.data?.msg), /send chat\.update first/);
    assert.equal(e1.detail?.origin_message, appendRaw);
    c.send("input_audio_buffer.complete");
    assert.match(String((await c.next("error")).data?.msg), /send chat\.update first/);

    c.send("chat.update", pcmIn({ channel: 2 }));
    assert.match(String((await c.next("error")).data?.msg), /channel/);
    c.send("input_audio_buffer.clear");
    assert.match(String((await c.next("error")).data?.msg), /send chat\.update first/);

    c.send("chat.update", FAST_PCM);
    await c.next("chat.updated");
    const pcm = tone(16000, 0.1);
    assert.ok((await c.turn(pcm)).audio.equals(pcm));
    await c.close();
  });

  test("origin_message is cut to 1 KiB without splitting a character", async () => {
    const c = await TestClient.ready(emu.url);
    const raw = ev("no.such.event", { text: "é".repeat(3000) });
    c.sendRaw(raw);
    const origin = String((await c.next("error")).detail?.origin_message);
    assert.ok(Buffer.byteLength(origin) <= 1024 && Buffer.byteLength(origin) >= 1022, `${Buffer.byteLength(origin)} bytes`);
    assert.ok(raw.startsWith(origin));
    assert.ok(!origin.includes("\uFFFD"));
    await c.close();
  });
});
