import { EventEmitter } from "node:events";
import path from "node:path";
import { record } from "node-record-lpcm16";
import type { ChildProcess } from "node:child_process";
import type { Logger } from "../../log/logger";
import { Backoff } from "../../core/backoff";
import { bytesPerMs, type PcmFormat } from "../../core/pcm";
import type { CaptureSource } from "./source";
import { PipeGate } from "./pipe-gate";

const RECORDER = path.join(__dirname, "arecord-recorder.js");
/** Periods without audio before the mic counts as hung; never less than MIN_STALL_MS (arecord's start-up). */
const STALL_PERIODS = 8;
const MIN_STALL_MS = 500;
const FIRST_DATA_MS = 2000;
const STOP_GRACE_MS = 1000;
/** The slowest the watchdog (and, while the mic is not needed, the emptying of its pipe) ticks. */
const TICK_MS = 250;
/** What arecord's output can hold unread, at the least (a Linux pipe; a socket pair holds more). */
const PIPE_BYTES = 64 * 1024;

/** The mic through ALSA's arecord, via node-record-lpcm16; restarts arecord if it dies. */
export class AlsaCapture extends EventEmitter implements CaptureSource {
  readonly description: string;
  private child: ChildProcess | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  /** When the current arecord last delivered audio; the watchdog compares against it. */
  private lastDataAt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** The current arecord was killed by the watchdog: restart at once, the user was told. */
  private stalled = false;
  /** The current arecord has delivered audio: before that, it gets FIRST_DATA_MS to open the device. */
  private flowing = false;
  /** Someone needs the audio (need()); while not, arecord runs but its output is not read. */
  private wanted = true;
  /** The current arecord's output, stopped while the audio is not needed (pipe-gate.ts). */
  private gate: PipeGate | null = null;
  /** Needed, but may wait this long (need()'s holdMs): read by `holdTimer`, not as it comes. */
  private holdMs = 0;
  private holdTimer: NodeJS.Timeout | undefined;

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
    const gate = new PipeGate(stream);
    this.gate = gate;
    if (!this.wanted || this.holding) gate.close();
    let gotData = false;
    this.lastDataAt = performance.now();
    this.flowing = false;
    this.armWatchdog();
    stream.on("data", (chunk: Buffer) => {
      if (this.child !== child) return;
      this.heard();
      if (!gotData) {
        gotData = true;
        this.backoff.reset();
      }
      if (this.wanted) this.emit("data", chunk);
    });
    // node-record-lpcm16 emits a string error whenever arecord exits non-zero,
    // including when we stop it; the exit handler below reports real failures.
    stream.on("error", () => {});
    child.on("error", (err: NodeJS.ErrnoException) => {
      stderr += err.code === "ENOENT" ? "arecord is not installed (apt install alsa-utils)" : err.message;
    });
    // A stopped stream never reads its end, and 'close' waits for it: once arecord has gone
    // (stopped, restarted or dead), its output is read to the end, unheard.
    child.once("exit", () => {
      if (this.gate === gate) this.gate = null;
      gate.open();
    });
    child.on("close", (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.stopping) return;
      if (this.stalled) {
        this.stalled = false;
        this.start();
        return;
      }
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

  /**
   * Whether the audio is needed now. While it is not, arecord keeps the device open (a press
   * is heard from its first period, and the watchdog still sees a mic that stops) but the
   * main thread no longer wakes for every period: the audio waits unread and is dropped a few
   * times a second. When it is needed again, what waited is dropped first, so the audio
   * delivered starts at about this moment (up to one period earlier, as at any start).
   */
  need(on: boolean, o: { holdMs?: number } = {}): void {
    const holdMs = on ? Math.max(0, o.holdMs ?? 0) : 0;
    if (on === this.wanted && holdMs === this.holdMs) return;
    const was = this.wanted;
    this.wanted = on;
    this.holdMs = holdMs;
    clearInterval(this.holdTimer);
    this.holdTimer = undefined;
    if (!on) {
      this.gate?.close();
      return;
    }
    if (!this.holding) {
      this.gate?.open();
      return;
    }
    // Held: reading stays stopped; a timer takes what waits, holdMs at a time. What waited
    // before is dropped, unless the audio was already needed (it is then delivered).
    const gate = this.gate;
    if (gate) {
      if (was) this.catchUp();
      gate.close();
      if (!was) gate.empty();
    }
    this.holdTimer = setInterval(() => this.catchUp(), this.holdMs);
  }

  /** Held audio (need()'s holdMs) is delivered now; otherwise it was delivered as it came. */
  catchUp(): void {
    if (!this.wanted || !this.holding) return;
    const chunk = this.gate?.take();
    if (!chunk || this.child === null) return;
    this.heard();
    this.emit("data", chunk);
  }

  /** Audio is needed, but read a few periods at a time. Only where reading can be stopped (pipe-gate.ts). */
  private get holding(): boolean {
    return this.wanted && this.holdMs > this.period && (this.gate?.supported ?? false);
  }

  private heard(): void {
    this.lastDataAt = performance.now();
    this.flowing = true;
  }

  /** arecord alive but silent (stopped, a wedged driver): how long before it is restarted. */
  get stallMs(): number {
    return Math.max(STALL_PERIODS * this.period, MIN_STALL_MS);
  }

  /**
   * A mic that delivers nothing while arecord lives goes unnoticed otherwise: every
   * press would be "too short to hear anything". No audio for stallMs → kill and restart.
   */
  private armWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => {
      const child = this.child;
      if (!child || this.stopping || this.stalled) return;
      if (!this.wanted && (this.gate?.empty() ?? 0) > 0) this.heard();
      const silentMs = performance.now() - this.lastDataAt;
      if (silentMs < (this.flowing ? this.stallMs : FIRST_DATA_MS)) return;
      this.stalled = true;
      this.log.warn(`the microphone delivered nothing for ${Math.round(silentMs)} ms though arecord is running; restarting it (if this repeats, check audio.input.device and the card)`);
      // SIGKILL: a stopped process does not act on SIGTERM until it is continued.
      child.kill("SIGKILL");
    }, this.tickMs);
    this.watchdog.unref();
  }

  /**
   * How often the watchdog looks, which is also how often an unneeded mic's audio is thrown
   * away: a few times within stallMs, and often enough that arecord's output never fills
   * (it would block, the device would overrun). At most a period apart: never more wake-ups
   * than reading every period would cost.
   */
  private get tickMs(): number {
    const fillMs = PIPE_BYTES / bytesPerMs(this.format);
    return Math.max(this.period, Math.min(TICK_MS, this.stallMs / 2, fillMs / 4));
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
    clearInterval(this.holdTimer);
    this.holdTimer = undefined;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      // A stopped or wedged arecord ignores SIGTERM: shutdown must not wait on it.
      const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      child.once("close", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}
