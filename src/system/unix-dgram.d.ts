/** The parts of unix-dgram (a native addon; it ships no types) that the systemd notifier and its tests use. */
declare module "unix-dgram" {
  import type { EventEmitter } from "node:events";

  /** A failed call: `code` is the negative errno (e.g. -111 for ECONNREFUSED), or 1 for congestion (EAGAIN). */
  export interface UnixDgramError extends Error {
    code: number;
    errno?: number;
    syscall?: string;
  }

  export interface UnixDgramSocket extends EventEmitter {
    /** Binds to a filesystem path; emits 'listening' or 'error'. */
    bind(path: string): void;
    /** Sends one datagram to `path`; the callback runs before send returns. */
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: UnixDgramError) => void): void;
    close(): void;
    on(event: "message", listener: (msg: Buffer, rinfo: { size: number; path?: string }) => void): this;
    on(event: "error", listener: (err: UnixDgramError) => void): this;
    on(event: "listening" | "writable", listener: () => void): this;
    once(event: "listening", listener: () => void): this;
    once(event: "error", listener: (err: UnixDgramError) => void): this;
  }

  export function createSocket(type: "unix_dgram", listener?: (msg: Buffer) => void): UnixDgramSocket;
}
