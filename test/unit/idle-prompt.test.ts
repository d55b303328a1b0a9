/** The idle prompt's timing, with a fake clock: after the silence, once per silence, only while free conversation listens. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IdlePrompt } from "../../src/device/idle-prompt";
import { FakeClock } from "../support/fake-clock";

function prompt() {
  const clock = new FakeClock();
  let said = 0;
  const p = new IdlePrompt({ ms: 10_000, clock, say: () => void said++ });
  return { p, clock, said: () => said };
}

test("said after the silence, once; again only after the user has spoken", () => {
  const { p, clock, said } = prompt();
  p.state("listening", "free");
  clock.advance(9_999);
  assert.equal(said(), 0);
  clock.advance(1);
  assert.equal(said(), 1);
  // Announcing and back: the same silence goes on, nothing more.
  p.state("announcing", "free");
  p.state("listening", "free");
  clock.advance(60_000);
  assert.equal(said(), 1);
  // The user speaks, the agent answers, the device listens again: a new silence.
  p.speech();
  p.state("thinking", "free");
  p.state("speaking", "free");
  p.state("listening", "free");
  clock.advance(10_000);
  assert.equal(said(), 2);
});

test("the user speaking restarts the wait; leaving listening cancels it", () => {
  const { p, clock, said } = prompt();
  p.state("listening", "free");
  clock.advance(8_000);
  p.speech();
  p.quiet();
  clock.advance(8_000);
  assert.equal(said(), 0);
  clock.advance(2_000);
  assert.equal(said(), 1);
  const b = prompt();
  b.p.state("listening", "free");
  clock.advance(5_000);
  b.p.state("muted", "free");
  b.clock.advance(60_000);
  assert.equal(b.said(), 0);
});

test("never in push-to-talk", () => {
  const { p, clock, said } = prompt();
  p.state("idle", "push-to-talk");
  p.state("listening", "push-to-talk");
  clock.advance(60_000);
  assert.equal(said(), 0);
});
