import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { KNOWN_COMMANDS, parseCommand } from "../../src/control/commands";

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
    assert.deepEqual(KNOWN_COMMANDS, ["Button", "Status"]);
  });

  test("a bad Action says which values are allowed", () => {
    assert.equal(
      errorOf({ Command: "Button", Name: "talk", Action: "press" }),
      'invalid Button command: Action must be "down" or "up"',
    );
  });

  test("a missing or empty Name is explained", () => {
    assert.match(errorOf({ Command: "Button", Action: "up" }), /Name must be a string naming the button/);
    assert.match(errorOf({ Command: "Button", Name: "", Action: "up" }), /Name must not be empty/);
  });

  test("every problem in a command is reported", () => {
    const error = errorOf({ Command: "Button", Name: 7 });
    assert.match(error, /Name must be a string/);
    assert.match(error, /Action must be "down" or "up"/);
  });

  test("an unknown Command lists the known ones", () => {
    assert.equal(errorOf({ Command: "Reboot" }), 'unknown Command "Reboot"; expected one of: Button, Status');
  });

  test("a missing Command or a non-object is explained", () => {
    assert.equal(errorOf({ Name: "talk" }), 'missing "Command" string; expected one of: Button, Status');
    assert.match(errorOf([1, 2]), /must be a JSON object such as \{"Command":"Status"\}; got an array/);
    assert.match(errorOf("Status"), /got a string/);
    assert.match(errorOf(null), /got null/);
  });
});
