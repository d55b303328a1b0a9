/** `talkbox status`: asks the running daemon how it is doing. */
import { sendCommand, type ControlReply } from "../control/client";

export interface StatusOptions {
  socket: string;
  json?: boolean;
  out?: (line: string) => void;
  /** Where failures go; defaults to `out` when that is given, else stderr. */
  err?: (line: string) => void;
  timeoutMs?: number;
}

export async function statusCommand(opts: StatusOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? opts.out ?? ((line: string) => process.stderr.write(`${line}\n`));
  let reply: ControlReply;
  try {
    reply = await sendCommand(opts.socket, { Command: "Status" }, { timeoutMs: opts.timeoutMs });
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }
  const ok = reply["Ok"] === true;
  if (opts.json) {
    out(JSON.stringify(reply));
    return ok ? 0 : 1;
  }
  if (!ok) {
    err(`error: ${replyError(reply)}`);
    return 1;
  }
  const { Ok: _ok, ...fields } = reply;
  for (const line of formatFields(fields)) out(line);
  return 0;
}

/** The daemon's error text from an Ok:false reply. */
export function replyError(reply: ControlReply): string {
  const error = reply["Error"];
  return typeof error === "string" && error !== "" ? error : "the daemon refused the command without saying why";
}

/**
 * Nested objects become dotted keys (`Link.State`) so any reply shape reads as
 * one `key: value` per line; the daemon may add fields without touching this.
 */
export function flattenFields(value: Record<string, unknown>, prefix = ""): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, v] of Object.entries(value)) {
    const name = prefix === "" ? key : `${prefix}.${key}`;
    if (typeof v === "object" && v !== null && Object.keys(v).length > 0) {
      rows.push(...flattenFields(v as Record<string, unknown>, name));
    } else {
      rows.push([name, formatScalar(v)]);
    }
  }
  return rows;
}

export function formatFields(value: Record<string, unknown>): string[] {
  const rows = flattenFields(value);
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`);
}

function formatScalar(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined) return "";
  // Empty objects and arrays, null, numbers and booleans read fine as JSON.
  return JSON.stringify(v);
}
