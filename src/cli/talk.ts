/**
 * `talkbox talk`: presses the daemon's talk button, holds it for the given time,
 * releases it. The hold is the user's intent (speak for N seconds), not a guess.
 */
import { openControlConnection, type ControlConnection, type ControlReply } from "../control/client";
import { EXIT_INTERRUPTED, EXIT_USAGE } from "./exit-codes";
import { flattenFields, replyError } from "./status";

export interface TalkOptions {
  socket: string;
  seconds: number;
  name?: string;
  out?: (line: string) => void;
  /** Where failures go; defaults to `out` when that is given, else stderr. */
  err?: (line: string) => void;
  timeoutMs?: number;
}

export async function talkCommand(opts: TalkOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? opts.out ?? ((line: string) => process.stderr.write(`${line}\n`));
  const name = opts.name ?? "talk";
  if (!Number.isFinite(opts.seconds) || opts.seconds <= 0) {
    err(`error: the hold time must be a positive number of seconds; got ${opts.seconds}`);
    return EXIT_USAGE;
  }

  let conn: ControlConnection;
  try {
    conn = await openControlConnection(opts.socket, { timeoutMs: opts.timeoutMs });
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }

  // Installed before the press so a Ctrl-C at any point still releases the
  // button; `once` leaves a second Ctrl-C to kill a run stuck on a dead daemon.
  let interrupted = false;
  let wakeHold: () => void = () => {};
  const onSigint = (): void => {
    interrupted = true;
    wakeHold();
  };
  process.once("SIGINT", onSigint);

  const press = async (action: "down" | "up"): Promise<boolean> => {
    let reply: ControlReply;
    try {
      reply = await conn.request({ Command: "Button", Name: name, Action: action });
    } catch (e) {
      err(`${name} ${action}: error: ${(e as Error).message}`);
      return false;
    }
    if (reply["Ok"] !== true) {
      err(`${name} ${action}: error: ${replyError(reply)}`);
      return false;
    }
    const { Ok: _ok, ...fields } = reply;
    const details = flattenFields(fields).map(([k, v]) => `${k}=${v}`).join(" ");
    out(`${name} ${action}: ok${details ? ` ${details}` : ""}`);
    return true;
  };

  try {
    if (!(await press("down"))) return 1;
    if (!interrupted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.seconds * 1000);
        wakeHold = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (!(await press("up"))) return 1;
    return interrupted ? EXIT_INTERRUPTED : 0;
  } finally {
    process.off("SIGINT", onSigint);
    await conn.close();
  }
}
