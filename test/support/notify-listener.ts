/** A stand-in for systemd's end of $NOTIFY_SOCKET: a real AF_UNIX datagram socket that records what arrives. */
import { EventEmitter } from "node:events";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createSocket, type UnixDgramSocket } from "unix-dgram";

export interface Received {
  text: string;
  /** performance.now() at receipt. */
  at: number;
}

export class NotifyListener {
  readonly messages: Received[] = [];
  private readonly events = new EventEmitter();

  private constructor(
    readonly path: string,
    private readonly socket: UnixDgramSocket,
  ) {
    socket.on("message", (buf: Buffer) => {
      const m = { text: buf.toString("utf8"), at: performance.now() };
      this.messages.push(m);
      this.events.emit("message", m);
    });
  }

  static async open(dir: string): Promise<NotifyListener> {
    const file = path.join(dir, "notify.sock");
    const socket = createSocket("unix_dgram");
    await new Promise<void>((resolve, reject) => {
      socket.once("listening", resolve);
      socket.once("error", reject);
      socket.bind(file);
    });
    return new NotifyListener(file, socket);
  }

  /** The assignments of each message, e.g. ["READY=1", "STATUS=idle"]. */
  lines(from = 0): string[][] {
    return this.messages.slice(from).map((m) => m.text.split("\n"));
  }

  /** Resolves with the first message from index `from` on (already here or future) that has the line `line`. */
  next(line: string, from = 0, timeoutMs = 10_000): Promise<Received & { index: number }> {
    const has = (m: Received): boolean => m.text.split("\n").includes(line);
    const index = this.messages.findIndex((m, i) => i >= from && has(m));
    if (index >= 0) return Promise.resolve({ ...this.messages[index]!, index });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off("message", on);
        reject(new Error(`no ${line} within ${timeoutMs} ms; received: ${JSON.stringify(this.messages.map((m) => m.text))}`));
      }, timeoutMs);
      const on = (m: Received): void => {
        if (!has(m)) return;
        clearTimeout(timer);
        this.events.off("message", on);
        resolve({ ...m, index: this.messages.indexOf(m) });
      };
      this.events.on("message", on);
    });
  }

  close(): void {
    this.socket.close();
  }
}
