declare module "node-record-lpcm16" {
  import type { ChildProcess } from "node:child_process";
  import type { Readable } from "node:stream";
  interface Recording {
    process: ChildProcess;
    stream(): Readable;
    stop(): void;
  }
  export function record(options: Record<string, unknown>): Recording;
}
