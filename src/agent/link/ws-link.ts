/**
 * One long-lived WebSocket link to a cloud agent, whatever its protocol: opened
 * at start(), kept alive with WebSocket pings, re-opened with back-off when it
 * drops (after minutes when the server rejected the credentials), and at once
 * when the user presses the button (wake) or the backend replaces the link on
 * purpose (restart). It emits link.connecting and link.down; the backend speaks
 * the protocol through the hooks of a LinkProtocol, calls ready() when its
 * session setup is done, and then announces link.ready with the formats it
 * negotiated.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import WebSocket from "ws";
import type { Logger } from "../../log/logger";
import { Backoff } from "../../core/backoff";
import type { Clock, ClockTimer } from "../../core/clock";
import { CONFIG_PROBLEMS, HELD_PROBLEMS, type AgentEvent, type LinkProblem } from "../events";
import { describeSocketError } from "./socket-error";
import type { LinkSettings } from "../link-settings";

/**
 * Options every socket to an agent's service shares. allowSynchronousEvents false: ws hands
 * over one message per turn of the event loop, not a whole TCP read's worth in one go. A press
 * that arrives with a burst of the agent's events (a reply's last audio and its completion:
 * 1–2 ms of work on the test VM) is served between two of them, not after all of them; a
 * message waits at most for the I/O ready beside it.
 */
export const AGENT_SOCKET = { perMessageDeflate: false, allowSynchronousEvents: false } as const;

/** Where the agent is and how patient to be with it; the backends' options carry these. */
export interface LinkFailure {
  problem: LinkProblem;
  message: string;
}

/** Why a link ended; `retryNow`: it is no failure, reconnect at once without growing the back-off. */
export interface LinkEnd extends LinkFailure {
  retryNow?: boolean;
}

export type LinkPhase = "stopped" | "connecting" | "ready" | "waiting";

/** What a backend adds to the link: its protocol. Hooks run only for the current link. */
export interface LinkProtocol {
  /** Before each link: adds the backend's query parameters to `url`; the headers to send and extra fields for the "connecting to agent" line. */
  prepare(url: URL): { headers: Record<string, string>; log?: Record<string, unknown> };
  /** The handshake is done; the session setup starts (a backend that speaks first sends here). */
  opened?(ws: WebSocket): void;
  /** One message from the server, during the session setup or after it. */
  message(ws: WebSocket, data: Buffer, isBinary: boolean): void;
  /** The server refused the handshake: its HTTP status and up to 2 KiB of the body. */
  rejected(status: number, body: string): LinkEnd;
  /** No session within the connect timeout: the failure to report, or undefined for the plain one. */
  setupTimedOut?(): LinkFailure | undefined;
  /** The link is gone (not after stop()): drop what belonged to it. */
  closed(): void;
  /** The server closed a link without a failure: why, or undefined for the plain close message. */
  explainClose?(wasReady: boolean, code: number, reason: string): LinkEnd | undefined;
  /** Logged when a press cannot reconnect because the server rejected the credentials or the settings: what to fix. */
  heldMessage: string;
  /**
   * The largest frame the server may send, in bytes, and what legitimately comes
   * close to it: a larger frame is a protocol error of the link, not 100 MiB of RAM
   * (the ws default) on a 512 MB Pi.
   */
  maxFrame: { bytes: number; largest: string };
  /** link.connecting and link.down, for the backend's listeners. */
  emit(event: AgentEvent): void;
}

export class WsLink {
  private ws: WebSocket | null = null;
  private tcp: Socket | null = null;
  /** The socket while it is corked for the rest of this tick (sendSoon). */
  private corked: Socket | null = null;
  private state: LinkPhase = "stopped";
  private failure: LinkFailure | null = null;
  /** The next reconnect is not a failure: at once, without growing the back-off. */
  private quietRetry = false;
  /** Quiet retries since the link was last healthy: a server that keeps asking for one gets the back-off instead. */
  private quietStreak = 0;
  private readonly backoff: Backoff;
  private setupTimer: ClockTimer | undefined;
  private retryTimer: ClockTimer | undefined;
  private pingTimer: ClockTimer | undefined;
  private healthyTimer: ClockTimer | undefined;
  private pongPending = false;
  /** When the last ping went out and when anything last came in: a message proves the link alive as well as a pong. */
  private pingSentAt = 0;
  private heardAt = 0;
  private replyExpected = false;
  /** A problem the user must act on (HELD_PROBLEMS): retried after the long back-off only. */
  private hold: LinkProblem | null = null;
  private attempt = 0;

  constructor(
    private readonly settings: LinkSettings,
    private readonly protocol: LinkProtocol,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.backoff = new Backoff({ initialMs: settings.reconnect.initialMs, maxMs: settings.reconnect.maxMs });
  }

  get phase(): LinkPhase {
    return this.state;
  }

  /** The link's WebSocket once its session is ready and while it is open; null otherwise. */
  readySocket(): WebSocket | null {
    const ws = this.ws;
    return this.state === "ready" && ws?.readyState === WebSocket.OPEN ? ws : null;
  }

  /**
   * Sends a message that need not leave at once (an audio append): the messages sent this
   * way in one tick leave together at its end, one socket write (one TLS record) instead of
   * one each — a mic read carries several 20 ms frames, each its own append. Anything sent
   * with send() leaves at once, behind them.
   */
  sendSoon(ws: WebSocket, data: Buffer | string, opts?: { binary?: boolean }): void {
    const socket = this.tcp;
    if (socket && !this.corked) {
      this.corked = socket;
      socket.cork();
      process.nextTick(() => this.uncork());
    }
    ws.send(data, opts ?? {});
  }

  /** Sends a message now (a commit, a cancel: someone waits for it), behind what sendSoon held. */
  send(ws: WebSocket, data: Buffer | string, opts?: { binary?: boolean }): void {
    ws.send(data, opts ?? {});
    this.uncork();
  }

  private uncork(): void {
    const socket = this.corked;
    this.corked = null;
    socket?.uncork();
  }

  start(): void {
    if (this.state !== "stopped") return;
    this.connect();
  }

  /** Closes the link with a closing handshake; no link.down follows. */
  async stop(): Promise<void> {
    this.state = "stopped";
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    this.tcp = null;
    if (ws) await closeGently(ws, "daemon stopping");
  }

  /**
   * Skips the pending back-off (the user pressed the button), unless the server rejected the
   * credentials or the settings: a press cannot change those. After a used-up quota or a bot
   * not found, a press is the user saying they topped up or published it: one attempt.
   */
  wake(): void {
    if (this.state !== "waiting") return;
    if (this.hold !== null && CONFIG_PROBLEMS.has(this.hold)) {
      this.log.warn(this.protocol.heldMessage);
      return;
    }
    this.clock.clearTimeout(this.retryTimer);
    this.log.info("button pressed while offline: reconnecting now");
    this.connect();
  }

  /**
   * The backend's session setup is done: audio may flow and pings start. The back-off
   * starts over only once the link has stayed up for HEALTHY_MS: a server that takes
   * every session and then closes it must not get a reconnect every half second.
   */
  ready(): void {
    const ws = this.ws;
    if (!ws) return;
    this.clock.clearTimeout(this.setupTimer);
    this.state = "ready";
    this.hold = null;
    this.healthyTimer = this.clock.setTimeout(() => {
      this.backoff.reset();
      this.quietStreak = 0;
    }, WsLink.HEALTHY_MS);
    this.schedulePing(ws);
  }

  /** Immediate reconnects (a new conversation, an expired session) allowed before the link has been healthy again. */
  static readonly QUIET_RETRIES = 3;

  /** How long a ready link must last before its end counts as a fresh start rather than one more failure. */
  static readonly HEALTHY_MS = 30_000;

  /** Ends the current link as failed; the retry follows its close. A non-network problem wins over a network one. */
  fail(problem: LinkProblem, message: string): void {
    if (this.ws) this.failLink(this.ws, problem, message);
  }

  /** Ends the current link on purpose and opens a new one at once; the old socket closes in the background. */
  restart(message: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.failure = { problem: "network", message };
    this.quietRetry = true;
    this.onClose(ws, 1000, "");
    void closeGently(ws, "reconnecting");
  }

  /**
   * Opens a new link now, whatever the current one is doing (new credentials): a
   * pending retry or a hold after a rejection is skipped, an open link replaced.
   */
  reconnectNow(message: string): void {
    if (this.state === "stopped") return;
    this.hold = null;
    if (this.state === "waiting") {
      this.clock.clearTimeout(this.retryTimer);
      this.connect();
      return;
    }
    this.backoff.reset();
    this.quietStreak = 0;
    this.restart(message);
  }

  private connect(): void {
    this.state = "connecting";
    this.failure = null;
    this.attempt++;
    this.protocol.emit({ type: "link.connecting", attempt: this.attempt });
    let url: URL;
    try {
      url = new URL(this.settings.url);
    } catch {
      this.failure = { problem: "protocol", message: "agent.url is not a valid URL" };
      this.scheduleRetry();
      return;
    }
    const { headers, log } = this.protocol.prepare(url);
    this.log.debug({ url: `${url.origin}${url.pathname}`, attempt: this.attempt, ...log }, "connecting to agent");

    const timeoutMs = this.settings.connectTimeoutMs;
    const ws = new WebSocket(url, { ...AGENT_SOCKET, headers, handshakeTimeout: timeoutMs, maxPayload: this.protocol.maxFrame.bytes });
    this.ws = ws;
    this.tcp = null;
    // The session must be set up within the connect timeout too, not just the handshake.
    this.setupTimer = this.clock.setTimeout(() => {
      const f = this.protocol.setupTimedOut?.() ?? { problem: "network", message: `no session from the agent within ${timeoutMs} ms` };
      this.failLink(ws, f.problem, f.message);
    }, timeoutMs);

    ws.on("upgrade", (res) => {
      if (ws === this.ws) this.tcp = res.socket;
    });
    ws.on("open", () => {
      if (ws === this.ws) this.protocol.opened?.(ws);
    });
    ws.on("unexpected-response", (_req, res) => this.onHandshakeRejected(ws, res));
    ws.on("message", (data, isBinary) => {
      if (ws === this.ws) this.receive(ws, data as Buffer, isBinary);
    });
    ws.on("pong", () => {
      this.pongPending = false;
      this.heardAt = this.clock.now();
    });
    ws.on("error", (err: Error & { code?: string }) => {
      if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
        const { bytes, largest } = this.protocol.maxFrame;
        this.failure = {
          problem: "protocol",
          message: `the agent sent a frame larger than ${mib(bytes)} (this protocol's largest, ${largest}, stays well under it); dropped the link`,
        };
      } else if (!this.failure) this.failure = { problem: "network", message: describeSocketError(err) };
    });
    ws.on("close", (code, reason) => this.onClose(ws, code, reason.toString("utf8")));
  }

  /**
   * One server message to the protocol. Whatever the protocol (or a listener of its
   * events) throws on it ends this link as a protocol error, never the daemon.
   */
  private receive(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    this.heardAt = this.clock.now();
    try {
      this.protocol.message(ws, data, isBinary);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.log.error({ err: err instanceof Error ? err.stack : why }, `a message from the agent could not be handled (${why}); reconnecting`);
      this.failLink(ws, "protocol", `a message from the agent could not be handled: ${why}`);
    }
  }

  private onHandshakeRejected(ws: WebSocket, res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    let body = "";
    // The body may name the reason (an error code); read a little of it before giving up on the socket.
    const giveUp = setTimeout(() => conclude(), 2000);
    const conclude = (): void => {
      clearTimeout(giveUp);
      if (ws !== this.ws) return;
      const end = this.protocol.rejected(status, body);
      if (end.retryNow) this.quietRetry = true;
      // terminate() also ends a handshake whose HTTP response has completed.
      this.failLink(ws, end.problem, end.message);
    };
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      if (body.length < 2048) body += chunk;
    });
    res.on("end", conclude);
    res.on("error", conclude);
  }

  /**
   * A reply is expected (the turn was committed) or no longer is: the ping tightens to
   * replyPing while it is, so a link that stalls mid-turn is noticed in seconds.
   */
  setReplyExpected(expected: boolean): void {
    if (this.replyExpected === expected) return;
    this.replyExpected = expected;
    const ws = this.readySocket();
    // Tightening takes effect now; loosening at the next ping.
    if (!ws || !expected || !this.settings.replyPing || this.pongPending) return;
    this.clock.clearTimeout(this.pingTimer);
    this.schedulePing(ws);
  }

  /** Ping, then check for the pong; a dead link (Wi-Fi gone, NAT timeout) shows up here, not in TCP. */
  private schedulePing(ws: WebSocket): void {
    const tight = this.replyExpected ? this.settings.replyPing : undefined;
    const intervalMs = tight?.intervalMs ?? this.settings.pingIntervalMs;
    const timeoutMs = tight?.timeoutMs ?? this.settings.pingTimeoutMs;
    this.pingTimer = this.clock.setTimeout(() => {
      if (ws !== this.ws || this.state !== "ready") return;
      this.pongPending = true;
      this.pingSentAt = this.clock.now();
      ws.ping();
      this.pingTimer = this.clock.setTimeout(() => {
        this.pongPending &&= this.heardAt < this.pingSentAt;
        if (this.pongPending) this.failLink(ws, "network", `nothing from the agent within ${timeoutMs} ms of a WebSocket ping`);
        else this.schedulePing(ws);
      }, timeoutMs);
    }, intervalMs);
  }

  private failLink(ws: WebSocket, problem: LinkProblem, message: string): void {
    if (ws !== this.ws) return;
    if (!this.failure || this.failure.problem === "network") this.failure = { problem, message };
    // terminate() emits 'close', which schedules the retry.
    ws.terminate();
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.tcp = null;
    const wasReady = this.state === "ready";
    this.clearTimers();
    this.pongPending = false;
    this.replyExpected = false;
    this.protocol.closed();
    if (this.state === "stopped") return;
    if (!this.failure) {
      const end = this.protocol.explainClose?.(wasReady, code, reason);
      this.failure = end
        ? { problem: end.problem, message: end.message }
        : { problem: "network", message: `the agent closed the connection (code ${code}${reason ? `, ${reason}` : ""})` };
      if (end?.retryNow) this.quietRetry = true;
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const failure = this.failure ?? { problem: "network" as const, message: "connection lost" };
    this.hold = HELD_PROBLEMS.has(failure.problem) ? failure.problem : null;
    // Rejected credentials, a used-up quota, a missing bot or refused settings will not come right in a second: wait minutes, not a hot loop.
    const quiet = this.quietRetry && this.quietStreak++ < WsLink.QUIET_RETRIES;
    const delay = this.hold ? this.settings.reconnect.authFailureMs : quiet ? 0 : this.backoff.next();
    this.quietRetry = false;
    this.state = "waiting";
    this.protocol.emit({ type: "link.down", problem: failure.problem, message: failure.message, retryInMs: delay });
    // A listener may have stopped the link, or woken it.
    if (this.state !== "waiting") return;
    if (delay === 0) {
      this.connect();
      return;
    }
    this.retryTimer = this.clock.setTimeout(() => {
      if (this.state === "waiting") this.connect();
    }, delay);
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.setupTimer);
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.healthyTimer);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}

async function closeGently(ws: WebSocket, reason: string): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  await new Promise<void>((resolve) => {
    ws.once("close", () => resolve());
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, reason);
    // A dead peer never completes the closing handshake.
    const t = setTimeout(() => ws.terminate(), 1000);
    t.unref();
  });
}
