/**
 * A GPS receiver on a serial port (NMEA 0183). Keeps the latest position and
 * hands it out in the shape Coze's `chat_config.extra_params` wants, as long as
 * it is fresh. Survives the receiver being unplugged like the button panel does.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "../../log/logger";
import { realClock, type Clock } from "../../core/clock";
import { BadLineLog } from "./bad-line-log";
import { parseNmea, type PositionSentence } from "./nmea";
import { ReconnectingPort } from "./reconnecting-port";
import type { BackoffOptions } from "../../core/backoff";

export interface GpsReaderOptions {
  path: string;
  /** Default 9600, what most receivers (u-blox, MediaTek) start at. */
  baudRate?: number;
  logger: Logger;
  /** A fix older than this is not handed out. Default 10000 ms. */
  maxAgeMs?: number;
  backoff?: BackoffOptions;
  /** Time source for fix ages (and reconnect timers). */
  clock?: Clock;
}

export interface GpsFix {
  latitude: number;
  longitude: number;
  /** clock.now() when the sentence arrived. */
  at: number;
  sentence: PositionSentence;
}

/** `chat_config.extra_params` location: decimal degrees as strings. */
export interface CozeLocation {
  latitude: string;
  longitude: string;
}

export type GpsReaderEvents = {
  fix: [fix: GpsFix];
  connected: [];
  /** The receiver is gone; reconnecting. The last fix stays until it is stale. */
  disconnected: [reason: string];
};

/** NMEA allows 82 characters; proprietary sentences (u-blox PUBX) run longer. */
const GPS_MAX_LINE = 256;

export class GpsReader extends EventEmitter<GpsReaderEvents> {
  private last: GpsFix | null = null;
  private readonly port: ReconnectingPort;
  private readonly clock: Clock;
  private readonly maxAgeMs: number;
  private readonly badLines: BadLineLog;
  private readonly log: Logger;

  constructor(opts: GpsReaderOptions) {
    super();
    const baudRate = opts.baudRate ?? 9600;
    this.clock = opts.clock ?? realClock;
    this.maxAgeMs = opts.maxAgeMs ?? 10_000;
    this.log = opts.logger;
    this.badLines = new BadLineLog(this.log, `GPS ${opts.path}`, `check that the receiver runs at ${baudRate} baud`);
    this.port = new ReconnectingPort({
      path: opts.path,
      baudRate,
      label: "GPS",
      logger: this.log,
      maxLineLength: GPS_MAX_LINE,
      backoff: opts.backoff,
      clock: this.clock,
    });
    this.port.on("open", () => {
      this.badLines.reset();
      this.emit("connected");
    });
    this.port.on("down", (reason) => this.emit("disconnected", reason));
    this.port.on("line", (line) => this.onLine(line));
    this.port.on("overlong", (bytes) => this.badLines.report(`line of ${bytes}+ bytes is longer than ${GPS_MAX_LINE}`));
  }

  get connected(): boolean {
    return this.port.isOpen;
  }

  /** The latest fix, however old. */
  get lastFix(): GpsFix | null {
    return this.last;
  }

  start(): void {
    this.port.start();
  }

  async close(): Promise<void> {
    await this.port.close();
  }

  /** The latest position for `extra_params`, or null when there is none younger than maxAgeMs. */
  location(): CozeLocation | null {
    const fix = this.last;
    if (!fix || this.clock.now() - fix.at > this.maxAgeMs) return null;
    return { latitude: formatDegrees(fix.latitude), longitude: formatDegrees(fix.longitude) };
  }

  private onLine(line: string): void {
    const parsed = parseNmea(line);
    switch (parsed.kind) {
      case "invalid":
        this.badLines.report(parsed.reason, line);
        return;
      case "ignored":
      case "no-fix":
        // No fix leaves the last one to age out: a tunnel should not wipe a position seconds old.
        return;
      case "position": {
        if (this.last === null) this.log.info(`GPS ${this.port.path}: position fix acquired`);
        const fix: GpsFix = { latitude: parsed.latitude, longitude: parsed.longitude, at: this.clock.now(), sentence: parsed.sentence };
        this.last = fix;
        this.emit("fix", fix);
        return;
      }
    }
  }
}

/** Decimal degrees with 7 decimals (about 1 cm), e.g. "39.9800718". */
export function formatDegrees(deg: number): string {
  const s = deg.toFixed(7);
  return s === "-0.0000000" ? "0.0000000" : s;
}
