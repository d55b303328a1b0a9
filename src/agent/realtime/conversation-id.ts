/**
 * A Coze bot behind the Volcengine gateway keeps its conversation across links
 * when each new link names it (X-Conversation-Id): the first session id of the
 * conversation, kept in the conversation book so it survives restarts too (as
 * conversation.continue says). The gateway has one conversation per connection, so
 * the device's users share it. Without a Coze bot there is nothing to keep.
 */
import type { ConversationBook } from "../../core/conversations";
import type { Logger } from "../../log/logger";

/** The book's user for the connection's one conversation. */
const EVERYONE = "*";

export class SavedConversation {
  /** The id the current link was opened with. */
  private resumedFrom: string | undefined;

  constructor(
    /** The Coze bot's conversations behind the gateway; null: no Coze bot, nothing to keep. */
    private readonly book: ConversationBook | null,
    private readonly log: Logger,
  ) {}

  /** For a new link: the conversation it continues, if one was saved. */
  resume(): string | undefined {
    this.resumedFrom = this.book?.get(EVERYONE);
    return this.resumedFrom;
  }

  /** The current link was opened to continue a saved conversation. */
  get resumed(): boolean {
    return this.resumedFrom !== undefined;
  }

  /** A session id from the server: the first one of a conversation is what continues it. */
  note(id: string | undefined): void {
    if (!this.book || !id) return;
    const saved = this.book.get(EVERYONE);
    if (saved !== undefined && saved !== id) {
      this.log.debug({ saved, given: id }, "the gateway named a new session id while continuing a conversation; keeping the conversation's first");
      // Still a turn of it: its age (conversation.continue) counts from now.
      this.book.set(EVERYONE, saved);
      return;
    }
    this.book.set(EVERYONE, id);
    if (saved === undefined) this.log.info({ conversation: id }, "new conversation with the Coze bot; it continues across reconnects and restarts");
  }

  /** The gateway would not continue the saved conversation: the next link starts a new one rather than stay offline. */
  forgetIfResumed(why: string): void {
    if (!this.resumedFrom) return;
    this.log.warn(`${why}; the next link starts a new conversation`);
    this.book?.forget(EVERYONE);
    this.resumedFrom = undefined;
  }

  /** The user asked for a new conversation. */
  forget(): void {
    this.book?.forget(EVERYONE);
  }
}
