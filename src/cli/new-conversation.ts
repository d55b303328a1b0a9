/**
 * `talkbox new-conversation [--agent NAME] [--user ID]`: the running daemon's next turn starts a new
 * conversation with the agent, as a long press does. (The control socket's `NewConversation`.)
 */
import { askDaemon } from "./ask-daemon";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes";

export interface NewConversationOptions {
  socket: string;
  user?: string;
  agent?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export async function newConversationCommand(opts: NewConversationOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const command = { Command: "NewConversation", ...(opts.user !== undefined ? { User: opts.user } : {}), ...(opts.agent !== undefined ? { Agent: opts.agent } : {}) };
  const reply = await askDaemon(opts.socket, command, err);
  if (reply === null) return EXIT_FAILURE;
  const withAgent = opts.agent === undefined ? "" : ` with ${opts.agent}`;
  out(opts.user === undefined ? `new conversation${withAgent}: the next question starts it` : `new conversation${withAgent} for ${opts.user}: their next question starts it`);
  return EXIT_OK;
}
