/**
 * The field types every protocol's server events are checked with before a
 * translator reads them: each field its translator reads is declared with its JSON
 * type and a size bound, so a number where a string belongs, an object with a
 * hostile `toString`, or a megabyte-long id is an invalid event (logged, dropped)
 * and never reaches code that would trip over it. Fields a translator does not read
 * are not declared: servers add fields, and those must not make an event invalid.
 */
import { z } from "zod";

/** Ids (chat, response, item, call, event): short opaque strings. */
export const MAX_ID = 512;
/** Text shown or logged (transcripts, captions, error messages). */
export const MAX_TEXT = 256 * 1024;

export const id = () => z.string().max(MAX_ID);
export const text = () => z.string().max(MAX_TEXT);
/** Audio as base64: bounded by the link's frame limit (maxPayload), not here. */
export const base64 = () => z.string();
/** An error code: servers send numbers (Coze) or strings (OpenAI). */
export const code = () => z.union([z.number(), z.string().max(MAX_ID)]);
/** A JSON object with the given fields read; others pass unchecked. */
export const fields = <T extends z.core.$ZodLooseShape>(shape: T) => z.looseObject(shape);

export type FieldCheck = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** Checks `value` against `schema`; the reason names the first wrong field as a path (data.last_error.code). */
export function checkFields(schema: z.ZodType, value: unknown, where: string): FieldCheck {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data as Record<string, unknown> };
  const issue = r.error.issues[0]!;
  const at = [where, ...issue.path.map(String)].filter(Boolean).join(".");
  return { ok: false, reason: `${at}: ${describeIssue(issue, value)}` };
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  if (issue.code === "invalid_type") return `expected ${issue.expected}, got ${jsonType(valueAt(root, issue.path))}`;
  if (issue.code === "too_big") return `longer than ${String(issue.maximum)}`;
  if (issue.code === "invalid_union") return "expected a number or a string";
  return issue.message;
}

const primed = new WeakSet<object>();

/**
 * Runs every check in `schemas` once, now: zod compiles an object schema into a function
 * (`new Function`) at its first parse, and a protocol's event checks compiled that way cost
 * 4-5 ms on this VM, all of it falling on the first reply's first audio after a start (its
 * events are the first of their kinds to arrive). A backend calls this when it is created.
 * Each map once per process; the samples reach every object nested in a check.
 */
export function primeChecks(schemas: Record<string, z.ZodType>): void {
  if (primed.has(schemas)) return;
  primed.add(schemas);
  for (const schema of Object.values(schemas)) schema.safeParse(sampleOf(schema, 0) ?? {});
}

/** A value with every object field of `schema` present (as such a sample), its other fields left out. */
function sampleOf(schema: z.core.$ZodType, depth: number): unknown {
  if (depth > 16) return undefined;
  const def = schema._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; options?: z.core.$ZodType[] };
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
      return def.innerType ? sampleOf(def.innerType, depth + 1) : undefined;
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(def.shape ?? {})) {
        const v = sampleOf(field, depth + 1);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    case "array": {
      const v = def.element ? sampleOf(def.element, depth + 1) : undefined;
      return v === undefined ? undefined : [v];
    }
    case "union":
      for (const option of def.options ?? []) {
        const v = sampleOf(option, depth + 1);
        if (v !== undefined) return v;
      }
      return undefined;
    default:
      return undefined;
  }
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v = root;
  for (const k of path) v = typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** The JSON type of a parsed value, as an error message names it. */
export function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v === undefined) return "nothing";
  return typeof v;
}
