/**
 * The state stream (`{"Command":"Subscribe"}`): a snapshot, then one frame per thing the
 * device does, in the control socket's framing, until the client goes. Head units, displays
 * and home-automation bridges follow the device this way instead of polling `Status`.
 *
 * Writing never waits for a subscriber. Frames a subscriber has not taken pile up first in
 * the kernel's socket buffer, then in Node's; past a bound it is dropped (its connection
 * closed, one warning), so a client that stops reading costs neither memory nor time.
 */
import type net from "node:net";
import type { DeviceActivity } from "../core/activity";
import type { Logger } from "../log/logger";
import { encodeFrame } from "./framing";

export interface StreamLimits {
  /** Subscribers at once; more are refused with a reason. */
  subscribers: number;
  /**
   * Bytes written but not yet taken by the kernel (Node's own buffer, which starts to fill
   * once the kernel's socket buffer is full): about 400 frames beyond the kernel's few hundred.
   */
  backlogBytes: number;
}

export const STREAM_LIMITS: StreamLimits = { subscribers: 8, backlogBytes: 64 * 1024 };

export interface StateStreamOptions {
  /** The first frame's `Snapshot`: what a client needs to draw the device before any change. */
  snapshot: () => Record<string, unknown>;
  log: Logger;
  /** Applied to every frame (the daemon scrubs secrets a server's message may quote). */
  scrub?: (frame: Record<string, unknown>) => Record<string, unknown>;
  limits?: StreamLimits;
}

export class StateStream {
  private readonly subscribers = new Set<net.Socket>();
  private readonly limits: StreamLimits;

  constructor(private readonly o: StateStreamOptions) {
    this.limits = o.limits ?? STREAM_LIMITS;
  }

  get count(): number {
    return this.subscribers.size;
  }

  /** Why a new subscriber cannot be taken, or null. */
  refusal(): string | null {
    return this.subscribers.size >= this.limits.subscribers
      ? `too many subscribers (limit ${this.limits.subscribers}); close one, or poll with {"Command":"Status"}`
      : null;
  }

  /** The reply to Subscribe: its frame must be written before `add`, so the snapshot comes first. */
  snapshot(): Record<string, unknown> {
    return this.scrub({ Subscribed: true, Snapshot: this.o.snapshot() });
  }

  /** From now on `socket` gets every frame, until it closes or falls too far behind. */
  add(socket: net.Socket): void {
    this.subscribers.add(socket);
    socket.once("close", () => this.subscribers.delete(socket));
    this.o.log.debug({ subscribers: this.subscribers.size }, "state stream: subscriber added");
  }

  publish(activity: DeviceActivity): void {
    if (this.subscribers.size === 0) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(this.scrub(toFrame(activity)));
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message, kind: activity.kind }, "state stream: a frame could not be encoded; skipped");
      return;
    }
    for (const socket of this.subscribers) this.send(socket, frame);
  }

  private send(socket: net.Socket, frame: Buffer): void {
    if (socket.destroyed || !socket.writable) {
      this.subscribers.delete(socket);
      return;
    }
    if (socket.writableLength + frame.length > this.limits.backlogBytes) {
      this.subscribers.delete(socket);
      this.o.log.warn({ backlogBytes: socket.writableLength }, "state stream: dropped a subscriber that stopped reading; it may subscribe again");
      socket.destroy();
      return;
    }
    socket.write(frame);
  }

  private scrub(frame: Record<string, unknown>): Record<string, unknown> {
    return this.o.scrub ? this.o.scrub(frame) : frame;
  }
}

/** One frame per activity, PascalCase like every control reply; `At` is when the daemon saw it. */
export function toFrame(a: DeviceActivity, at = new Date()): Record<string, unknown> {
  const At = at.toISOString();
  switch (a.kind) {
    case "state":
      return { Event: "State", State: a.state, From: a.from, Cause: a.cause, Mode: a.mode, ...(a.user !== undefined ? { User: a.user } : {}), At };
    case "link":
      return {
        Event: "Link",
        State: a.state,
        ...(a.problem !== undefined ? { Problem: a.problem } : {}),
        ...(a.message !== undefined ? { Message: a.message } : {}),
        ...(a.retryInMs !== undefined ? { RetryInMs: a.retryInMs } : {}),
        At,
      };
    case "agent":
      return {
        Event: "Agent",
        Reachable: a.reachable,
        Answering: a.answering,
        ConsecutiveFailures: a.failures,
        ...(a.lastFailure !== undefined ? { LastFailure: a.lastFailure } : {}),
        At,
      };
    case "transcript":
      return { Event: "Transcript", Text: a.text, At };
    case "reply":
      return { Event: "Reply", Text: a.text, At };
    case "attachment":
      return { Event: "Attachment", Content: a.content, ...(a.user !== undefined ? { User: a.user } : {}), At };
    case "notice":
      return a.level === "error" ? { Event: "Error", Message: a.message, At } : { Event: "Notice", Level: a.level, Message: a.message, At };
    case "volume":
      return { Event: "Volume", Volume: a.percent, At };
    case "profile":
      return {
        Event: "Profile",
        Status: a.event,
        Name: a.name,
        Title: a.title,
        ...(a.from !== undefined ? { From: a.from } : {}),
        ...(a.message !== undefined ? { Message: a.message } : {}),
        At,
      };
    case "announcement":
      return {
        Event: "Announcement",
        Id: a.id,
        Status: a.event,
        Text: a.text,
        Source: a.source,
        ...(a.voice !== undefined ? { Voice: a.voice } : {}),
        ...(a.heard !== undefined ? { Heard: a.heard } : {}),
        ...(a.reason !== undefined ? { Reason: a.reason } : {}),
        At,
      };
  }
}
