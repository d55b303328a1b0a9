/**
 * The device's tools in one registry. Each tool is declared once (name,
 * description, a zod schema of its arguments, a handler) and every backend
 * declares it from specs(). run() is the only way the agent's calls get in: it
 * always answers with JSON text — the result, or {"error": "..."} saying what was
 * wrong — and never throws, so a confused agent cannot take the daemon down.
 */
import { z } from "zod";
import { parseBoundedJson, TOOL_ARGUMENT_BOUNDS } from "../core/bounded-json";
import { realClock, type Clock } from "../core/clock";
import type { Logger } from "../log/logger";
import type { ToolSpec } from "../core/tool-spec";

export interface Tool<A = unknown> {
  name: string;
  /** What the agent reads to decide when to call the tool. */
  description: string;
  args: z.ZodType<A>;
  /** Returns a JSON-able result; a thrown Error's message goes back to the agent. */
  run(args: A): unknown;
}

/** Declares a tool with its handler's argument type taken from the schema. */
export function defineTool<S extends z.ZodType>(tool: { name: string; description: string; args: S; run(args: z.output<S>): unknown }): Tool {
  return tool as Tool;
}

export interface ToolRunnerOptions {
  log: Logger;
  clock?: Clock;
  /** A handler still running after this long is answered with a timeout error. */
  timeoutMs?: number;
}

export const DEFAULT_TOOL_TIMEOUT_MS = 5000;

/** Arguments longer than this are cut in the log: they are the agent's, and may be huge. */
const LOGGED_ARGS = 300;

export class ToolRunner {
  private readonly tools = new Map<string, Tool>();
  private readonly declared: ToolSpec[];

  constructor(
    tools: readonly Tool[],
    private readonly opts: ToolRunnerOptions,
  ) {
    for (const t of tools) {
      if (this.tools.has(t.name)) throw new Error(`two device tools are named '${t.name}'`);
      this.tools.set(t.name, t);
    }
    this.declared = tools.map((t) => ({ name: t.name, description: t.description, parameters: parametersOf(t) }));
  }

  /** The tools as every backend declares them to the agent. */
  specs(): ToolSpec[] {
    return this.declared.map((s) => ({ ...s }));
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  /** Runs one call from the agent; resolves with JSON text, never rejects. */
  async run(name: string, argumentsText: string): Promise<string> {
    const clock = this.opts.clock ?? realClock;
    const started = clock.now();
    const { text, error } = encode(name, await this.answer(name, argumentsText, clock));
    const ms = Math.round(clock.now() - started);
    const args = argumentsText.length > LOGGED_ARGS ? `${argumentsText.slice(0, LOGGED_ARGS)}…` : argumentsText;
    this.opts.log.info({ tool: name, arguments: args, bytes: text.length, ms, ...(error ? { error } : {}) }, `tool ${name}${error ? " failed" : ""}`);
    return text;
  }

  private async answer(name: string, argumentsText: string, clock: Clock): Promise<unknown> {
    const tool = this.tools.get(name);
    if (!tool) {
      const known = this.names;
      return { error: `unknown tool '${name}'; ${known.length ? `this device has: ${known.join(", ")}` : "this device offers no tools"}` };
    }
    // No arguments at all is how some agents call a tool that takes none.
    const json = argumentsText.trim() === "" ? { ok: true as const, value: {} } : parseBoundedJson(argumentsText, TOOL_ARGUMENT_BOUNDS);
    if (!json.ok) return { error: `the arguments of ${name} are ${json.reason.startsWith("not JSON") ? json.reason : `not usable: ${json.reason}`}; send a small JSON object` };
    const raw = json.value;
    const parsed = tool.args.safeParse(raw);
    if (!parsed.success) return { error: `invalid arguments for ${name}: ${describeIssues(parsed.error.issues)}` };

    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
    // Through a promise so that a handler that throws at once is caught like one that rejects.
    const work = Promise.resolve().then(() => tool.run(parsed.data));
    let timer: ReturnType<Clock["setTimeout"]> | undefined;
    const timeout = new Promise<unknown>((resolve) => {
      timer = clock.setTimeout(() => resolve({ error: `${name} did not finish within ${timeoutMs} ms` }), timeoutMs);
    });
    try {
      return await Promise.race([work.then((result) => result ?? { ok: true }), timeout]);
    } catch (err) {
      return { error: `${name} failed: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      clock.clearTimeout(timer);
      // A handler that finishes after its timeout has nobody to tell.
      work.catch(() => undefined);
    }
  }
}

/** The arguments' JSON Schema, tidied for every backend: an object with properties, required and no extras. */
function parametersOf(tool: Tool): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.args, { io: "input" }) as Record<string, unknown>;
  if (schema.type !== "object" || typeof schema.properties !== "object") {
    throw new Error(`the arguments of device tool '${tool.name}' must be an object schema (z.strictObject)`);
  }
  return { ...schema, required: schema.required ?? [], additionalProperties: false };
}

function describeIssues(issues: z.ZodError["issues"]): string {
  return issues.map((i) => `${i.path.length ? i.path.join(".") : "arguments"}: ${i.message}`).join("; ");
}

/** The answer as JSON text, and its error message if it is an error answer. */
function encode(name: string, answer: unknown): { text: string; error?: string } {
  let text: string | undefined;
  let why = "";
  try {
    text = JSON.stringify(answer);
  } catch (err) {
    why = ` (${(err as Error).message})`;
  }
  if (text === undefined) {
    const error = `${name} returned a result that is not JSON${why}`;
    return { text: JSON.stringify({ error }), error };
  }
  const error = (answer as { error?: unknown } | null)?.error;
  return typeof error === "string" ? { text, error } : { text };
}
