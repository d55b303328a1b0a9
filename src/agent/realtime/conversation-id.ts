/**
 * A Coze bot behind the Volcengine gateway keeps its conversation across links
 * when each new link names it (X-Conversation-Id): the first session id of the
 * conversation, kept in the state store so it survives restarts too. Without a
 * Coze bot there is nothing to keep.
 */
import type { Logger } from "../../log/logger";
import type { StateStore } from "../../core/state-store";

export class SavedConversation {
  /** The id the current link was opened with. */
  private resumedFrom: string | undefined;

  constructor(
    private readonly state: StateStore,
    /** The Coze bot behind the gateway, if any. */
    private readonly cozeBotId: string | undefined,
    private readonly log: Logger,
  ) {}

  private get key(): string {
    return `realtime.conversation_id.${this.cozeBotId ?? ""}`;
  }

  /** For a new link: the conversation it continues, if one was saved. */
  resume(): string | undefined {
    const saved = this.cozeBotId ? this.state.get(this.key) : undefined;
    this.resumedFrom = typeof saved === "string" && saved.length > 0 ? saved : undefined;
    return this.resumedFrom;
  }

  /** The current link was opened to continue a saved conversation. */
  get resumed(): boolean {
    return this.resumedFrom !== undefined;
  }

  /** A session id from the server: the first one of a conversation is what continues it. */
  note(id: string | undefined): void {
    if (!this.cozeBotId || !id) return;
    const saved = this.state.get(this.key);
    if (saved === id) return;
    if (typeof saved === "string" && saved.length > 0) {
      this.log.debug({ saved, given: id }, "the gateway named a new session id while continuing a conversation; keeping the conversation's first");
      return;
    }
    this.state.set(this.key, id);
    this.log.info({ conversation: id }, "new conversation with the Coze bot; it continues across reconnects and restarts");
  }

  /** The gateway would not continue the saved conversation: the next link starts a new one rather than stay offline. */
  forgetIfResumed(why: string): void {
    if (!this.resumedFrom) return;
    this.log.warn(`${why}; the next link starts a new conversation`);
    this.state.set(this.key, undefined);
    this.resumedFrom = undefined;
  }

  /** The user asked for a new conversation. */
  forget(): void {
    if (this.cozeBotId) this.state.set(this.key, undefined);
  }
}
