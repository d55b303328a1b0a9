/**
 * Conversation analytics' vocabulary (issue 17): what the device records of each finished
 * turn, and what `talkbox stats` answers. The SQLite store is src/state/analytics-db.ts, the
 * Prometheus file src/state/prometheus-file.ts; the app feeds both from the conversation.
 */

/** One finished turn of one user with one agent. */
export interface TurnRecord {
  /** The agent profile that answered ("default": the config's single agent). */
  agent: string;
  user: string;
  /** The server's conversation id when the backend has one (Coze, the gateway's Coze bot); null: the device's own. */
  conversationId: string | null;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  /** The user's turn reached the agent (not an empty press, not one dropped before it was sent). */
  userTurn: boolean;
  /** The agent's reply was heard (its first sample played). */
  replied: boolean;
  /** The user cut the reply short (barge-in, a press). */
  interrupted: boolean;
  /** The turn failed: an error from the agent, no answer in time, or the link lost. */
  error: boolean;
  /** End of the user's speech (key release, or the server's speech_stopped) → first reply sample played, ms; null: no reply sound. */
  latencyMs: number | null;
}

/** `talkbox stats`: one row per agent (and the total), over the conversations since a time. */
export interface StatsRow {
  agent: string;
  conversations: number;
  userTurns: number;
  replies: number;
  interruptions: number;
  errors: number;
  /** Sum of the conversations' durations (first turn's start → last turn's end), s. */
  durationS: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

/** One conversation, as `talkbox stats --conversations` lists them. */
export interface ConversationRow {
  agent: string;
  user: string;
  conversationId: string | null;
  startedAt: number;
  endedAt: number;
  durationS: number;
  userTurns: number;
  replies: number;
  interruptions: number;
  errors: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface StatsQuery {
  /** Epoch ms: conversations whose last turn ended at or after it. */
  since?: number;
  agent?: string;
  /** At most this many conversations, the latest first (default 20). */
  limit?: number;
}

export interface StatsAnswer {
  since: number | null;
  totals: StatsRow[];
  conversations: ConversationRow[];
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
