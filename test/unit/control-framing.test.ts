import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES, type DecodeResult } from "../../src/control/framing";

function header(length: number, magic = "ctrl"): Buffer {
  const h = Buffer.alloc(8);
  h.write(magic, 0, "latin1");
  h.writeUInt32BE(length, 4);
  return h;
}

function rawFrame(body: Buffer): Buffer {
  return Buffer.concat([header(body.length), body]);
}

function values(results: DecodeResult[]): unknown[] {
  return results.map((r) => {
    assert.ok(r.ok, `unexpected decode error: ${JSON.stringify(r)}`);
    return r.value;
  });
}

describe("control framing", () => {
  test("encodes the seed-004 layout: magic, big-endian length, UTF-8 JSON", () => {
    const frame = encodeFrame({ Command: "Status", Note: "é" });
    const body = Buffer.from(JSON.stringify({ Command: "Status", Note: "é" }), "utf8");
    assert.equal(frame.subarray(0, 4).toString("latin1"), "ctrl");
    assert.equal(frame.readUInt32BE(4), body.length);
    assert.deepEqual(frame.subarray(8), body);
  });

  test("round trips values", () => {
    const samples: unknown[] = [
      { Command: "Button", Name: "talk", Action: "down" },
      { Ok: true, Link: { State: "up", Rtt: 12.5 }, List: [1, "two", null] },
      { Text: "你好,世界 🎙" },
      {},
    ];
    for (const v of samples) {
      const d = new FrameDecoder();
      assert.deepEqual(values(d.push(encodeFrame(v))), [v]);
      assert.equal(d.pending, 0);
    }
  });

  test("reassembles a two-frame stream split at every byte offset", () => {
    const a = { Command: "Button", Name: "talk", Action: "down" };
    const b = { Command: "Status" };
    const stream = Buffer.concat([encodeFrame(a), encodeFrame(b)]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      assert.deepEqual(values(out), [a, b], `cut at ${cut}`);
      assert.equal(d.pending, 0, `cut at ${cut}`);
    }
  });

  test("reassembles a stream fed one byte at a time", () => {
    const a = { Command: "Status" };
    const b = { Text: "ünïcødé" };
    const stream = Buffer.concat([encodeFrame(a), encodeFrame(b)]);
    const d = new FrameDecoder();
    const out: DecodeResult[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)));
    assert.deepEqual(values(out), [a, b]);
  });

  test("yields every frame in one chunk", () => {
    const frames = [{ n: 1 }, { n: 2 }, { n: 3 }, {}];
    const d = new FrameDecoder();
    assert.deepEqual(values(d.push(Buffer.concat(frames.map((f) => encodeFrame(f))))), frames);
  });

  test("holds a truncated frame and reports the bytes pending", () => {
    const frame = encodeFrame({ Command: "Status" });
    const d = new FrameDecoder();
    assert.deepEqual(d.push(frame.subarray(0, 5)), []);
    assert.equal(d.pending, 5);
    assert.deepEqual(d.push(frame.subarray(5, frame.length - 1)), []);
    assert.equal(d.pending, frame.length - 1);
    assert.deepEqual(values(d.push(frame.subarray(frame.length - 1))), [{ Command: "Status" }]);
    assert.equal(d.pending, 0);
  });

  test("a length header above the limit is fatal and nothing is buffered", () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat([header(MAX_FRAME_BYTES + 1), Buffer.alloc(1000, 0x20)]));
    assert.equal(out.length, 1);
    const [r] = out;
    assert.ok(r && !r.ok && r.fatal);
    assert.match(r.error, /exceeds the 65536-byte limit/);
    assert.equal(d.pending, 0);
    // The stream can't be resynchronised: later bytes, even a valid frame, are discarded.
    assert.deepEqual(d.push(encodeFrame({ Command: "Status" })), []);
    assert.equal(d.pending, 0);
  });

  test("a body of exactly the limit is accepted", () => {
    const text = "x".repeat(MAX_FRAME_BYTES - 2);
    const frame = encodeFrame(text);
    assert.equal(frame.length, MAX_FRAME_BYTES + 8);
    assert.deepEqual(values(new FrameDecoder().push(frame)), [text]);
    assert.throws(() => encodeFrame("x".repeat(MAX_FRAME_BYTES - 1)), /limit is 65536/);
  });

  test("bad magic is fatal, detected before a full header arrives", () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.from("GET /", "latin1"));
    assert.equal(out.length, 1);
    const [r] = out;
    assert.ok(r && !r.ok && r.fatal);
    assert.match(r.error, /bad frame magic 0x47455420; expected "ctrl"/);
    assert.deepEqual(d.push(encodeFrame({})), []);
  });

  test("bad magic after good frames yields the good ones first", () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat([encodeFrame({ n: 1 }), header(2, "CTRL"), Buffer.from("{}")]));
    assert.equal(out.length, 2);
    assert.deepEqual(out[0], { ok: true, value: { n: 1 } });
    assert.ok(out[1] && !out[1].ok && out[1].fatal);
  });

  test("bad JSON is a non-fatal error and the stream stays in sync", () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat([rawFrame(Buffer.from("{not json")), encodeFrame({ after: true })]));
    assert.equal(out.length, 2);
    const [bad, good] = out;
    assert.ok(bad && !bad.ok && !bad.fatal);
    assert.match(bad.error, /not valid JSON/);
    assert.deepEqual(good, { ok: true, value: { after: true } });
  });

  test("a non-UTF-8 body is a non-fatal error", () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat([rawFrame(Buffer.from([0x22, 0xff, 0xfe, 0x22])), encodeFrame("ok")]));
    assert.equal(out.length, 2);
    const [bad, good] = out;
    assert.ok(bad && !bad.ok && !bad.fatal);
    assert.match(bad.error, /not valid UTF-8/);
    assert.deepEqual(good, { ok: true, value: "ok" });
  });

  test("an empty object decodes; an empty body is a non-fatal error", () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat([rawFrame(Buffer.from("{}")), header(0), encodeFrame({ n: 2 })]));
    assert.equal(out.length, 3);
    assert.deepEqual(out[0], { ok: true, value: {} });
    assert.ok(out[1] && !out[1].ok && !out[1].fatal);
    assert.match(out[1].error, /empty/);
    assert.deepEqual(out[2], { ok: true, value: { n: 2 } });
  });

  test("encodeFrame refuses values JSON cannot represent", () => {
    assert.throws(() => encodeFrame(undefined), /cannot encode undefined/);
  });
});
