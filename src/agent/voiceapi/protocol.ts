/**
 * The voice API's frames (seed 002; names in names.ts). v1: one open text frame, then binary
 * linear16 audio both ways. v2: every message is JSON, one frame object or an array of them;
 * the server always sends arrays. Everything the server sends is checked here (type and size
 * of every field read); a malformed frame is reported and skipped, its neighbours kept.
 */
import { z } from "zod";
import { decodeBase64 } from "../coze/protocol";
import { primeChecks } from "../wire/fields";
import { FIELD, KIND } from "./names";

export type Version = "v1" | "v2";

/** What the client says when it opens (v1: the whole session; v2: the connection). */
export interface OpenSettings {
  apiKey: string;
  userId?: string;
  context?: Record<string, string>;
  overrides?: Record<string, unknown>;
  triggerBot?: boolean;
}

/** The open frame. v1 carries the user, context and bot trigger; v2 puts those in the user session. */
export function openFrame(version: Version, o: OpenSettings): Record<string, unknown> {
  const f: Record<string, unknown> = { [FIELD.kind.name]: KIND.open.name, [FIELD.apiKey.name]: o.apiKey };
  if (o.overrides && Object.keys(o.overrides).length > 0) f[FIELD.overrides.name] = o.overrides;
  if (version === "v1") {
    if (o.userId) f[FIELD.userId.name] = o.userId;
    if (o.context && Object.keys(o.context).length > 0) f[FIELD.context.name] = o.context;
    if (o.triggerBot) f[FIELD.triggerBot.name] = true;
  }
  return f;
}

export function sessionStartFrame(userId: string, o: { context?: Record<string, string>; triggerBot?: boolean }): Record<string, unknown> {
  const f: Record<string, unknown> = { [FIELD.kind.name]: KIND.sessionStart.name, [FIELD.userId.name]: userId };
  if (o.context && Object.keys(o.context).length > 0) f[FIELD.context.name] = o.context;
  if (o.triggerBot) f[FIELD.triggerBot.name] = true;
  return f;
}

export function sessionAudioFrame(userId: string, pcm: Buffer): Record<string, unknown> {
  return { [FIELD.kind.name]: KIND.sessionAudio.name, [FIELD.userId.name]: userId, [FIELD.audio.name]: pcm.toString("base64") };
}

export function sessionTextFrame(userId: string, text: string): Record<string, unknown> {
  return { [FIELD.kind.name]: KIND.sessionText.name, [FIELD.userId.name]: userId, [FIELD.text.name]: text };
}

export function sessionContextFrame(userId: string, context: Record<string, string> | undefined): Record<string, unknown> {
  return { [FIELD.kind.name]: KIND.sessionContext.name, [FIELD.userId.name]: userId, [FIELD.context.name]: context ?? {} };
}

export function sessionEndFrame(userId: string): Record<string, unknown> {
  return { [FIELD.kind.name]: KIND.sessionEnd.name, [FIELD.userId.name]: userId };
}

export function closeFrame(): Record<string, unknown> {
  return { [FIELD.kind.name]: KIND.close.name };
}

/** One server frame, checked. */
export type ServerFrame =
  | { kind: "opened" }
  | { kind: "closed" }
  | { kind: "error"; message: string }
  | { kind: "session.started" | "session.ended"; userId: string }
  | { kind: "bot.audio"; userId: string | null; pcm: Buffer }
  | { kind: "bot.attachment"; userId: string | null; attachment: unknown }
  /** A kind this client does not know: skipped, named in a warning. */
  | { kind: "unknown"; name: string };

/** A server message: its good frames, and what was wrong with the others. */
export interface Decoded {
  frames: ServerFrame[];
  problems: string[];
}

/** The longest error message kept (a server's message is shown to the user). */
const MAX_MESSAGE = 2000;
/** At most this many frames in one message. */
const MAX_FRAMES = 256;

const userId = z.string().min(1).max(256);
const SCHEMAS = {
  [KIND.error.name]: z.looseObject({ [FIELD.message.name]: z.string().max(100_000) }),
  [KIND.sessionStarted.name]: z.looseObject({ [FIELD.userId.name]: userId }),
  [KIND.sessionEnded.name]: z.looseObject({ [FIELD.userId.name]: userId }),
  [KIND.botAudio.name]: z.looseObject({ [FIELD.userId.name]: userId.optional(), [FIELD.audio.name]: z.string() }),
  [KIND.botAttachment.name]: z.looseObject({ [FIELD.userId.name]: userId.optional(), [FIELD.attachment.name]: z.unknown() }),
} as const;

/** Compiles the frames' checks now, not at the first reply (primeChecks). */
export function primeServerChecks(): void {
  primeChecks(SCHEMAS);
}

/** A v2 message: a JSON array of frames (or one frame object, which the client also accepts). */
export function decodeV2(data: Buffer, isBinary: boolean): Decoded {
  if (isBinary) return { frames: [], problems: [`a binary message of ${data.length} bytes (v2 sends JSON text)`] };
  let v: unknown;
  try {
    v = JSON.parse(data.toString("utf8"));
  } catch (err) {
    return { frames: [], problems: [`not JSON: ${(err as Error).message}`] };
  }
  const list = Array.isArray(v) ? v : [v];
  const out: Decoded = { frames: [], problems: [] };
  if (list.length > MAX_FRAMES) out.problems.push(`${list.length} frames in one message; the first ${MAX_FRAMES} are read`);
  for (const item of list.slice(0, MAX_FRAMES)) {
    const r = decodeFrame(item);
    if (typeof r === "string") out.problems.push(r);
    else out.frames.push(r);
  }
  return out;
}

/** One frame; a string says what is wrong with it. */
function decodeFrame(item: unknown): ServerFrame | string {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "a frame that is not a JSON object";
  const f = item as Record<string, unknown>;
  const kind = f[FIELD.kind.name];
  if (typeof kind !== "string" || kind === "") return `a frame without a string "${FIELD.kind.name}"`;
  const schema = SCHEMAS[kind];
  if (schema) {
    const r = schema.safeParse(f);
    if (!r.success) return `${kind}: ${r.error.issues.map((i) => `${i.path.join(".") || "frame"} ${i.message}`).join("; ")}`;
  }
  const user = typeof f[FIELD.userId.name] === "string" ? (f[FIELD.userId.name] as string) : null;
  switch (kind) {
    case KIND.opened.name:
      return { kind: "opened" };
    case KIND.closed.name:
      return { kind: "closed" };
    case KIND.error.name:
      return { kind: "error", message: String(f[FIELD.message.name]).slice(0, MAX_MESSAGE) };
    case KIND.sessionStarted.name:
      return { kind: "session.started", userId: user! };
    case KIND.sessionEnded.name:
      return { kind: "session.ended", userId: user! };
    case KIND.botAudio.name: {
      const pcm = decodeBase64(f[FIELD.audio.name]);
      if (!pcm) return `${kind}: ${FIELD.audio.name} is not base64 linear16 audio`;
      return { kind: "bot.audio", userId: user, pcm: pcm.length % 2 ? pcm.subarray(0, pcm.length - 1) : pcm };
    }
    case KIND.botAttachment.name:
      return { kind: "bot.attachment", userId: user, attachment: f[FIELD.attachment.name] };
    default:
      return { kind: "unknown", name: kind.slice(0, 64) };
  }
}
