/**
 * A server may close a session after a while without a client message (the Volcengine
 * gateway: 120 s), and a WebSocket ping is not one. The keepalive is
 * `input_audio_buffer.clear`, where the server documents it (OpenAI): it changes nothing
 * when no turn is streaming, needs no audio format, and starts no response. While a turn
 * streams, appends keep the link busy, and a clear would throw the turn away, so none is
 * sent then. The gateway documents no such harmless message: there it is off (everyMs 0),
 * and the link reconnects at once when the gateway closes an idle session.
 */
import type { Logger } from "../../log/logger";
import type { Clock, ClockTimer } from "../../core/clock";

export interface KeepaliveOptions {
  /** A clear after this long without a client message; 0: none. */
  everyMs: number;
  clock: Clock;
  log: Logger;
  /** No turn is streaming: a clear throws nothing away. */
  betweenTurns: () => boolean;
  sendClear: () => void;
}

export class Keepalive {
  private lastSentAt = 0;
  private timer: ClockTimer | undefined;

  constructor(private readonly o: KeepaliveOptions) {}

  /** A client message went out. */
  sent(): void {
    this.lastSentAt = this.o.clock.now();
  }

  /** How long no client message went out. */
  get silentMs(): number {
    return this.o.clock.now() - this.lastSentAt;
  }

  /** The session is set up: from now on it must not idle out. */
  start(): void {
    if (this.o.everyMs > 0) this.schedule(this.o.everyMs);
  }

  /** The link is gone (the next one starts its own). */
  stop(): void {
    this.o.clock.clearTimeout(this.timer);
  }

  /** What to tell the user when the gateway closed the session for silence. */
  idleMessage(silentMs: number): string {
    const why = `the agent closed the session after ${Math.round(silentMs / 1000)} s without a client message`;
    return this.o.everyMs > 0 ? `${why} despite the keepalive; reconnecting now` : `${why}; reconnecting now`;
  }

  private schedule(inMs: number): void {
    this.timer = this.o.clock.setTimeout(() => {
      const every = this.o.everyMs;
      const quietFor = this.silentMs;
      if (quietFor < every) return this.schedule(every - quietFor);
      if (this.o.betweenTurns()) {
        this.o.log.debug("keepalive: input_audio_buffer.clear");
        this.o.sendClear();
      }
      this.schedule(every);
    }, inMs);
  }
}
