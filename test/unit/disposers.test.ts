import { test } from "node:test";
import assert from "node:assert/strict";
import { DisposerStack } from "../../src/core/disposers";

test("disposers run last-first, once, and a failing one does not stop the rest", async () => {
  const done: string[] = [];
  const errors: string[] = [];
  const stack = new DisposerStack((err) => errors.push(err.message));
  stack.push(() => void done.push("socket"));
  stack.push(async () => {
    await Promise.resolve();
    done.push("speaker");
  });
  stack.push(() => {
    throw new Error("the LED driver is gone");
  });
  stack.push(() => void done.push("backend"));
  const first = stack.disposeAll();
  const second = stack.disposeAll();
  assert.equal(first, second, "a second shutdown waits for the first");
  await first;
  assert.deepEqual(done, ["backend", "speaker", "socket"]);
  assert.deepEqual(errors, ["the LED driver is gone"]);
  await stack.disposeAll();
  assert.deepEqual(done, ["backend", "speaker", "socket"], "nothing runs twice");
});
