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
import { Backoff } from "../../net/backoff";
import type { Clock, ClockTimer } from "../../device/clock";
import type { AgentEvent, LinkProblem } from "../events";
import { describeSocketError } from "./socket-error";

/** Where the agent is and how patient to be with it; the backends' options carry these. */
export interface LinkSettings {
  url: string;
  /** The handshake and the session setup after it must both finish within this. */
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number; authFailureMs: number };
}

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
  /** Logged when a press cannot reconnect because the server rejected the credentials: what to fix. */
  authHoldMessage: string;
  /** link.connecting and link.down, for the backend's listeners. */
  emit(event: AgentEvent): void;
}

export class WsLink {
  private ws: WebSocket | null = null;
  private tcp: Socket | null = null;
  private state: LinkPhase = "stopped";
  private failure: LinkFailure | null = null;
  /** The next reconnect is not a failure: at once, without growing the back-off. */
  private quietRetry = false;
  private readonly backoff: Backoff;
  private setupTimer: ClockTimer | undefined;
  private retryTimer: ClockTimer | undefined;
  private pingTimer: ClockTimer | undefined;
  private pongPending = false;
  private holdForAuth = false;
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

  /** The TCP (or TLS) socket under the current link, from the handshake response; null before it. */
  get transport(): Socket | null {
    return this.tcp;
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

  /** Skips the pending back-off (the user pressed the button), unless the credentials were rejected. */
  wake(): void {
    if (this.state !== "waiting") return;
    if (this.holdForAuth) {
      this.log.warn(this.protocol.authHoldMessage);
      return;
    }
    this.clock.clearTimeout(this.retryTimer);
    this.log.info("button pressed while offline: reconnecting now");
    this.connect();
  }

  /** The backend's session setup is done: audio may flow, pings start, the back-off starts over. */
  ready(): void {
    const ws = this.ws;
    if (!ws) return;
    this.clock.clearTimeout(this.setupTimer);
    this.state = "ready";
    this.backoff.reset();
    this.holdForAuth = false;
    this.schedulePing(ws);
  }

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
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
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
      if (ws === this.ws) this.protocol.message(ws, data as Buffer, isBinary);
    });
    ws.on("pong", () => {
      this.pongPending = false;
    });
    ws.on("error", (err) => {
      if (!this.failure) this.failure = { problem: "network", message: describeSocketError(err) };
    });
    ws.on("close", (code, reason) => this.onClose(ws, code, reason.toString("utf8")));
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

  /** Ping, then check for the pong; a dead link (Wi-Fi gone, NAT timeout) shows up here, not in TCP. */
  private schedulePing(ws: WebSocket): void {
    this.pingTimer = this.clock.setTimeout(() => {
      if (ws !== this.ws || this.state !== "ready") return;
      this.pongPending = true;
      ws.ping();
      this.pingTimer = this.clock.setTimeout(() => {
        if (this.pongPending) this.failLink(ws, "network", `no answer to WebSocket ping within ${this.settings.pingTimeoutMs} ms`);
        else this.schedulePing(ws);
      }, this.settings.pingTimeoutMs);
    }, this.settings.pingIntervalMs);
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
    this.holdForAuth = failure.problem === "auth";
    // Rejected credentials will not start working in a second: wait minutes, not a hot loop.
    const delay = this.holdForAuth ? this.settings.reconnect.authFailureMs : this.quietRetry ? 0 : this.backoff.next();
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
  }
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
