/** The tool runner: every call is answered with JSON text, whatever the agent sends or the handler does. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import pino from "pino";
import { z } from "zod";
import { silentLogger } from "../../src/log/logger";
import { defineTool, ToolRunner, type Tool } from "../../src/tools/runner";
import { FakeClock } from "../support/fake-clock";

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  args: z.strictObject({ a: z.number().describe("first"), b: z.number().min(0).max(10) }),
  run: (x) => ({ sum: x.a + x.b }),
});

function runner(tools: Tool[] = [add], opts: { clock?: FakeClock; timeoutMs?: number } = {}): ToolRunner {
  return new ToolRunner(tools, { log: silentLogger(), ...opts });
}

const error = (text: string): string => {
  const v = JSON.parse(text) as { error?: unknown };
  assert.equal(typeof v.error, "string", `expected an error answer, got ${text}`);
  return v.error as string;
};

describe("ToolRunner.run", () => {
  test("a valid call answers with the handler's result as JSON", async () => {
    assert.equal(await runner().run("add", '{"a": 2, "b": 3}'), '{"sum":5}');
  });

  test("an async handler is awaited; a handler with nothing to say answers ok", async () => {
    const r = runner([
      defineTool({ name: "later", description: "d", args: z.strictObject({}), run: async () => ({ done: 1 }) }),
      defineTool({ name: "quiet", description: "d", args: z.strictObject({}), run: () => undefined }),
    ]);
    assert.equal(await r.run("later", "{}"), '{"done":1}');
    assert.equal(await r.run("quiet", "{}"), '{"ok":true}');
  });

  test("no arguments at all count as an empty object", async () => {
    const r = runner([defineTool({ name: "ping", description: "d", args: z.strictObject({}), run: () => "pong" })]);
    assert.equal(await r.run("ping", ""), '"pong"');
  });

  test("an unknown tool is an error that lists the known ones", async () => {
    const e = error(await runner([add, defineTool({ name: "sub", description: "d", args: z.strictObject({}), run: () => 0 })]).run("mul", "{}"));
    assert.match(e, /unknown tool 'mul'/);
    assert.match(e, /add, sub/);
    assert.match(error(await runner([]).run("mul", "{}")), /no tools/);
  });

  test("arguments that are not JSON are an error, not an exception", async () => {
    assert.match(error(await runner().run("add", "{a: 2")), /arguments of add are not JSON/);
  });

  test("schema failures name each field and why", async () => {
    const e = error(await runner().run("add", '{"a": "two", "b": 11, "c": 1}'));
    assert.match(e, /^invalid arguments for add: /);
    assert.match(e, /a: .*expected number, received string/);
    assert.match(e, /b: .*<=10/);
    assert.match(e, /arguments: Unrecognized key: "c"/);
    assert.match(error(await runner().run("add", "[1, 2]")), /arguments: .*expected object/);
  });

  test("a handler that throws: its message goes back, without a stack", async () => {
    const r = runner([
      defineTool({ name: "boom", description: "d", args: z.strictObject({}), run: () => { throw new Error("relay stuck"); } }),
      defineTool({ name: "reject", description: "d", args: z.strictObject({}), run: async () => { throw new Error("no card"); } }),
    ]);
    const e = error(await r.run("boom", "{}"));
    assert.equal(e, "boom failed: relay stuck");
    assert.equal(error(await r.run("reject", "{}")), "reject failed: no card");
  });

  test("a result that is not JSON is an error answer", async () => {
    const r = runner([defineTool({ name: "big", description: "d", args: z.strictObject({}), run: () => ({ n: 1n }) })]);
    assert.match(error(await r.run("big", "{}")), /big returned a result that is not JSON/);
  });

  test("a handler that takes too long is answered with a timeout; a late result changes nothing", async () => {
    const clock = new FakeClock();
    let finish: (v: unknown) => void = () => undefined;
    const r = runner([defineTool({ name: "slow", description: "d", args: z.strictObject({}), run: () => new Promise((resolve) => (finish = resolve)) })], { clock, timeoutMs: 5000 });
    const answer = r.run("slow", "{}");
    // Let the handler start (it runs a microtask later), then move past the limit.
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(4999);
    let settled = false;
    void answer.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, "answered before the timeout");
    clock.advance(1);
    assert.equal(error(await answer), "slow did not finish within 5000 ms");
    finish({ late: true });
    assert.equal(clock.pending, 0);
  });

  test("a call that finishes in time leaves no timer behind", async () => {
    const clock = new FakeClock();
    await runner([add], { clock }).run("add", '{"a":1,"b":1}');
    assert.equal(clock.pending, 0);
  });

  test("each call is logged at info with name, arguments, size and time", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
    const r = new ToolRunner([add], { log: pino({ level: "info" }, sink) });
    await r.run("add", '{"a":1,"b":2}');
    await r.run("nope", "{}");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.tool, "add");
    assert.equal(lines[0]!.arguments, '{"a":1,"b":2}');
    assert.equal(lines[0]!.bytes, '{"sum":3}'.length);
    assert.equal(typeof lines[0]!.ms, "number");
    assert.equal(lines[0]!.level, 30);
    assert.match(String(lines[1]!.error), /unknown tool/);
  });

  test("two tools with one name are refused at start", () => {
    assert.throws(() => runner([add, add]), /two device tools are named 'add'/);
  });
});

describe("ToolRunner.specs", () => {
  test("each tool's parameters are a clean JSON Schema object: properties, required, no extras", () => {
    const [spec] = runner().specs();
    assert.deepEqual(spec, {
      name: "add",
      description: "Adds two numbers.",
      parameters: {
        type: "object",
        properties: { a: { type: "number", description: "first" }, b: { type: "number", minimum: 0, maximum: 10 } },
        required: ["a", "b"],
        additionalProperties: false,
      },
    });
  });

  test("a tool without arguments declares an empty object with an empty required list", () => {
    const r = runner([defineTool({ name: "ping", description: "d", args: z.strictObject({}), run: () => 1 })]);
    assert.deepEqual(r.specs()[0]!.parameters, { type: "object", properties: {}, required: [], additionalProperties: false });
  });

  test("a tool whose arguments are not an object is refused at start", () => {
    assert.throws(() => runner([defineTool({ name: "n", description: "d", args: z.number(), run: () => 1 })]), /must be an object schema/);
  });
});
