/**
 * `talkbox say "TEXT" [--mode 1|2|3]`: the running daemon speaks TEXT on its own (seed 004's
 * ExternalTextToSpeech over the control socket). Mode 1 interrupts whatever goes on, 2 (the
 * default) waits for it, 3 is dropped while the device is busy.
 */
import { sendCommand, type ControlReply } from "../control/client";
import { EXIT_DROPPED, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes";
import { replyError } from "./status";

export interface SayOptions {
  socket: string;
  text: string;
  mode?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export async function sayCommand(opts: SayOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const mode = opts.mode ?? "2";
  if (!/^[123]$/.test(mode)) {
    err(`error: --mode must be 1 (interrupt and speak now), 2 (after the current interaction) or 3 (only when idle), not '${mode}'`);
    return EXIT_USAGE;
  }
  let reply: ControlReply;
  try {
    reply = await sendCommand(opts.socket, { Command: "ExternalTextToSpeech", Message: opts.text, InterruptMode: Number(mode) });
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return EXIT_FAILURE;
  }
  if (reply["Ok"] !== true) {
    err(`error: ${replyError(reply)}`);
    return reply["Error"] !== undefined && /Message|InterruptMode/.test(String(reply["Error"])) ? EXIT_USAGE : EXIT_FAILURE;
  }
  const result = String(reply["Result"]);
  if (result === "spoken") out(`spoken (${reply["Voice"] === "agent" ? "the agent's voice" : "the device's offline voice"})`);
  else if (result === "queued") out(`queued: spoken when the current interaction ends (${String(reply["Position"])} waiting)`);
  else out(`dropped: ${String(reply["Reason"] ?? "the device is busy")}`);
  return result === "dropped" ? EXIT_DROPPED : EXIT_OK;
}
