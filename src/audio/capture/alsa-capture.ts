import { EventEmitter } from "node:events";
import path from "node:path";
import { record } from "node-record-lpcm16";
import type { ChildProcess } from "node:child_process";
import type { Logger } from "../../log/logger";
import { Backoff } from "../../net/backoff";
import type { PcmFormat } from "../pcm";
import type { CaptureSource } from "./source";

const RECORDER = path.join(__dirname, "arecord-recorder.js");

/** The mic through ALSA's arecord, via node-record-lpcm16; restarts arecord if it dies. */
export class AlsaCapture extends EventEmitter implements CaptureSource {
  readonly description: string;
  private child: ChildProcess | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });

  constructor(
    private readonly device: string,
    readonly format: PcmFormat,
    private readonly log: Logger,
    private period: number,
  ) {
    super();
    this.description = `ALSA capture '${device}' ${format.sampleRate} Hz ${format.channels} ch ${format.sampleFormat ?? "S16_LE"}`;
  }

  start(): void {
    this.stopping = false;
    const rec = record({
      recorder: RECORDER,
      device: this.device,
      sampleRate: this.format.sampleRate,
      channels: this.format.channels,
      format: this.format.sampleFormat ?? "S16_LE",
      periodUs: this.period * 1000,
      bufferUs: this.period * 10 * 1000,
    });
    const child = rec.process as ChildProcess;
    this.child = child;
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString("utf8")).slice(-500);
    });
    const stream = rec.stream();
    let gotData = false;
    stream.on("data", (chunk: Buffer) => {
      if (!gotData) {
        gotData = true;
        this.backoff.reset();
      }
      this.emit("data", chunk);
    });
    // node-record-lpcm16 emits a string error whenever arecord exits non-zero,
    // including when we stop it; the exit handler below reports real failures.
    stream.on("error", () => {});
    child.on("error", (err: NodeJS.ErrnoException) => {
      stderr += err.code === "ENOENT" ? "arecord is not installed (apt install alsa-utils)" : err.message;
    });
    child.on("close", (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.stopping) return;
      const why = stderr.trim().split("\n").pop() || `exit ${code ?? signal}`;
      const delay = this.backoff.next();
      this.emit(
        "error",
        new Error(
          `microphone '${this.device}' stopped (${why}); retrying in ${(delay / 1000).toFixed(1)} s. ` +
            `Check audio.input.device (list devices with 'arecord -L') and that the talkbox user is in the 'audio' group`,
        ),
      );
      this.restartTimer = setTimeout(() => this.start(), delay);
    });
    this.log.debug({ device: this.device, rate: this.format.sampleRate }, "capture started");
  }

  get periodMs(): number {
    return this.period;
  }

  setPeriod(ms: number): void {
    if (ms === this.period) return;
    this.period = ms;
    const child = this.child;
    if (!child) return;
    // The old arecord's own close handler sees it is no longer the current child and stays
    // quiet. The new one starts once the old has let go: hw: and plughw: devices open
    // exclusively, and a second arecord would fail with "Device or resource busy".
    this.child = null;
    child.once("close", () => {
      if (this.stopping || this.child !== null) return;
      this.log.debug({ periodMs: this.period }, "capture period changed; restarting arecord");
      this.start();
    });
    child.kill("SIGTERM");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once("close", () => resolve());
      child.kill("SIGTERM");
    });
  }
}
