/**
 * An external button/LED panel on a serial port (a microcontroller in a car
 * dash, say), speaking the line protocol in firmware/panel/PROTOCOL.md. Buttons
 * come out as `down`/`up` events; the device state goes in with setState() and
 * is shown on the panel's LED. The panel may be unplugged and plugged back at
 * any time: a held button is released when it goes, and the LED state is sent
 * again when it comes back.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "../../log/logger";
import { realClock, type Clock, type ClockTimer } from "../../core/clock";
import type { DeviceState } from "../../core/device-state";
import { BadLineLog } from "./bad-line-log";
import { helloLine, ledLine, PANEL_MAX_LINE, parsePanelLine, PING_LINE } from "./panel-protocol";
import { ReconnectingPort } from "./reconnecting-port";
import type { BackoffOptions } from "../../core/backoff";
import { packageVersion } from "../../core/version";

export interface SerialPanelOptions {
  path: string;
  /** Default 115200. */
  baudRate?: number;
  /** When given, buttons with other names are reported and ignored. Matched case-insensitively. */
  buttonNames?: readonly string[];
  logger: Logger;
  /** Sent in `HELLO talkbox <version>`; default: this package's version. */
  version?: string;
  /** How often to send PING, in ms; 0 turns the keep-alive off. Default 3000. */
  pingIntervalMs?: number;
  /** A PING not answered by PONG within this many ms means the panel is gone. Default 2000. */
  pongTimeoutMs?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
}

export type SerialPanelEvents = {
  down: [name: string];
  up: [name: string];
  /** The panel introduced itself (at boot, or after the port opened). */
  hello: [info: { firmware: string; version: string }];
  /** The port is open; the panel may still be booting. */
  connected: [];
  /** The panel is gone (unplugged, or it stopped answering PING); reconnecting. */
  disconnected: [reason: string];
  /** A PONG arrived for the PING sent `roundTripMs` ago. */
  pong: [roundTripMs: number];
};

export class SerialPanel extends EventEmitter<SerialPanelEvents> {
  private current: DeviceState = "connecting";
  private readonly held = new Set<string>();
  private readonly port: ReconnectingPort;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly names: ReadonlySet<string> | null;
  private readonly badLines: BadLineLog;
  private readonly version: string;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private pingTimer: ClockTimer | undefined;
  private pongTimer: ClockTimer | undefined;
  private pingSentAt = 0;
  /** Says "no PONG" at warn level once until the panel answers again. */
  private silenceReported = false;

  constructor(opts: SerialPanelOptions) {
    super();
    const baudRate = opts.baudRate ?? 115200;
    this.log = opts.logger;
    this.clock = opts.clock ?? realClock;
    this.names = opts.buttonNames ? new Set(opts.buttonNames.map((n) => n.toLowerCase())) : null;
    this.version = opts.version ?? packageVersion();
    this.pingIntervalMs = opts.pingIntervalMs ?? 3000;
    this.pongTimeoutMs = opts.pongTimeoutMs ?? 2000;
    this.badLines = new BadLineLog(this.log, `serial panel ${opts.path}`, `check the panel firmware and that it runs at ${baudRate} baud`);
    this.port = new ReconnectingPort({
      path: opts.path,
      baudRate,
      label: "serial panel",
      logger: this.log,
      maxLineLength: PANEL_MAX_LINE,
      backoff: opts.backoff,
      clock: this.clock,
    });
    this.port.on("open", () => this.onOpen());
    this.port.on("line", (line) => this.onLine(line));
    this.port.on("overlong", (bytes) => this.badLines.report(`line of ${bytes}+ bytes is longer than ${PANEL_MAX_LINE}`));
    this.port.on("down", (reason) => this.onDown(reason));
  }

  get path(): string {
    return this.port.path;
  }

  get connected(): boolean {
    return this.port.isOpen;
  }

  get state(): DeviceState {
    return this.current;
  }

  /** Buttons the panel reports as held right now. */
  get heldButtons(): string[] {
    return [...this.held];
  }

  start(): void {
    this.port.start();
  }

  /** Shows `state` on the panel now, and again whenever the panel comes back. */
  setState(state: DeviceState): void {
    this.current = state;
    this.port.write(ledLine(state));
  }

  /** Stops for good. Held buttons are not released: the owner is shutting down. */
  async close(): Promise<void> {
    this.stopKeepAlive();
    await this.port.close();
  }

  private onOpen(): void {
    this.badLines.reset();
    this.port.write(helloLine(this.version));
    this.port.write(ledLine(this.current));
    this.emit("connected");
    this.scheduleKeepAlive();
  }

  private onDown(reason: string): void {
    this.stopKeepAlive();
    this.releaseAll(`gone (${reason})`);
    this.emit("disconnected", reason);
  }

  private onLine(line: string): void {
    const msg = parsePanelLine(line);
    switch (msg.type) {
      case "empty":
        return;
      case "invalid":
        this.badLines.report(msg.reason, line);
        return;
      case "pong":
        if (this.pongTimer === undefined) return;
        this.clock.clearTimeout(this.pongTimer);
        this.pongTimer = undefined;
        this.silenceReported = false;
        this.emit("pong", this.clock.now() - this.pingSentAt);
        return;
      case "hello":
        this.log.info(`serial panel ${this.path}: firmware ${msg.firmware} ${msg.version}`);
        // A HELLO after the port opened means the panel rebooted: it forgot its LED and any held button.
        this.releaseAll("restarted");
        this.port.write(ledLine(this.current));
        this.emit("hello", { firmware: msg.firmware, version: msg.version });
        return;
      case "button":
        this.onButton(msg.name, msg.action, line);
        return;
    }
  }

  private onButton(name: string, action: "down" | "up", line: string): void {
    if (this.names && !this.names.has(name)) {
      this.badLines.report(`unknown button "${name}" (configured: ${[...this.names].join(", ")})`, line);
      return;
    }
    if (action === "down") {
      if (this.held.has(name)) return;
      this.held.add(name);
      this.emit("down", name);
    } else {
      if (!this.held.delete(name)) return;
      this.emit("up", name);
    }
  }

  private releaseAll(why: string): void {
    for (const name of [...this.held]) {
      this.held.delete(name);
      this.log.info(`serial panel ${this.path} ${why} while ${name} was held; releasing ${name}`);
      this.emit("up", name);
    }
  }

  private scheduleKeepAlive(): void {
    if (this.pingIntervalMs <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => this.ping(), this.pingIntervalMs);
  }

  private ping(): void {
    this.pingTimer = undefined;
    if (!this.port.write(PING_LINE)) return;
    if (this.pongTimer === undefined) {
      this.pingSentAt = this.clock.now();
      this.pongTimer = this.clock.setTimeout(() => this.noPong(), this.pongTimeoutMs);
    }
    this.scheduleKeepAlive();
  }

  private noPong(): void {
    this.pongTimer = undefined;
    const text = `serial panel ${this.path}: no PONG within ${this.pongTimeoutMs} ms; treating the panel as gone and reconnecting`;
    if (this.silenceReported) this.log.debug(text);
    else this.log.warn(text);
    this.silenceReported = true;
    this.port.reopen("no answer to PING");
  }

  private stopKeepAlive(): void {
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
  }
}
