/**
 * The daemon's local control socket: a head unit, a script or the CLI presses
 * buttons and asks for status. One framed JSON request, one framed JSON reply,
 * replies in request order; nothing a client sends can take the daemon down.
 */
import net from "node:net";
import fs from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../log/logger";
import type { CommandParser } from "./commands";
import { encodeFrame, FrameDecoder } from "./framing";
import type { StateStream } from "./state-stream";

/** A command as the socket hands it over: parsed by the parser the server was given. */
type AnyCommand = { Command: string };

export type ControlHandler<C extends AnyCommand = AnyCommand> = (cmd: C) => Promise<Record<string, unknown>> | Record<string, unknown>;

export interface ControlServerOptions<C extends AnyCommand = AnyCommand> {
  path: string;
  /** The commands served (app/commands): names, schemas and their errors. */
  commands: CommandParser<C>;
  /** Throw to fail a command: the message goes back to the client as `Error`. */
  handler: ControlHandler<C>;
  log: Logger;
  /** Socket file mode; group members may talk to the daemon. */
  mode?: number;
  maxConnections?: number;
  deadlines?: { normal: ConnectionDeadlines; reserve: ConnectionDeadlines };
  /** Serves `Subscribe`; without it the command is refused. */
  stream?: StateStream;
}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

const DEFAULT_MODE = 0o660;
const DEFAULT_MAX_CONNECTIONS = 16;
/**
 * Connections beyond the limit, for the local CLI: `talkbox status` must answer even
 * when other clients hold every slot. They get a tight deadline for their request.
 */
const RESERVE_CONNECTIONS = 4;
/** Requests queued on one connection before we stop reading from it. */
const MAX_QUEUED_PER_CONNECTION = 32;
/** Replies the client has not read (bytes) before we stop reading its requests: a client that never reads costs no memory. */
const MAX_UNREAD_REPLY_BYTES = 64 * 1024;

/**
 * How long a connection may take over a request, and stay idle. A head unit may hold
 * its connection idle for hours (idleMs: null) — but when every slot is taken, the
 * connection idle the longest (at least requestMs) gives its slot to the newcomer.
 */
export interface ConnectionDeadlines {
  /** From a frame's first byte to its last (and, in the reserve, from connect to the first request). */
  requestMs: number;
  /** Closed after this long without a request; null: only when its slot is needed. */
  idleMs: number | null;
}

export const DEADLINES: ConnectionDeadlines = { requestMs: 5000, idleMs: null };
/** In the reserve, the CLI's one request comes at once. */
export const RESERVE_DEADLINES: ConnectionDeadlines = { requestMs: 1000, idleMs: 1000 };

export async function startControlServer<C extends AnyCommand>(opts: ControlServerOptions<C>): Promise<ControlServer> {
  const socketPath = opts.path;
  const log = opts.log;
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;

  await fs.mkdir(path.dirname(socketPath), { recursive: true });
  await clearStaleSocket(socketPath);

  const connections = new Set<Served>();
  // allowHalfOpen: a client may send its requests and shut down its write side
  // (`nc -N`), and still expects the replies.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const deadlines = opts.deadlines ?? { normal: DEADLINES, reserve: RESERVE_DEADLINES };
    if (connections.size >= maxConnections) evictIdlest(connections, deadlines.normal.requestMs, log);
    if (connections.size >= maxConnections + RESERVE_CONNECTIONS) {
      log.warn({ limit: maxConnections }, "control connection refused: too many connections");
      socket.on("error", () => {});
      hangUp(socket, encodeFrame({ Ok: false, Error: `too many control connections (limit ${maxConnections}); try again later` }));
      return;
    }
    const reserve = connections.size >= maxConnections;
    const conn: Served = { socket, idleSince: performance.now(), busy: () => false, evicted: false };
    connections.add(conn);
    socket.on("close", () => connections.delete(conn));
    serveConnection(conn, opts, reserve ? deadlines.reserve : deadlines.normal);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on control socket ${socketPath}: ${err.code ?? err.message}`)),
    );
    server.listen(socketPath, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  server.on("error", (err) => log.error({ err }, "control socket error"));
  try {
    await fs.chmod(socketPath, opts.mode ?? DEFAULT_MODE);
  } catch (err) {
    await closeServer(server, connections);
    throw err;
  }
  log.info({ path: socketPath }, "control socket listening");

  let closing: Promise<void> | null = null;
  return {
    path: socketPath,
    close: () => (closing ??= closeServer(server, connections)),
  };
}

/** One client connection: when it last finished a request, and whether one is under way. */
interface Served {
  socket: net.Socket;
  idleSince: number;
  busy: () => boolean;
  evicted: boolean;
}

/** Every slot is taken: the connection idle the longest (at least minIdleMs, nothing under way) makes room. */
function evictIdlest(connections: Set<Served>, minIdleMs: number, log: Logger): void {
  const now = performance.now();
  let idlest: Served | null = null;
  for (const c of connections) {
    if (c.evicted || c.busy() || now - c.idleSince < minIdleMs) continue;
    if (!idlest || c.idleSince < idlest.idleSince) idlest = c;
  }
  if (!idlest) return;
  idlest.evicted = true;
  connections.delete(idlest);
  log.debug({ idleMs: Math.round(now - idlest.idleSince) }, "control connection closed: idle, and its slot was needed");
  hangUp(idlest.socket, encodeFrame({ Ok: false, Error: "closing the connection: idle while another client needed the slot; reconnect when you have a request" }));
}

function closeServer(server: net.Server, connections: Set<Served>): Promise<void> {
  // Node unlinks the socket file when a unix-socket server closes.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const c of connections) c.socket.destroy();
  return closed;
}

/**
 * A socket file left by a daemon that died is in the way of listen(); one that
 * still answers belongs to a running daemon and must not be stolen.
 */
async function clearStaleSocket(socketPath: string): Promise<void> {
  let stat;
  try {
    stat = await fs.lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (!stat.isSocket()) {
    throw new Error(`${socketPath} exists and is not a socket; remove it or choose another control socket path`);
  }
  const live = await new Promise<boolean>((resolve, reject) => {
    const probe = net.createConnection(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") resolve(false);
      else reject(new Error(`cannot check whether ${socketPath} is in use (${err.code ?? err.message}); remove it if no daemon is running`));
    });
  });
  if (live) {
    throw new Error(`another talkbox daemon is already listening on ${socketPath}; stop it first or choose another control socket path`);
  }
  await fs.rm(socketPath, { force: true });
}

function serveConnection<C extends AnyCommand>(conn: Served, opts: ControlServerOptions<C>, deadlines: ConnectionDeadlines): void {
  const { commands, handler, log, stream } = opts;
  const socket = conn.socket;
  const decoder = new FrameDecoder();
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;
  let poisoned = false;
  let reportedTruncation = false;
  let requests = 0;
  let deadline: NodeJS.Timeout | undefined;
  /** A subscriber holds its connection for as long as it wants the stream: no deadlines, never evicted. */
  let subscribed = false;

  const reportTruncation = (): void => {
    if (reportedTruncation || decoder.pending === 0) return;
    reportedTruncation = true;
    log.debug({ pendingBytes: decoder.pending }, "control connection closed mid-frame; partial request dropped");
  };

  /**
   * A slot is held only by a client that uses it: a connection that sends nothing,
   * or a few bytes of a frame, is closed after requestMs; an idle one after idleMs.
   */
  const rearm = (): void => {
    clearTimeout(deadline);
    if (poisoned || socket.destroyed || subscribed) return;
    const waiting = decoder.pending > 0 || (requests === 0 && deadlines.idleMs !== null);
    const ms = waiting ? deadlines.requestMs : deadlines.idleMs;
    if (ms === null) return;
    deadline = setTimeout(() => {
      log.debug({ requests, pendingBytes: decoder.pending }, "control connection closed: no complete request in time");
      poisoned = true;
      const why = waiting ? `no complete request within ${ms} ms` : `idle for ${ms} ms`;
      void queue.then(() => hangUp(socket, encodeFrame({ Ok: false, Error: `closing the connection: ${why}` })));
    }, ms);
    deadline.unref();
  };
  rearm();
  socket.on("close", () => clearTimeout(deadline));
  conn.busy = () => subscribed || queued > 0 || decoder.pending > 0;

  /** Reading resumes once the client has read its replies and the queue has room. */
  const mayRead = (): boolean => !poisoned && queued < MAX_QUEUED_PER_CONNECTION && socket.writableLength < MAX_UNREAD_REPLY_BYTES;
  socket.on("drain", () => {
    if (mayRead()) socket.resume();
  });

  // Each request is answered in turn so replies keep request order and the
  // handler never sees a button's up before its down has been handled.
  // `after` runs right after the reply is written, before anything else can be: a subscriber's
  // first frame is its snapshot.
  const writeReply = (reply: Record<string, unknown>, after?: () => void): void => {
    const frame = encodeReply(reply, log);
    conn.idleSince = performance.now();
    if (!socket.destroyed && socket.writable) {
      socket.write(frame);
      after?.();
    }
    if (mayRead()) socket.resume();
    else socket.pause();
  };
  const enqueue = (reply: () => Promise<Record<string, unknown>> | Record<string, unknown>, after?: () => void): void => {
    queued++;
    if (queued >= MAX_QUEUED_PER_CONNECTION) socket.pause();
    queue = queue.then(async () => {
      const r = await reply();
      queued--;
      writeReply(r, after);
    });
  };

  const subscribe = (): void => {
    let refusal: string | null = null;
    enqueue(
      async () => {
        refusal = !stream ? "this daemon has no state stream" : subscribed ? "already subscribed on this connection" : stream.refusal();
        return refusal ? { Ok: false, Error: refusal } : { Ok: true, ...stream!.snapshot() };
      },
      () => {
        if (refusal || !stream) return;
        subscribed = true;
        clearTimeout(deadline);
        stream.add(socket);
      },
    );
  };

  socket.on("data", (chunk: Buffer) => {
    // After a fatal error the decoder yields nothing more.
    const results = decoder.push(chunk);
    requests += results.length;
    rearm();
    for (const result of results) {
      if (result.ok) {
        const parsed = commands.parse(result.value);
        if (!parsed.ok) {
          log.warn({ error: parsed.error }, "control command rejected");
          enqueue(async () => ({ Ok: false, Error: parsed.error }));
        } else if (parsed.command.Command === "Subscribe") {
          subscribe();
        } else if (queued === 0) {
          // Nothing before it waits for its reply: run it now, not a few promise hops later
          // (a button's edge is on the release's and the barge-in's way to the wire).
          const reply = runHandler(handler, parsed.command, log);
          if (reply instanceof Promise) enqueue(() => reply);
          else writeReply(reply);
        } else {
          const command = parsed.command;
          enqueue(() => runHandler(handler, command, log));
        }
      } else if (!result.fatal) {
        log.warn({ error: result.error }, "malformed control frame");
        enqueue(async () => ({ Ok: false, Error: result.error }));
      } else {
        log.warn({ error: result.error }, "control connection out of sync; closing it");
        poisoned = true;
        enqueue(async () => ({ Ok: false, Error: `${result.error}; closing the connection` }));
        socket.pause();
        void queue.then(() => hangUp(socket));
      }
    }
  });
  socket.on("end", () => {
    reportTruncation();
    void queue.then(() => socket.end());
  });
  socket.on("close", reportTruncation);
  socket.on("error", (err) => log.debug({ err }, "control connection error"));
}

/**
 * Sends the last bytes and closes both directions: with half-open sockets a peer
 * that never closes its side would otherwise hold a connection slot forever.
 */
function hangUp(socket: net.Socket, last?: Buffer): void {
  socket.once("finish", () => socket.destroy());
  if (last) socket.end(last);
  else socket.end();
}

/** The handler's reply, at once when it answers at once; a failure (thrown, or rejected) is an Error reply. */
function runHandler<C extends AnyCommand>(handler: ControlHandler<C>, command: C, log: Logger): Promise<Record<string, unknown>> | Record<string, unknown> {
  const failed = (err: unknown): Record<string, unknown> => {
    const message = err instanceof Error ? err.message : String(err);
    log.warn({ err, command: command.Command }, "control command failed");
    return { Ok: false, Error: message };
  };
  // Ok leads the reply and a handler can't flip it: failure is signalled by throwing.
  const ok = (result: Record<string, unknown>): Record<string, unknown> => {
    const reply: Record<string, unknown> = { Ok: true, ...result };
    reply["Ok"] = true;
    return reply;
  };
  try {
    const result = handler(command);
    return result instanceof Promise ? result.then(ok, failed) : ok(result);
  } catch (err) {
    return failed(err);
  }
}

function encodeReply(reply: Record<string, unknown>, log: Logger): Buffer {
  try {
    return encodeFrame(reply);
  } catch (err) {
    log.warn({ err }, "control reply could not be encoded");
    return encodeFrame({ Ok: false, Error: `the daemon could not encode its reply: ${(err as Error).message}` });
  }
}
