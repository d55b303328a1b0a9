/**
 * JSON from a server that is parsed a second time (a tool call's arguments are
 * JSON text inside a JSON event): bounded in size and nesting before JSON.parse,
 * because a 100 000-deep value parses fine and then overflows the stack of whatever
 * walks it (zod, JSON.stringify, a logger).
 */

export interface JsonBounds {
  maxBytes: number;
  maxDepth: number;
}

export const TOOL_ARGUMENT_BOUNDS: JsonBounds = { maxBytes: 64 * 1024, maxDepth: 32 };

export type BoundedJson = { ok: true; value: unknown } | { ok: false; reason: string };

export function parseBoundedJson(text: string, bounds: JsonBounds): BoundedJson {
  if (text.length > bounds.maxBytes) return { ok: false, reason: `longer than ${bounds.maxBytes} characters` };
  const depth = nestingDepth(text);
  if (depth > bounds.maxDepth) return { ok: false, reason: `nested deeper than ${bounds.maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` };
  }
}

/** The deepest bracket nesting outside strings: one pass, no recursion. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) max = Math.max(max, ++depth);
    else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return max;
}
