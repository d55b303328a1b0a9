/** One control command to the running daemon, for the CLI commands that only need its Ok. */
import { sendCommand, type ControlReply } from "../control/client";
import { replyError } from "./status";

/** The daemon's reply when it says Ok; otherwise why not is written to `err` ("error: …") and null returned. */
export async function askDaemon(socket: string, command: Record<string, unknown>, err: (line: string) => void, timeoutMs?: number): Promise<ControlReply | null> {
  let reply: ControlReply;
  try {
    reply = await sendCommand(socket, command, timeoutMs === undefined ? {} : { timeoutMs });
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return null;
  }
  if (reply["Ok"] !== true) {
    err(`error: ${replyError(reply)}`);
    return null;
  }
  return reply;
}
