/**
 * The framing both agent protocols share: one JSON object per WebSocket text
 * message. Each protocol checks its own fields on top.
 */

export type JsonFrame = { ok: true; fields: Record<string, unknown> } | { ok: false; reason: string };

/** Parses one WebSocket message into a JSON object; never throws. */
export function decodeJsonFrame(raw: Buffer | string, isBinary: boolean): JsonFrame {
  if (isBinary) return { ok: false, reason: `binary frame of ${raw.length} bytes (the protocol sends JSON text only)` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, reason: "not a JSON object" };
  return { ok: true, fields: parsed as Record<string, unknown> };
}
