/** The daemon's conversation book over a state store, for tests of the backends that keep conversations. */
import type { ConversationBook } from "../../src/core/conversations";
import type { StateStore } from "../../src/core/state-store";
import { silentLogger } from "../../src/log/logger";
import { StoredConversationBook, type ContinuePolicy } from "../../src/state/conversation-book";

export function conversationBooks(state: StateStore, policy: ContinuePolicy = true): (scope: string) => ConversationBook {
  const startedAt = Date.now();
  return (scope) => new StoredConversationBook({ state, scope, policy, startedAt, now: Date.now, log: silentLogger() });
}

/** The conversation id saved for `user` of the agent `scope`, as the state file holds it. */
export function savedConversation(state: StateStore, scope: string, user: string): string | undefined {
  const raw = state.get(`conversations.${scope}`);
  if (typeof raw !== "string") return undefined;
  return (JSON.parse(raw) as Record<string, { id: string }>)[user]?.id;
}
