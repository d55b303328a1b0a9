import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStateStore } from "../../src/state/store";
import { continuePolicy, StoredConversationBook, type ContinuePolicy } from "../../src/state/conversation-book";
import { LogCapture } from "./realtime-script";

const MIN = 60_000;
const START = Date.UTC(2026, 11, 6, 8, 0, 0);

/** A book as the daemon makes it at START, over `state`; `at` moves the clock. */
function book(state: MemoryStateStore, policy: ContinuePolicy, clock = { at: START }) {
  const logs = new LogCapture();
  const b = new StoredConversationBook({ state, scope: "coze.42", policy, startedAt: START, now: () => clock.at, log: logs.logger });
  return { b, logs, clock };
}

/** What an earlier run saved: users with their last turn `minutesBefore` START. */
function earlier(entries: Record<string, [id: string, minutesBefore: number]>): MemoryStateStore {
  const state = new MemoryStateStore();
  const saved = Object.fromEntries(Object.entries(entries).map(([u, [id, m]]) => [u, { id, at: START - m * MIN }]));
  state.set("conversations.coze.42", JSON.stringify(saved));
  return state;
}

describe("conversation book", () => {
  test("continue policies: true, false, and an age measured from the last turn to now", () => {
    assert.equal(continuePolicy(true), true);
    assert.equal(continuePolicy(false), false);
    assert.equal(continuePolicy("30m"), 30 * MIN);
    assert.equal(continuePolicy("45s"), 45_000);
    assert.equal(continuePolicy("2h"), 120 * MIN);
    assert.equal(continuePolicy("1d"), 1440 * MIN);
    assert.throws(() => continuePolicy("30"), /expected true, false or an age/);

    const saved = { a: ["conv-a", 10], b: ["conv-b", 40] } as Record<string, [string, number]>;
    assert.deepEqual(["a", "b"].map((u) => book(earlier(saved), true).b.get(u)), ["conv-a", "conv-b"]);
    assert.deepEqual(["a", "b"].map((u) => book(earlier(saved), false).b.get(u)), [undefined, undefined]);
    const aged = book(earlier(saved), 30 * MIN);
    assert.deepEqual(["a", "b"].map((u) => aged.b.get(u)), ["conv-a", undefined]);
    // Asked 25 minutes after the restart: a's last turn is now 35 minutes old.
    const later = book(earlier(saved), 30 * MIN, { at: START + 25 * MIN });
    assert.equal(later.b.get("a"), undefined);
  });

  test("a conversation not continued is forgotten and said so; one of this run always continues", () => {
    const state = earlier({ a: ["conv-a", 90] });
    const { b, logs, clock } = book(state, 30 * MIN);
    assert.equal(b.get("a"), undefined);
    assert.match(logs.lines.map((l) => l.msg).join("\n"), /not continuing the conversation from before the restart \(its last turn was 90 min ago/);
    assert.equal(state.get("conversations.coze.42"), undefined, "the stale id stayed in the state file");
    b.set("a", "conv-new");
    clock.at += 5 * 60 * MIN;
    assert.equal(b.get("a"), "conv-new", "a conversation of this run is continued whatever its age");
    // The same conversation's turns: its time is saved again once it is a minute old, not at every turn.
    const savedAt = () => (JSON.parse(state.get("conversations.coze.42") as string) as Record<string, { at: number }>).a!.at;
    b.set("a", "conv-new");
    const t = savedAt();
    clock.at += 59_000;
    b.set("a", "conv-new");
    assert.equal(savedAt(), t);
    clock.at += 1_000;
    b.set("a", "conv-new");
    assert.equal(savedAt(), t + 60_000);
  });

  test("set saves with the time; forget one user or all; at most 32 users, the least recently used go", () => {
    const state = new MemoryStateStore();
    const { b, clock } = book(state, true);
    b.set("a", "conv-a");
    clock.at += MIN;
    b.set("b", "conv-b");
    assert.deepEqual(JSON.parse(state.get("conversations.coze.42") as string), { a: { id: "conv-a", at: START }, b: { id: "conv-b", at: START + MIN } });
    b.forget("a");
    assert.equal(b.get("a"), undefined);
    assert.equal(b.get("b"), "conv-b");
    b.forget();
    assert.equal(state.get("conversations.coze.42"), undefined);
    for (let i = 0; i < 40; i++) b.set(`u${i}`, `conv-${i}`);
    b.set("u0", "conv-0b"); // evicted already: comes back as the newest
    const kept = Object.keys(JSON.parse(state.get("conversations.coze.42") as string) as object);
    assert.equal(kept.length, 32);
    assert.deepEqual(kept.slice(0, 2), ["u9", "u10"]);
    assert.equal(kept.at(-1), "u0");
    assert.equal(b.set("x", "y".repeat(600)), undefined);
    assert.equal(b.get("x"), undefined, "an over-long id is not kept");
  });

  test("damaged saved ids are reported and dropped, never a crash", () => {
    for (const bad of ["{", "[]", '{"a":{"id":5,"at":1}}', '{"a":{"id":"x"}}', 42]) {
      const state = new MemoryStateStore();
      state.set("conversations.coze.42", bad);
      const { b, logs } = book(state, true);
      assert.equal(b.get("a"), undefined, `from ${String(bad)}`);
      assert.match(logs.lines.map((l) => l.msg).join("\n"), /saved conversation ids are damaged; every user starts a new conversation/);
      assert.equal(state.get("conversations.coze.42"), undefined);
    }
  });
});
