/**
 * Typed questions (`{"Command":"Text"}`, `talkbox text`): a user turn as text, skipping speech
 * recognition, answered by voice like any other. The machine decides whether one goes now
 * (text.turn → text.send / text.refuse); this holds the texts and hands them to the backend.
 */
import type { AgentBackend } from "../agent/backend";
import type { Logger } from "../log/logger";
import type { ReplyPlayer } from "./reply-player";
import type { DeviceInput } from "./state-machine";
import type { TurnStats } from "./turn-stats";

export interface TextTurnResult {
  ok: boolean;
  /** Why it was not sent. */
  reason?: string;
}

export class TextTurns {
  private readonly texts = new Map<string, string>();
  private seq = 0;
  private requesting: string | null = null;
  private refused: string | null = null;

  constructor(
    private readonly o: {
      backend: Pick<AgentBackend, "sendText">;
      replies: Pick<ReplyPlayer, "turnCommitted">;
      stats: Pick<TurnStats, "begin">;
      log: Logger;
      dispatch(input: DeviceInput): void;
    },
  ) {}

  /** Asks the agent `text` as `userId`; sent now or refused (with the reason), as the machine decides. */
  request(text: string, userId: string): TextTurnResult {
    if (!this.o.backend.sendText) return { ok: false, reason: "this agent backend takes no typed questions" };
    const id = `text-${++this.seq}`;
    // Decided at once unless the machine is mid-input; the few that wait are kept, no more.
    if (this.texts.size >= 8) return { ok: false, reason: "too many typed questions at once; send one at a time" };
    this.texts.set(id, text);
    this.requesting = id;
    this.refused = null;
    this.o.dispatch({ type: "text.turn", id, userId });
    const reason = this.refused;
    this.requesting = null;
    return reason === null ? { ok: true } : { ok: false, reason };
  }

  /** The machine's text.send. */
  send(id: string, userId: string): void {
    const text = this.texts.get(id);
    this.texts.delete(id);
    if (text === undefined) return;
    this.o.stats.begin(userId);
    // A barge-in just before marks the next reply stale unless a turn went out: this one did.
    this.o.replies.turnCommitted();
    this.o.log.info({ user: userId, chars: [...text].length }, `typed question: ${text}`);
    if (this.o.backend.sendText!(text, { userId })) return;
    const reason = "the typed question could not be sent: the link to the agent is down, or its protocol takes no text (the Volcengine gateway, the voice API v1)";
    if (id === this.requesting) this.refused = reason;
    // After this input: the machine, waiting for an answer, rests again.
    queueMicrotask(() => this.o.dispatch({ type: "turn.empty", message: reason }));
  }

  /** The machine's text.refuse. */
  refuse(id: string, reason: string): void {
    this.texts.delete(id);
    if (id === this.requesting) this.refused = reason;
    this.o.log.info(`typed question not sent: ${reason}`);
  }
}
