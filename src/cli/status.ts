/** `talkbox status`: asks the running daemon how it is doing; `--follow` keeps watching. */
import { openControlConnection, sendCommand, type ControlConnection, type ControlReply } from "../control/client";

export interface StatusOptions {
  socket: string;
  json?: boolean;
  out?: (line: string) => void;
  /** Where failures go; defaults to `out` when that is given, else stderr. */
  err?: (line: string) => void;
  timeoutMs?: number;
  /** Print the state stream after the snapshot until the daemon goes or `stop` is aborted (Ctrl-C). */
  follow?: boolean;
  stop?: AbortSignal;
}

export async function statusCommand(opts: StatusOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? opts.out ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (opts.follow) return follow(opts, out, err);
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

/** Subscribe, print the snapshot, then one line per frame; 0 when stopped, 1 when the daemon went. */
async function follow(opts: StatusOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let conn: ControlConnection;
  let reply: ControlReply;
  try {
    conn = await openControlConnection(opts.socket, { timeoutMs: opts.timeoutMs });
    reply = await conn.request({ Command: "Subscribe" });
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }
  if (reply["Ok"] !== true) {
    if (opts.json) out(JSON.stringify(reply));
    else err(`error: ${replyError(reply)}`);
    await conn.close();
    return 1;
  }
  if (opts.json) out(JSON.stringify(reply));
  else {
    const snapshot = reply["Snapshot"];
    if (typeof snapshot === "object" && snapshot !== null) for (const line of formatFields(snapshot as Record<string, unknown>)) out(line);
    out("--- following the daemon (Ctrl-C stops)");
  }
  conn.onEvent((frame) => out(opts.json ? JSON.stringify(frame) : describeFrame(frame)));
  const stop = opts.stop ?? sigint();
  return new Promise<number>((resolve) => {
    const stopped = (): void => {
      void conn.close().then(() => resolve(0));
    };
    if (stop.aborted) return stopped();
    stop.addEventListener("abort", stopped, { once: true });
    conn.onClose(() => {
      if (stop.aborted) return;
      stop.removeEventListener("abort", stopped);
      err("error: the daemon ended the stream (it stopped, or dropped this client for not reading); run talkbox status --follow again");
      resolve(1);
    });
  });
}

function sigint(): AbortSignal {
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  return ac.signal;
}

/** One state-stream frame as a line for people: `12:03:04 state listening (idle → listening: button.down)`. */
export function describeFrame(f: ControlReply): string {
  const at = typeof f["At"] === "string" ? new Date(f["At"]) : new Date();
  const time = Number.isNaN(at.getTime()) ? "--:--:--" : at.toTimeString().slice(0, 8);
  const s = (k: string): string => formatScalar(f[k]);
  switch (f["Event"]) {
    case "State":
      return `${time} state ${s("State")} (${s("From")} → ${s("State")}: ${s("Cause")}; ${s("Mode")}${f["User"] !== undefined ? `; user ${s("User")}` : ""})`;
    case "Link": {
      const retry = typeof f["RetryInMs"] === "number" ? `; retrying in ${(f["RetryInMs"] / 1000).toFixed(1)} s` : "";
      return `${time} link ${s("State")}${f["Message"] !== undefined ? `: ${s("Message")}` : ""}${retry}`;
    }
    case "Agent": {
      const answering = f["Answering"] === true ? "answering" : f["Answering"] === false ? "not answering" : "not asked yet";
      const failures = f["ConsecutiveFailures"] !== 0 ? `; ${s("ConsecutiveFailures")} failures in a row${f["LastFailure"] !== undefined ? `, last: ${s("LastFailure")}` : ""}` : "";
      return `${time} agent ${f["Reachable"] === true ? "reachable" : "unreachable"}, ${answering}${failures}`;
    }
    case "Transcript":
      return `${time} user: ${s("Text")}`;
    case "Reply":
      return `${time} agent: ${s("Text")}`;
    case "Attachment":
      return `${time} attachment${f["User"] !== undefined ? ` for ${s("User")}` : ""}: ${s("Content")}`;
    case "Error":
      return `${time} error: ${s("Message")}`;
    case "Notice":
      return `${time} ${s("Level")}: ${s("Message")}`;
    case "Volume":
      return `${time} volume ${s("Volume")} %`;
    case "Profile":
      if (f["Status"] === "switching") return `${time} agent profile: switching to ${s("Title")} (${s("Name")}) from ${s("From")}`;
      if (f["Status"] === "active") return `${time} agent profile: ${s("Title")} (${s("Name")}) is in use`;
      return `${time} agent profile: ${s("Name")} failed: ${s("Message")}`;
    default: {
      // A frame this CLI does not know yet (a newer daemon): shown whole.
      const { At: _at, ...rest } = f;
      return `${time} ${JSON.stringify(rest)}`;
    }
  }
}
