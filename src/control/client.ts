/**
 * Client side of the control socket, for the CLI and scripts. Replies come back
 * in request order, so requests on one connection are matched FIFO; after Subscribe,
 * frames with an `Event` are the state stream's and go to `onEvent` instead.
 */
import net from "node:net";
import fs from "node:fs";
import { encodeFrame, FrameDecoder } from "./framing";

export type ControlReply = Record<string, unknown>;

export interface ControlClientOptions {
  /** Per request, including connecting. */
  timeoutMs?: number;
}

export interface ControlConnection {
  request(command: Record<string, unknown>): Promise<ControlReply>;
  /** State-stream frames (after a Subscribe request). */
  onEvent(listener: (frame: ControlReply) => void): void;
  /** The connection ended (the daemon closed it, dropped a slow subscriber, or went away). */
  onClose(listener: (why: Error) => void): void;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 5000;

interface Pending {
  resolve(reply: ControlReply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export async function openControlConnection(socketPath: string, opts: ControlClientOptions = {}): Promise<ControlConnection> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const socket = await connect(socketPath, timeoutMs);
  const decoder = new FrameDecoder();
  const pending: Pending[] = [];
  let broken: Error | null = null;
  const eventListeners: Array<(frame: ControlReply) => void> = [];
  const closeListeners: Array<(why: Error) => void> = [];

  const breakWith = (err: Error): void => {
    broken ??= err;
    for (const p of pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(broken);
    }
    socket.destroy();
    for (const l of closeListeners.splice(0)) l(broken);
  };

  socket.on("data", (chunk: Buffer) => {
    for (const result of decoder.push(chunk)) {
      if (!result.ok) {
        breakWith(new Error(`talkbox daemon at ${socketPath} sent a malformed reply: ${result.error}`));
        return;
      }
      const v = result.value;
      if (typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as ControlReply)["Event"] === "string") {
        for (const l of eventListeners) l(v as ControlReply);
        continue;
      }
      const p = pending.shift();
      if (!p) continue;
      clearTimeout(p.timer);
      if (typeof result.value === "object" && result.value !== null && !Array.isArray(result.value)) {
        p.resolve(result.value as ControlReply);
      } else {
        p.reject(new Error(`talkbox daemon at ${socketPath} sent a reply that is not a JSON object`));
      }
    }
  });
  socket.on("error", (err: NodeJS.ErrnoException) =>
    breakWith(new Error(`control connection to ${socketPath} failed: ${err.code ?? err.message}`)),
  );
  socket.on("close", () => breakWith(new Error(`talkbox daemon at ${socketPath} closed the connection without replying`)));

  return {
    request(command) {
      if (broken) return Promise.reject(broken);
      const frame = encodeFrame(command);
      return new Promise<ControlReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          // A late reply would be matched to the wrong request; the connection is done.
          breakWith(new Error(`no reply from talkbox daemon at ${socketPath} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.push({ resolve, reject, timer });
        socket.write(frame);
      });
    },
    onEvent(listener) {
      eventListeners.push(listener);
    },
    onClose(listener) {
      if (broken) listener(broken);
      else closeListeners.push(listener);
    },
    close() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once("close", () => resolve());
        socket.end();
      });
    },
  };
}

/** One request on its own connection. Resolves with the reply, Ok:false included. */
export async function sendCommand(
  socketPath: string,
  command: Record<string, unknown>,
  opts: ControlClientOptions = {},
): Promise<ControlReply> {
  const conn = await openControlConnection(socketPath, opts);
  try {
    return await conn.request(command);
  } finally {
    await conn.close();
  }
}

function connect(socketPath: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out after ${timeoutMs} ms connecting to the talkbox daemon at ${socketPath}`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(socketPath, err));
    });
  });
}

export function connectError(socketPath: string, err: NodeJS.ErrnoException): Error {
  switch (err.code) {
    case "ENOENT":
    case "ECONNREFUSED": // a socket file left behind by a daemon that is gone
      return new Error(`no talkbox daemon at ${socketPath} (is it running? start it with 'talkbox run', or pass --socket)`);
    case "EACCES":
    case "EPERM": {
      const group = socketGroup(socketPath);
      return new Error(
        `permission denied on ${socketPath}: the control socket is for members of group '${group}'; ` +
          `add yourself with 'sudo usermod -aG ${group} $USER' and log in again`,
      );
    }
    default:
      return new Error(`cannot connect to the talkbox daemon at ${socketPath}: ${err.code ?? err.message}`);
  }
}

/** The socket's group (name, else number), for telling the user which group to join. */
function socketGroup(socketPath: string): string {
  let gid: number;
  try {
    gid = fs.statSync(socketPath).gid;
  } catch {
    return "talkbox";
  }
  try {
    for (const line of fs.readFileSync("/etc/group", "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (name && id !== undefined && Number(id) === gid) return name;
    }
  } catch {
    // No readable /etc/group: usermod accepts the number too.
  }
  return String(gid);
}
