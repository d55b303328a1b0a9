/**
 * The link monitor: what the device knows of its link to the agent, for `talkbox status`
 * and the state stream, and whether audio may flow. A link is usable only once its
 * negotiated formats are the ones the device encodes and decodes.
 */
import type { LinkProblem } from "../agent/events";
import type { DeviceActivity } from "../core/activity";
import { formatName, type AudioFormat } from "../core/media";
import type { Logger } from "../log/logger";

export interface LinkStatus {
  state: "connecting" | "ready" | "down";
  since: string;
  problem?: string;
  message?: string;
  retryInMs?: number | null;
  input?: AudioFormat;
  output?: AudioFormat;
}

export interface LinkMonitorOptions {
  /** The formats the device's codecs were built for (audio.uplink_* / downlink_*). */
  wire: { uplink: AudioFormat; downlink: AudioFormat };
  log: Logger;
  report(activity: DeviceActivity): void;
  /** Wall-clock time for `since` (tests pass a fixed one). */
  now?: () => Date;
}

export class LinkMonitor {
  private current: LinkStatus;
  private ok = false;

  constructor(private readonly o: LinkMonitorOptions) {
    this.current = { state: "connecting", since: this.now() };
  }

  get status(): LinkStatus {
    return this.current;
  }

  /** Audio may flow. */
  get usable(): boolean {
    return this.ok;
  }

  /** A connect attempt; while down, the status stays down (with why) until one succeeds. */
  connecting(): void {
    if (this.current.state !== "down") this.set({ state: "connecting" });
  }

  down(problem: LinkProblem, message: string, retryInMs: number | null): void {
    const retry = retryInMs === null ? "not retrying" : `retrying in ${(retryInMs / 1000).toFixed(1)} s`;
    this.o.log.warn({ problem }, `agent link down: ${message}; ${retry}`);
    this.ok = false;
    this.set({ state: "down", problem, message, retryInMs });
  }

  /** The agent's session is set up: true when its formats are the device's, and audio may flow. */
  ready(input: AudioFormat, output: AudioFormat): boolean {
    const { wire, log } = this.o;
    const mismatch = [
      sameFormat(input, wire.uplink) ? null : `uplink ${formatName(input)} instead of ${formatName(wire.uplink)}`,
      sameFormat(output, wire.downlink) ? null : `downlink ${formatName(output)} instead of ${formatName(wire.downlink)}`,
    ].filter(Boolean);
    if (mismatch.length > 0) {
      const message = `the agent set ${mismatch.join(" and ")}; set audio.uplink_codec/uplink_rate and audio.downlink_codec/downlink_rate to what it accepts`;
      log.error(message);
      this.set({ state: "down", problem: "protocol", message });
      return false;
    }
    this.ok = true;
    this.set({ state: "ready", input, output });
    log.info({ input: formatName(input), output: formatName(output) }, "agent link ready");
    return true;
  }

  private set(l: Omit<LinkStatus, "since">): void {
    this.current = { ...l, since: this.now() };
    const { state, problem, message, retryInMs } = l;
    this.o.report({ kind: "link", state, ...(problem ? { problem } : {}), ...(message ? { message } : {}), ...(retryInMs !== undefined ? { retryInMs } : {}) });
  }

  private now(): string {
    return (this.o.now?.() ?? new Date()).toISOString();
  }
}

function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.codec === b.codec && a.sampleRate === b.sampleRate;
}
