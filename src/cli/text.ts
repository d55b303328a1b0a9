/**
 * `talkbox text "QUESTION" [--user ID]`: a typed question to the running daemon's agent,
 * skipping speech recognition; the answer is spoken. (The control socket's `Text` command.)
 */
import { sendCommand, type ControlReply } from "../control/client";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes";
import { replyError } from "./status";

export interface TextOptions {
  socket: string;
  text: string;
  user?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export async function textCommand(opts: TextOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  let reply: ControlReply;
  try {
    reply = await sendCommand(opts.socket, { Command: "Text", Message: opts.text, ...(opts.user !== undefined ? { User: opts.user } : {}) });
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return EXIT_FAILURE;
  }
  if (reply["Ok"] !== true) {
    err(`error: ${replyError(reply)}`);
    return EXIT_FAILURE;
  }
  out("sent: the answer will be spoken");
  return EXIT_OK;
}
