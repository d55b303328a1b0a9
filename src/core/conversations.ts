/**
 * The conversation each user of the device continues with an agent, as a port: backends keep
 * their server's conversation ids here (Coze's conversation_id, the gateway's X-Conversation-Id)
 * and find them again after a reconnect, a restart or a reboot. The file-backed book is
 * src/state/conversation-book.ts; it applies `conversation.continue` to what an earlier run saved.
 */
export interface ConversationBook {
  /** The conversation `user` continues, or undefined: a new one starts. */
  get(user: string): string | undefined;
  /** The agent named `user`'s conversation, at a turn: saved with the time of this turn. */
  set(user: string, id: string): void;
  /** Forget `user`'s conversation (every user's when undefined): their next turn starts a new one. */
  forget(user?: string): void;
}

/** A book that keeps nothing (tools and checks that must not continue or save a conversation). */
export const noConversations: ConversationBook = { get: () => undefined, set: () => {}, forget: () => {} };
