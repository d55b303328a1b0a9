/**
 * The conversation items a Realtime connection holds, grouped in turns (a user item and
 * what follows it). The Volcengine gateway keeps at most 10 turns per connection, so older
 * items are forgotten there: a truncate or a function_call_output that names one fails.
 */
import type { RealtimeResponseRecord } from "./records";

export type HistoryItem =
  | { kind: "user"; id: string }
  | { kind: "message"; id: string; role: string }
  | { kind: "assistant"; id: string; response: RealtimeResponseRecord }
  | { kind: "function_call"; id: string; callId: string; name: string }
  | { kind: "function_call_output"; id: string; callId: string };

export class Conversation {
  private turns: HistoryItem[][] = [];

  /** `maxTurns` null keeps everything. */
  constructor(private readonly maxTurns: number | null) {}

  /** Adds an item; a user item opens a new turn. Returns the id of the item before it (previous_item_id). */
  add(item: HistoryItem): string | null {
    const previous = this.lastId();
    const last = this.turns.at(-1);
    if (item.kind === "user" || !last) this.turns.push([item]);
    else last.push(item);
    if (this.maxTurns !== null && this.turns.length > this.maxTurns) this.turns.splice(0, this.turns.length - this.maxTurns);
    return previous;
  }

  lastId(): string | null {
    return this.turns.at(-1)?.at(-1)?.id ?? null;
  }

  find(id: string): HistoryItem | undefined {
    for (const turn of this.turns) for (const item of turn) if (item.id === id) return item;
    return undefined;
  }

  findCall(callId: string): Extract<HistoryItem, { kind: "function_call" }> | undefined {
    for (const turn of this.turns) {
      for (const item of turn) if (item.kind === "function_call" && item.callId === callId) return item;
    }
    return undefined;
  }

  get turnCount(): number {
    return this.turns.length;
  }
}
