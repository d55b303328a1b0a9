/**
 * `talkbox text "QUESTION" [--user ID]`: a typed question to the running daemon's agent,
 * skipping speech recognition; the answer is spoken. (The control socket's `Text` command.)
 */
import { askDaemon } from "./ask-daemon";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes";

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
  const reply = await askDaemon(opts.socket, { Command: "Text", Message: opts.text, ...(opts.user !== undefined ? { User: opts.user } : {}) }, err);
  if (reply === null) return EXIT_FAILURE;
  out("sent: the answer will be spoken");
  return EXIT_OK;
}
