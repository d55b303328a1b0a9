/**
 * Type-confusion cases generated from a protocol's server-event schemas: for every
 * event and every field the schema declares (nested ones too), the event with that
 * field replaced by each JSON type it is not — including an object whose toString
 * is not a function, which kills any code that puts the field in a template string.
 */
import { z } from "zod";

export const WRONG_VALUES: readonly unknown[] = [null, true, 7, -1.5, "text", [], [1, "a"], {}, { toString: 0, valueOf: 0 }];

/** Every field path a schema declares, down through objects, optionals, nullables and arrays (as [0]). */
export function fieldPaths(schema: z.ZodType, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
      return fieldPaths(def.innerType as z.ZodType, prefix);
    case "object": {
      const shape = def.shape as Record<string, z.ZodType>;
      return Object.entries(shape).flatMap(([k, v]) => [[...prefix, k], ...fieldPaths(v, [...prefix, k])]);
    }
    case "array":
      return fieldPaths(def.element as z.ZodType, [...prefix, 0]);
    default:
      return [];
  }
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  path.slice(0, -1).forEach((k, i) => {
    if (typeof node[k] !== "object" || node[k] === null) node[k] = typeof path[i + 1] === "number" ? [] : {};
    node = node[k] as Record<string | number, unknown>;
  });
  node[path.at(-1)!] = value;
  return copy;
}

/**
 * The mutated copies of `example` (the part the schema checks): each declared field
 * in turn set to each wrong value, plus the whole part replaced by each.
 */
export function confusions(schema: z.ZodType, example: Record<string, unknown>): unknown[] {
  const out: unknown[] = WRONG_VALUES.map((v) => v);
  for (const path of fieldPaths(schema)) for (const v of WRONG_VALUES) out.push(setAt(example, path, v));
  return out;
}

/** JSON text of a value that may hold a non-callable toString (JSON.stringify does not call it). */
export function json(v: unknown): string {
  return JSON.stringify(v);
}

/**
 * Every event of a protocol with each field confused, as frames: `schemas` by event type,
 * an `examples` entry per type (a missing one fails, so a new event is never left out),
 * `frame` puts a body on the wire.
 */
export function confusionFrames(
  schemas: Record<string, z.ZodType>,
  examples: Record<string, Record<string, unknown>>,
  frame: (type: string, body: unknown) => string,
): string[] {
  const frames: string[] = [];
  for (const [type, schema] of Object.entries(schemas)) {
    const example = examples[type];
    if (!example) throw new Error(`no example for ${type}: add one so its fields are confused too`);
    for (const body of confusions(schema, example)) frames.push(frame(type, body));
  }
  if (frames.length <= 300) throw new Error(`only ${frames.length} cases: are the schemas read?`);
  return frames;
}
