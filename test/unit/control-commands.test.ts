import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { controlCommands } from "../../src/app/commands";
import { buttonCommand } from "../../src/app/commands/button";

const KNOWN_COMMANDS = controlCommands.names;
const parseCommand = (value: unknown) => controlCommands.parse(value);

function errorOf(value: unknown): string {
  const r = parseCommand(value);
  assert.ok(!r.ok, `expected ${JSON.stringify(value)} to be rejected`);
  return r.error;
}

describe("control commands", () => {
  test("accepts Button and Status", () => {
    assert.deepEqual(parseCommand({ Command: "Button", Name: "talk", Action: "down" }), {
      ok: true,
      command: { Command: "Button", Name: "talk", Action: "down" },
    });
    assert.deepEqual(parseCommand({ Command: "Status" }), { ok: true, command: { Command: "Status" } });
    assert.deepEqual(KNOWN_COMMANDS, ["Button", "Status", "Subscribe", "Volume", "ExternalTextToSpeech", "Text", "NewConversation", "Stats", "Agent", "Agents"]);
    assert.deepEqual(parseCommand({ Command: "Subscribe" }), { ok: true, command: { Command: "Subscribe" } });
  });

  test("Volume: get, set or change, with the range and the either-or explained", () => {
    assert.deepEqual(parseCommand({ Command: "Volume" }), { ok: true, command: { Command: "Volume" } });
    assert.deepEqual(parseCommand({ Command: "Volume", Percent: 40 }), { ok: true, command: { Command: "Volume", Percent: 40 } });
    assert.deepEqual(parseCommand({ Command: "Volume", Delta: -10 }), { ok: true, command: { Command: "Volume", Delta: -10 } });
    assert.equal(errorOf({ Command: "Volume", Percent: 140 }), "invalid Volume command: Percent must be at most 100");
    assert.equal(errorOf({ Command: "Volume", Percent: "loud" }), "invalid Volume command: Percent must be a whole number from 0 to 100");
    assert.equal(errorOf({ Command: "Volume", Percent: 50, Delta: 5 }), "invalid Volume command: give Percent or Delta, not both");
  });

  test("NewConversation: for the device user, or one user, with a bad user id explained", () => {
    assert.deepEqual(parseCommand({ Command: "NewConversation" }), { ok: true, command: { Command: "NewConversation" } });
    assert.deepEqual(parseCommand({ Command: "NewConversation", User: "passenger" }), { ok: true, command: { Command: "NewConversation", User: "passenger" } });
    assert.equal(errorOf({ Command: "NewConversation", User: "a b" }), "invalid NewConversation command: User must be 1 to 256 letters, digits or . _ - @ :");
    assert.equal(errorOf({ Command: "NewConversation", User: 7 }), "invalid NewConversation command: User must be a string: the user id whose conversation starts anew, as a button's user_id");
    assert.deepEqual(parseCommand({ Command: "Stats", Since: 5, Agent: "tutor", Limit: 3 }), { ok: true, command: { Command: "Stats", Since: 5, Agent: "tutor", Limit: 3 } });
    assert.equal(errorOf({ Command: "Stats", Since: "yesterday" }), "invalid Stats command: Since must be a number: epoch milliseconds");
  });

  test("a bad Action says which values are allowed", () => {
    assert.equal(
      errorOf({ Command: "Button", Name: "talk", Action: "press" }),
      'invalid Button command: Action must be "down", "up", "double", "triple" or "long"',
    );
  });

  test("a missing or empty Name is explained", () => {
    assert.match(errorOf({ Command: "Button", Action: "up" }), /Name must be a string naming the button/);
    assert.match(errorOf({ Command: "Button", Name: "", Action: "up" }), /Name must not be empty/);
  });

  test("every problem in a command is reported", () => {
    const error = errorOf({ Command: "Button", Name: 7 });
    assert.match(error, /Name must be a string/);
    assert.match(error, /Action must be "down", "up", "double", "triple" or "long"/);
  });

  test("an unknown Command lists the known ones", () => {
    assert.equal(errorOf({ Command: "Reboot" }), 'unknown Command "Reboot"; expected one of: Button, Status, Subscribe, Volume, ExternalTextToSpeech, Text, NewConversation, Stats, Agent, Agents');
  });

  test("a missing Command or a non-object is explained", () => {
    assert.equal(errorOf({ Name: "talk" }), 'missing "Command" string; expected one of: Button, Status, Subscribe, Volume, ExternalTextToSpeech, Text, NewConversation, Stats, Agent, Agents');
    assert.match(errorOf([1, 2]), /must be a JSON object such as \{"Command":"Status"\}; got an array/);
    assert.match(errorOf("Status"), /got a string/);
    assert.match(errorOf(null), /got null/);
  });

  // Button's hand-written check (its quick path) must say what the schema says: the same
  // command for what both accept, nothing it accepts that the schema refuses, and the
  // parser's answer the schema's whichever way it went.
  test("Button's hand-written check agrees with its schema on every edge case", () => {
    const names: unknown[] = ["talk", "", "x".repeat(64), "x".repeat(65), "🙂".repeat(32), "🙂".repeat(33), 7, null, undefined, ["talk"], { 0: "t" }];
    const actions: unknown[] = ["down", "up", "double", "triple", "long", "press", "", "DOWN", 1, null, undefined, ["up"], "toString", "constructor"];
    let quick = 0;
    for (const Name of names)
      for (const Action of actions)
        for (const extra of [{}, { Extra: 1 }, { Command: "Button" }]) {
          const value: Record<string, unknown> = { Command: "Button", ...extra };
          if (Name !== undefined) value.Name = Name;
          if (Action !== undefined) value.Action = Action;
          const bySchema = buttonCommand.schema.safeParse(value);
          const byHand = buttonCommand.quick!(value);
          if (byHand) {
            quick++;
            assert.ok(bySchema.success, `the hand check took what the schema refuses: ${JSON.stringify(value)}`);
            assert.deepEqual(byHand, bySchema.data);
          }
          assert.deepEqual(parseCommand(value), bySchema.success ? { ok: true, command: bySchema.data } : { ok: false, error: errorOf(value) });
        }
    // What it leaves to the schema (a name over 64 UTF-16 units: zod counts them its own way) still parses, the slow way.
    assert.equal(quick, 3 * 5 * 3, "a valid press of a name up to 64 UTF-16 units goes the quick way");
  });
});

