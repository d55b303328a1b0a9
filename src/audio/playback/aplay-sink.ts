import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { SinkLog } from "./thread-log";
import type { PcmFormat } from "../../core/pcm";
import type { PcmSink } from "./sink";

/**
 * ALSA playback through an `aplay` child: the fallback when the native `speaker`
 * module did not build or cannot load. aplay is on every Pi.
 * Dropping queued audio means killing aplay (the sound stops at once). A new aplay is
 * started as soon as the old one has exited, not at the next reply: starting a process and
 * opening the device would otherwise add tens of milliseconds to the reply's first sound.
 * It starts playing once one period (20 ms) is queued, as the speaker path does, rather
 * than when its whole 100 ms buffer is full (aplay's default).
 */
export class AplaySink implements PcmSink {
  readonly description: string;
  private child: ChildProcessWithoutNullStreams | null = null;
  private closed = false;
  private readonly listeners: Array<(err: Error) => void> = [];

  constructor(
    private readonly device: string,
    readonly format: PcmFormat,
    private readonly log: SinkLog,
  ) {
    this.description = `ALSA playback '${device}' via aplay ${format.sampleRate} Hz ${format.channels} ch ${format.sampleFormat ?? "S16_LE"}`;
    this.ensure();
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn("aplay", [
      "-q", "-D", this.device, "-t", "raw", "-f", this.format.sampleFormat ?? "S16_LE",
      "-r", String(this.format.sampleRate), "-c", String(this.format.channels),
      "--buffer-time=100000", "--period-time=20000", "--start-delay=20000",
    ]);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString("utf8")).slice(-500);
    });
    child.stdin.on("error", () => {});
    child.on("error", (err: NodeJS.ErrnoException) => {
      stderr += err.code === "ENOENT" ? "aplay is not installed (apt install alsa-utils)" : err.message;
    });
    child.on("close", (code, signal) => {
      if (this.child === child) this.child = null;
      if (signal === "SIGKILL") {
        // Dropped: the next one is ready for the next reply (and opens the device only now
        // that the old one has let go of it: hw: devices open exclusively).
        if (!this.closed && !this.child) this.ensure();
        return;
      }
      if (code === 0) return;
      const e = new Error(
        `aplay on '${this.device}' stopped (${stderr.trim().split("\n").pop() || `exit ${code}`}); check audio.output.device (list devices with 'aplay -L')`,
      );
      for (const l of this.listeners) l(e);
    });
    this.child = child;
    return child;
  }

  write(chunk: Buffer, done: (err?: Error) => void): void {
    this.ensure().stdin.write(chunk, (err) => done(err ?? undefined));
  }

  drop(): void {
    this.child?.kill("SIGKILL");
    this.child = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once("close", () => resolve());
      child.stdin.end();
    });
    this.log.debug("aplay closed");
  }

  onError(listener: (err: Error) => void): void {
    this.listeners.push(listener);
  }
}
