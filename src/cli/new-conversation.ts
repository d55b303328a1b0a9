/**
 * `talkbox new-conversation [--user ID]`: the running daemon's next turn starts a new
 * conversation with the agent, as a long press does. (The control socket's `NewConversation`.)
 */
import { askDaemon } from "./ask-daemon";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes";

export interface NewConversationOptions {
  socket: string;
  user?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export async function newConversationCommand(opts: NewConversationOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const reply = await askDaemon(opts.socket, { Command: "NewConversation", ...(opts.user !== undefined ? { User: opts.user } : {}) }, err);
  if (reply === null) return EXIT_FAILURE;
  out(opts.user === undefined ? "new conversation: the next question starts it" : `new conversation for ${opts.user}: their next question starts it`);
  return EXIT_OK;
}
