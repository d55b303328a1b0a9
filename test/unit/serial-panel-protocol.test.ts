import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { helloLine, ledLine, parsePanelLine } from "../../src/hardware/serial/panel-protocol";
import { DEVICE_STATES } from "../../src/core/device-state";

describe("panel protocol", () => {
  test("BTN lines, any case, any run of spaces or tabs", () => {
    assert.deepEqual(parsePanelLine("BTN talk DOWN"), { type: "button", name: "talk", action: "down" });
    assert.deepEqual(parsePanelLine("btn TALK up"), { type: "button", name: "talk", action: "up" });
    assert.deepEqual(parsePanelLine("  Btn\tPassenger \t Down  "), { type: "button", name: "passenger", action: "down" });
    assert.deepEqual(parsePanelLine("BTN vol-up.2_x DOWN"), { type: "button", name: "vol-up.2_x", action: "down" });
  });

  test("HELLO and PONG", () => {
    assert.deepEqual(parsePanelLine("HELLO talkbox-panel 1.0.0"), { type: "hello", firmware: "talkbox-panel", version: "1.0.0" });
    assert.deepEqual(parsePanelLine("hello Dash 2"), { type: "hello", firmware: "Dash", version: "2" });
    assert.deepEqual(parsePanelLine("pong"), { type: "pong" });
  });

  test("empty lines are nothing; malformed lines say what was expected", () => {
    assert.deepEqual(parsePanelLine(""), { type: "empty" });
    assert.deepEqual(parsePanelLine("   "), { type: "empty" });
    const invalid = [
      "BTN talk",
      "BTN talk DOWN now",
      "BTN talk PRESSED",
      "BTN t@lk DOWN",
      `BTN ${"n".repeat(33)} DOWN`,
      "HELLO onlyname",
      "HELLO a b c",
      "PONG 1",
      "LED idle", // the device's line, not the panel's
      "\u0000\ufffdA",
    ];
    for (const line of invalid) {
      const r = parsePanelLine(line);
      assert.equal(r.type, "invalid", line);
    }
    assert.deepEqual(parsePanelLine("XYZZY"), { type: "invalid", reason: "unknown keyword" });
  });

  test("device lines", () => {
    assert.deepEqual(
      DEVICE_STATES.map((s) => ledLine(s)),
      ["LED idle", "LED connecting", "LED listening", "LED thinking", "LED speaking", "LED announcing", "LED error", "LED offline", "LED muted"],
    );
    assert.equal(helloLine("0.1.0"), "HELLO talkbox 0.1.0");
    assert.equal(helloLine("1.0 beta"), "HELLO talkbox 1.0_beta");
  });
});
