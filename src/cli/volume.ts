/** `talkbox volume [N | +N | -N]`: shows or changes the speaker volume of the running daemon. */
import { sendCommand, type ControlReply } from "../control/client";
import { replyError } from "./status";

export interface VolumeOptions {
  socket: string;
  /** "60" sets, "+10" / "-10" change; undefined shows. */
  value?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** The Volume command for a value as typed, or an error message. */
export function volumeRequest(value: string | undefined): { Command: "Volume"; Percent?: number; Delta?: number } | string {
  if (value === undefined) return { Command: "Volume" };
  const m = /^([+-]?)(\d{1,3})%?$/.exec(value.trim());
  if (!m) return `expected a volume like 60, +10 or -10, not '${value}'`;
  const n = Number(m[2]);
  if (m[1] === "") return n <= 100 ? { Command: "Volume", Percent: n } : "the volume goes from 0 to 100";
  return { Command: "Volume", Delta: m[1] === "-" ? -n : n };
}

export async function volumeCommand(opts: VolumeOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const request = volumeRequest(opts.value);
  if (typeof request === "string") {
    err(`error: ${request}`);
    return 2;
  }
  let reply: ControlReply;
  try {
    reply = await sendCommand(opts.socket, request);
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }
  if (reply["Ok"] !== true) {
    err(`error: ${replyError(reply)}`);
    return 1;
  }
  out(`volume: ${String(reply["Volume"])} %`);
  return 0;
}
