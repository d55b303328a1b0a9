/**
 * Conversation ids per user of one agent, kept in the state store (state.json) so that a
 * restart or a reboot continues them. What an earlier run saved is continued or not by
 * `conversation.continue`: always, never, or when its last turn is younger than an age
 * ("30m": the car parked for a coffee continues, the next morning starts afresh).
 */
import type { ConversationBook } from "../core/conversations";
import type { StateStore } from "../core/state-store";
import type { Logger } from "../log/logger";

/** `conversation.continue`: true, false, or the longest pause (ms) after which a saved conversation still continues. */
export type ContinuePolicy = boolean | number;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `conversation.continue` as the config has it (true, false, "30m") → the policy. */
export function continuePolicy(value: boolean | string): ContinuePolicy {
  if (typeof value === "boolean") return value;
  const m = /^(\d+)([smhd])$/.exec(value);
  if (!m) throw new Error(`conversation.continue: expected true, false or an age such as "30m", got "${value}"`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A user id per button, and a control client could invent many: the least recently used go first. */
const MAX_USERS = 32;
const MAX_ID = 512;
/** How stale a saved turn time may get before the next turn of the same conversation saves it again. */
const TOUCH_MS = 60_000;

interface Entry {
  id: string;
  /** Epoch ms of the turn that named it last. */
  at: number;
}

export interface ConversationBookOptions {
  state: StateStore;
  /** Which agent the ids belong to (e.g. `coze.7351234567890123456`): ids of another bot are never sent. */
  scope: string;
  policy: ContinuePolicy;
  /** Epoch ms when this run of the daemon started: saved before it, the policy decides. */
  startedAt: number;
  now: () => number;
  log: Logger;
}

/** What one agent profile has saved, for `talkbox agents`: its users' conversations and the last turn's time. */
export interface SavedConversations {
  users: number;
  /** Epoch ms of the last turn of any of them; null: none saved. */
  lastTurnAt: number | null;
}

/**
 * The books whose scope `owns` (an agent profile's), read from the store without opening them:
 * summed up, or forgotten (a new conversation for a profile not in use; `user`: only theirs).
 */
export function savedConversations(state: StateStore, owns: (scope: string) => boolean): SavedConversations {
  let users = 0;
  let last: number | null = null;
  for (const [, entries] of booksOf(state, owns)) {
    users += entries.size;
    for (const e of entries.values()) last = Math.max(last ?? 0, e.at);
  }
  return { users, lastTurnAt: last };
}

export function forgetSavedConversations(state: StateStore, owns: (scope: string) => boolean, user?: string): void {
  for (const [key, entries] of booksOf(state, owns)) {
    if (user === undefined) entries.clear();
    else entries.delete(user);
    state.set(key, entries.size === 0 ? undefined : JSON.stringify(Object.fromEntries(entries)));
  }
}

function booksOf(state: StateStore, owns: (scope: string) => boolean): Array<[string, Map<string, Entry>]> {
  const out: Array<[string, Map<string, Entry>]> = [];
  for (const key of state.keys()) {
    if (!key.startsWith(BOOK_PREFIX) || !owns(key.slice(BOOK_PREFIX.length))) continue;
    const raw = state.get(key);
    const entries = typeof raw === "string" ? parse(raw) : null;
    if (entries) out.push([key, entries]);
  }
  return out;
}

const BOOK_PREFIX = "conversations.";

export class StoredConversationBook implements ConversationBook {
  private readonly key: string;
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly o: ConversationBookOptions) {
    this.key = `${BOOK_PREFIX}${o.scope}`;
    const raw = o.state.get(this.key);
    if (raw === undefined) return;
    const loaded = typeof raw === "string" ? parse(raw) : null;
    if (loaded === null) {
      o.log.warn({ key: this.key }, "the saved conversation ids are damaged; every user starts a new conversation");
      o.state.set(this.key, undefined);
      return;
    }
    for (const [user, e] of loaded) this.entries.set(user, e);
  }

  get(user: string): string | undefined {
    const e = this.entries.get(user);
    if (!e) return undefined;
    if (e.at < this.o.startedAt && !this.continues(e)) {
      const age = Math.round((this.o.now() - e.at) / 60_000);
      this.o.log.info({ user, conversation: e.id }, `not continuing the conversation from before the restart (its last turn was ${age} min ago; conversation.continue says when): a new one starts`);
      this.entries.delete(user);
      this.save();
      return undefined;
    }
    return e.id;
  }

  set(user: string, id: string): void {
    if (id.length === 0 || id.length > MAX_ID) return;
    const had = this.entries.get(user);
    // The same conversation again within a minute: the saved time is close enough for an age
    // counted in minutes, and an SD card is spared a write (and an fsync) per turn.
    if (had?.id === id && this.o.now() - had.at < TOUCH_MS) return;
    this.entries.delete(user);
    this.entries.set(user, { id, at: this.o.now() });
    while (this.entries.size > MAX_USERS) this.entries.delete(this.entries.keys().next().value!);
    this.save();
  }

  forget(user?: string): void {
    if (user === undefined) this.entries.clear();
    else if (!this.entries.delete(user)) return;
    this.save();
  }

  private continues(e: Entry): boolean {
    const p = this.o.policy;
    return typeof p === "boolean" ? p : this.o.now() - e.at < p;
  }

  private save(): void {
    this.o.state.set(this.key, this.entries.size === 0 ? undefined : JSON.stringify(Object.fromEntries(this.entries)));
  }
}

/** The saved map, or null when it is not one this code wrote. */
function parse(raw: string): Map<string, Entry> | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const out = new Map<string, Entry>();
  for (const [user, e] of Object.entries(v as Record<string, unknown>)) {
    const { id, at } = (e ?? {}) as Record<string, unknown>;
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID || typeof at !== "number" || !Number.isFinite(at)) return null;
    out.set(user, { id, at });
  }
  // Oldest first, as set() keeps them: the first to go when there are too many.
  return new Map([...out].sort((a, b) => a[1].at - b[1].at).slice(-MAX_USERS));
}
