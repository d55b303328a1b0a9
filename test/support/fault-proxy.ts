/**
 * A misbehaving agent for the fault suite: a WebSocket proxy on loopback in front
 * of the emulator (either protocol), which passes every frame through unless the
 * test's script says otherwise. The emulator stays the faithful service; the proxy
 * is the cloud having a bad day — it drops, stalls, rewrites, swallows, injects,
 * bursts and closes, per connection.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { EventEmitter, once } from "node:events";
import WebSocket, { WebSocketServer, type RawData } from "ws";

/** What to do with one frame: pass it, drop it, or send these frames in its place. */
export type Verdict = "pass" | "drop" | { replace: Array<string | Buffer> };

export type FrameHook = (conn: ProxyConn, text: string, isBinary: boolean) => Verdict;

export class ProxyConn {
  /** Client → server frames as text, in order (what the daemon sent). */
  readonly fromClient: string[] = [];
  readonly closed: Promise<void>;
  private stalled = false;

  constructor(
    readonly index: number,
    readonly client: WebSocket,
    readonly upstream: WebSocket,
    private readonly clientSocket: Socket,
  ) {
    this.closed = new Promise((resolve) => client.once("close", () => resolve()));
  }

  /** A frame to the daemon as if the server sent it. */
  send(data: string | Buffer, binary = Buffer.isBuffer(data)): void {
    if (this.client.readyState === WebSocket.OPEN) this.client.send(data, { binary });
  }

  /** A closing handshake from the "server" with this code. */
  close(code: number, reason = ""): void {
    this.client.close(code, reason);
    this.upstream.terminate();
  }

  /** The network goes: no close frame, no FIN seen by the daemon in time. */
  drop(): void {
    this.client.terminate();
    this.upstream.terminate();
  }

  /** TCP stays open and nothing moves: no frames, no pongs (a dead NAT entry, a stuck server). */
  stall(): void {
    this.stalled = true;
    this.clientSocket.pause();
  }

  get isStalled(): boolean {
    return this.stalled;
  }
}

export class FaultProxy {
  readonly conns: ProxyConn[] = [];
  /** Frames from the server (emulator) to the daemon. */
  onServer: FrameHook | null = null;
  /** Frames from the daemon to the server. */
  onClient: FrameHook | null = null;
  readonly events = new EventEmitter();

  private constructor(
    private readonly server: http.Server,
    private readonly upstreamOrigin: string,
    readonly origin: string,
  ) {}

  /** A proxy in front of the server at `upstream` (any ws:// URL of it; only the origin is used). */
  static async start(upstream: string): Promise<FaultProxy> {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = new FaultProxy(server, new URL(upstream).origin, origin);
    server.on("upgrade", (req, socket, head) => proxy.upgrade(wss, req, socket as Socket, head));
    return proxy;
  }

  /** `url` (the emulator's) with the proxy's origin. */
  url(url: string): string {
    const u = new URL(url);
    return `${this.origin}${u.pathname}${u.search}`;
  }

  /** The n-th connection (1-based), once it is there. */
  async conn(n: number, timeoutMs = 10_000): Promise<ProxyConn> {
    while (this.conns.length < n) await once(this.events, "conn", { signal: AbortSignal.timeout(timeoutMs) });
    return this.conns[n - 1]!;
  }

  get latest(): ProxyConn {
    const c = this.conns.at(-1);
    if (!c) throw new Error("no connection through the proxy yet");
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(wss: WebSocketServer, req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const headers: Record<string, string> = {};
    for (const h of ["authorization", "openai-beta", "x-conversation-id"]) {
      const v = req.headers[h];
      if (typeof v === "string") headers[h] = v;
    }
    const upstream = new WebSocket(`${this.upstreamOrigin}${req.url ?? "/"}`, { headers, perMessageDeflate: false });
    upstream.on("error", () => undefined);
    wss.handleUpgrade(req, socket, head, (client) => {
      const conn = new ProxyConn(this.conns.length, client, upstream, socket);
      this.conns.push(conn);
      const early: Array<[RawData, boolean]> = [];
      client.on("error", () => undefined);
      client.on("message", (data, isBinary) => {
        const text = String(data);
        conn.fromClient.push(text);
        this.events.emit("client-frame", conn, text);
        const verdict = this.onClient?.(conn, text, isBinary) ?? "pass";
        for (const frame of framesFor(verdict, data)) {
          if (upstream.readyState === WebSocket.OPEN) upstream.send(frame, { binary: isBinary });
          else early.push([frame as RawData, isBinary]);
        }
      });
      upstream.on("open", () => {
        for (const [d, b] of early.splice(0)) upstream.send(d as Buffer, { binary: b });
      });
      upstream.on("message", (data, isBinary) => {
        if (conn.isStalled || client.readyState !== WebSocket.OPEN) return;
        const verdict = this.onServer?.(conn, String(data), isBinary) ?? "pass";
        for (const frame of framesFor(verdict, data)) client.send(frame, { binary: Buffer.isBuffer(frame) && isBinary });
      });
      upstream.on("close", (code, reason) => {
        if (client.readyState === WebSocket.OPEN && !conn.isStalled) client.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      });
      client.on("close", () => upstream.terminate());
      this.events.emit("conn", conn);
    });
  }
}

function framesFor(verdict: Verdict, original: RawData): Array<string | Buffer> {
  if (verdict === "pass") return [original as Buffer];
  if (verdict === "drop") return [];
  return verdict.replace;
}
