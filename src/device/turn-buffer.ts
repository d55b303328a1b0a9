/**
 * The turn buffer stage: a push-to-talk turn as it was sent, so nothing said is lost to a
 * link that drops. A turn begun while the link is down is held and sent when it is back; one
 * whose link dies mid-turn is held again, from its first frame; one committed just before
 * its link died (the agent never acknowledged it) is sent again. It knows no state machine:
 * the conversation calls it for the machine's turn effects and the link's events.
 */
import type { AgentBackend } from "../agent/backend";
import type { Logger } from "../log/logger";
import type { TurnStats } from "./turn-stats";

interface Turn {
  userId: string;
  payloads: Buffer[];
}

export interface TurnBufferOptions {
  backend: Pick<AgentBackend, "beginTurn" | "appendAudio" | "commitTurn">;
  stats: Pick<TurnStats, "sent">;
  log: Logger;
}

export class TurnBuffer {
  /** A turn begun while the link was coming back: its audio waits for link.ready. */
  private held: (Turn & { committed: boolean }) | null = null;
  /** The current turn as sent, to send again on a new link if this one drops mid-turn. */
  private turn: Turn | null = null;
  /** The last committed turn, until the agent says it has it. */
  private lastCommitted: Turn | null = null;

  constructor(private readonly o: TurnBufferOptions) {}

  /** A turn is waiting for the link: its audio is kept, not sent. */
  get holding(): boolean {
    return this.held !== null;
  }

  /** A turn starts; `live`: the link is ready, so it starts on the agent too. */
  begin(userId: string, live: boolean): void {
    this.turn = { userId, payloads: [] };
    this.lastCommitted = null;
    if (live) this.o.backend.beginTurn({ userId });
    else this.held = { userId, payloads: [], committed: false };
  }

  /** One encoded frame of the turn (or of free conversation, where no turn is kept). */
  send(payload: Buffer): void {
    if (this.held) {
      this.held.payloads.push(payload);
      return;
    }
    this.turn?.payloads.push(payload);
    if (this.o.backend.appendAudio(payload)) this.o.stats.sent(payload.length);
  }

  /** The link dropped mid-turn: everything said so far goes again on the next link. */
  hold(): void {
    if (this.turn) this.held = { userId: this.turn.userId, payloads: this.turn.payloads, committed: false };
    this.turn = null;
  }

  /**
   * The user finished the turn. "held": it waits for the link, and goes with it; otherwise
   * whether the agent could be told.
   */
  commit(): "held" | boolean {
    this.lastCommitted = this.turn;
    this.turn = null;
    if (this.held) {
      this.held.committed = true;
      return "held";
    }
    return this.o.backend.commitTurn();
  }

  /** The link died as the turn ended, before the agent had it: it goes again on the new link. False: there was none. */
  resend(): boolean {
    const t = this.lastCommitted;
    this.lastCommitted = null;
    if (!t) return false;
    this.held = { userId: t.userId, payloads: t.payloads, committed: true };
    return true;
  }

  /** The turn comes to nothing. True when some of it reached the agent (the agent must drop it). */
  abort(): boolean {
    const reached = this.held === null;
    this.held = null;
    this.turn = null;
    return reached;
  }

  /** The agent has the committed turn (it said so, or it answers): nothing to send again. */
  acknowledged(): void {
    this.lastCommitted = null;
  }

  /**
   * The link is down. A held turn still being spoken waits (the state machine keeps or
   * aborts it); one already released would wait in `thinking`, which a failed reconnect ends: dropped.
   */
  linkDown(): void {
    if (this.held?.committed) this.held = null;
  }

  /** The link is back: the held turn goes out as if it had been live. */
  release(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    const { backend, log } = this.o;
    backend.beginTurn({ userId: held.userId });
    for (const p of held.payloads) this.send(p);
    if (held.committed && !backend.commitTurn()) log.warn("could not end the turn: the link to the agent is down");
    log.info({ frames: held.payloads.length, committed: held.committed }, "the link is back: sent the turn held during the reconnect");
  }
}
