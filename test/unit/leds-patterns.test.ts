import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEVICE_STATES } from "../../src/core/device-state";
import { issueLines, plainEnglish } from "../../src/config/errors";
import {
  DEFAULT_LED_PATTERNS,
  isAnimated,
  LED_LOOKS,
  ledLook,
  ledPatternsSchema,
  monoPattern,
  renderPixels,
  resolveLedPatterns,
  type LedPattern,
} from "../../src/hardware/leds/patterns";

const OFF = { r: 0, g: 0, b: 0, brightness: 0 };

/** Parsed the way the board-profile loader parses. */
function errorLines(input: unknown): string[] {
  const r = ledPatternsSchema.safeParse(input, { error: plainEnglish });
  assert.equal(r.success, false, "expected the override to be rejected");
  return issueLines(r.error!);
}

describe("LED pattern table", () => {
  test("every device state has a default; only the moving ones animate", () => {
    assert.deepEqual(Object.keys(DEFAULT_LED_PATTERNS).sort(), [...LED_LOOKS].sort());
    const animated = DEVICE_STATES.filter((s) => isAnimated(DEFAULT_LED_PATTERNS[s]));
    assert.deepEqual(animated, ["connecting", "thinking", "error", "offline"]);
  });

  test("offline shows why when the user must act, each refusal in its own color and, for a plain LED, its own rhythm", () => {
    assert.equal(ledLook("offline", "auth"), "offline_auth");
    assert.equal(ledLook("offline", "not_found"), "offline_not_found");
    assert.equal(ledLook("offline", "network"), "offline");
    assert.equal(ledLook("offline"), "offline");
    assert.equal(ledLook("idle", "auth"), "idle", "a problem shows only while offline");
    const looks = ["offline", "offline_auth", "offline_quota", "offline_not_found", "offline_bad_request"] as const;
    const rhythms = looks.map((l) => JSON.stringify(monoPattern(DEFAULT_LED_PATTERNS[l], false)));
    assert.equal(new Set(rhythms).size, looks.length, `two looks blink alike on a plain LED: ${rhythms.join(" ")}`);
    assert.equal(new Set(looks.map((l) => DEFAULT_LED_PATTERNS[l].color.join())).size, looks.length);
    // Nor like any other state on a plain LED.
    const others = DEVICE_STATES.filter((s) => s !== "offline").map((s) => JSON.stringify(monoPattern(DEFAULT_LED_PATTERNS[s], false)));
    for (const r of rhythms) assert.ok(!others.includes(r), `${r} is another state's rhythm`);
  });

  test("overrides: hex or [r,g,b] colors, effect names with default timings, effect mappings", () => {
    const o = ledPatternsSchema.parse({
      listening: { color: "#FF8000" },
      speaking: { color: [1, 2, 3], brightness: 31 },
      thinking: { effect: "spin" },
      connecting: { effect: { type: "blink", on_ms: 100 } },
      idle: { color: "#ffffff", brightness: 1, effect: "solid" },
    });
    const table = resolveLedPatterns(o);
    assert.deepEqual(table.listening, { ...DEFAULT_LED_PATTERNS.listening, color: [255, 128, 0] });
    assert.deepEqual(table.speaking, { color: [1, 2, 3], brightness: 31, effect: { type: "solid" } });
    assert.deepEqual(table.thinking, { ...DEFAULT_LED_PATTERNS.thinking, effect: { type: "spin", periodMs: 1000 } });
    assert.deepEqual(table.connecting.effect, { type: "blink", onMs: 100, offMs: 500 });
    assert.deepEqual(table.idle, { color: [255, 255, 255], brightness: 1, effect: { type: "solid" } });
    assert.deepEqual(table.error, DEFAULT_LED_PATTERNS.error, "states not named keep their default");
  });

  test("layers apply in order: board profile, then user config", () => {
    const board = ledPatternsSchema.parse({ thinking: { effect: "spin", color: "#00ff00" } });
    const user = ledPatternsSchema.parse({ thinking: { color: "#ff0000" } });
    assert.deepEqual(resolveLedPatterns(board, user).thinking, { color: [255, 0, 0], brightness: 16, effect: { type: "spin", periodMs: 1000 } });
    assert.deepEqual(resolveLedPatterns(), DEFAULT_LED_PATTERNS);
  });

  test("errors name the key", () => {
    assert.deepEqual(errorLines({ listning: { color: "#00ff00" } }), [`listning: unknown key; allowed keys here: ${LED_LOOKS.join(", ")}`]);
    const colorHint = 'thinking.color: expected a color as "#rrggbb" or [r, g, b], e.g. "#00ff00" or [0, 255, 0]';
    assert.deepEqual(errorLines({ thinking: { color: "#12345" } }), [colorHint]);
    assert.deepEqual(errorLines({ thinking: { color: [1, 2] } }), [colorHint]);
    assert.deepEqual(errorLines({ thinking: { color: 5 } }), [colorHint]);
    assert.deepEqual(errorLines({ thinking: { color: [1, 2, 256] } }), ["thinking.color[2]: expected 0-255"]);
    assert.match(errorLines({ muted: { brightness: 40 } })[0]!, /^muted\.brightness: /);
    assert.match(errorLines({ error: { effect: "blinky" } })[0]!, /^error\.effect: expected one of "off", "solid", "blink", "pulse", "spin"/);
    assert.match(errorLines({ error: { effect: { type: "strobe" } } })[0]!, /^error\.effect\.type: expected one of/);
    assert.match(errorLines({ error: { effect: { type: "blink", on_ms: 5 } } })[0]!, /^error\.effect\.on_ms: /);
    assert.deepEqual(errorLines({ error: { effect: { type: "pulse", on_ms: 100 } } }), ["error.effect.on_ms: unknown key; allowed keys here: type, period_ms"]);
    assert.deepEqual(errorLines({ idle: { colour: "#ffffff" } }), ["idle.colour: unknown key; allowed keys here: color, brightness, effect"]);
  });
});

describe("rendering pixels", () => {
  const solid: LedPattern = { color: [0, 255, 255], brightness: 16, effect: { type: "solid" } };

  test("solid and off", () => {
    assert.deepEqual(renderPixels(solid, 3, 12_345), Array(3).fill({ r: 0, g: 255, b: 255, brightness: 16 }));
    assert.deepEqual(renderPixels({ ...solid, effect: { type: "off" } }, 2, 0), [OFF, OFF]);
    assert.deepEqual(renderPixels({ ...solid, brightness: 0 }, 1, 0), [OFF], "brightness 0 is dark");
  });

  test("blink: lit for onMs from the start, dark for offMs, repeating", () => {
    const p: LedPattern = { color: [255, 0, 0], brightness: 8, effect: { type: "blink", onMs: 200, offMs: 800 } };
    const lit = { r: 255, g: 0, b: 0, brightness: 8 };
    assert.deepEqual([0, 199, 200, 999, 1000, 1199, 1200].map((t) => renderPixels(p, 1, t)[0]), [lit, lit, OFF, OFF, lit, lit, OFF]);
  });

  test("pulse: full at the start, dark at half the period, full again", () => {
    const p: LedPattern = { color: [0, 0, 200], brightness: 16, effect: { type: "pulse", periodMs: 1000 } };
    assert.deepEqual(renderPixels(p, 1, 0)[0], { r: 0, g: 0, b: 200, brightness: 16 });
    assert.deepEqual(renderPixels(p, 1, 250)[0], { r: 0, g: 0, b: 100, brightness: 16 });
    assert.deepEqual(renderPixels(p, 1, 500)[0], OFF);
    assert.deepEqual(renderPixels(p, 1, 1000)[0], { r: 0, g: 0, b: 200, brightness: 16 });
  });

  test("spin: the head moves one LED per step with a fading tail", () => {
    const p: LedPattern = { color: [0, 0, 255], brightness: 10, effect: { type: "spin", periodMs: 1200 } };
    const blue = (v: number) => (v === 0 ? OFF : { r: 0, g: 0, b: v, brightness: 10 });
    assert.deepEqual(renderPixels(p, 12, 0), [255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 64].map(blue));
    assert.deepEqual(renderPixels(p, 12, 99), renderPixels(p, 12, 0), "same step");
    assert.deepEqual(renderPixels(p, 12, 100), [64, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16].map(blue));
    assert.deepEqual(renderPixels(p, 12, 1200), renderPixels(p, 12, 0), "one turn per period");
    assert.deepEqual(renderPixels(p, 3, 400), [64, 255, 16].map(blue));
    assert.deepEqual(renderPixels(p, 1, 600), [OFF], "a single LED pulses instead");
  });
});

describe("patterns on a mono LED", () => {
  test("plain on/off LED: full on, pulse and spin become a blink of half the period", () => {
    const d = DEFAULT_LED_PATTERNS;
    assert.deepEqual(monoPattern(d.idle, false), { type: "off" });
    assert.deepEqual(monoPattern(d.listening, false), { type: "on", duty: 100 });
    assert.deepEqual(monoPattern(d.muted, false), { type: "on", duty: 100 });
    assert.deepEqual(monoPattern(d.connecting, false), { type: "blink", onMs: 200, offMs: 800, duty: 100 });
    assert.deepEqual(monoPattern(d.thinking, false), { type: "blink", onMs: 600, offMs: 600, duty: 100 });
    assert.deepEqual(monoPattern({ ...d.thinking, effect: { type: "spin", periodMs: 1000 } }, false), { type: "blink", onMs: 500, offMs: 500, duty: 100 });
  });

  test("dimmable LED: brightness becomes the duty, pulse stays a pulse, black is off", () => {
    const d = DEFAULT_LED_PATTERNS;
    assert.deepEqual(monoPattern(d.muted, true), { type: "on", duty: 6 });
    assert.deepEqual(monoPattern({ ...d.listening, brightness: 31 }, true), { type: "on", duty: 100 });
    assert.deepEqual(monoPattern(d.thinking, true), { type: "pulse", periodMs: 1200, duty: 52 });
    assert.deepEqual(monoPattern({ ...d.listening, color: [0, 0, 0] }, true), { type: "off" });
  });
});
