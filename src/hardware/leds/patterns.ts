/**
 * What the LEDs show in each device state, and how a pattern turns into pixels
 * (APA102) or into on / off / blink / dim (a single mono LED).
 *
 * Defaults (brightness is APA102's 0..31; on a dimmable mono LED it becomes the duty):
 *
 * | state      | color           | brightness | effect                  | meaning                                |
 * |------------|-----------------|------------|-------------------------|----------------------------------------|
 * | idle       | –               | –          | off                     | a lit LED always means "doing something" |
 * | connecting | blue  #0000ff   | 8          | blink 200 on / 800 off  | short flashes: reaching the agent      |
 * | listening  | green #00ff00   | 16         | solid                   | the mic is open: talk now              |
 * | thinking   | blue  #0000ff   | 16         | pulse, 1200 ms period   | busy, nothing to do                    |
 * | speaking   | cyan  #00ffff   | 16         | solid                   | the agent talks                        |
 * | announcing | violet #8000ff  | 16         | solid                   | the device says something on its own   |
 * | error      | red   #ff0000   | 16         | blink 250 / 250         | fast: something failed, see the logs   |
 * | offline    | amber #ffbf00   | 8          | blink 1000 / 1000       | slow: no link, retrying                |
 * | muted      | red   #ff0000   | 2          | solid                   | dim red, like a smart speaker's mic-off |
 *
 * Offline because the agent refused, with something for the user to do (the README's table
 * says what):
 *
 * | look                | color            | brightness | effect           | the agent…                        |
 * |---------------------|------------------|------------|------------------|-----------------------------------|
 * | offline_auth        | red #ff0000      | 8          | blink 500 / 1500 | rejected the token                |
 * | offline_quota       | orange #ff6000   | 8          | blink 1500 / 500 | says the account's quota is used up |
 * | offline_not_found   | violet #a000ff   | 8          | blink 100 / 1900 | does not exist, or is not published |
 * | offline_bad_request | magenta #ff00a0  | 8          | blink 1900 / 100 | refused the device's settings     |
 *
 * On a plain on/off LED the blink rates tell the states apart: connecting flashes,
 * error blinks fast, thinking (pulse → blink of half the period each) medium, offline slow,
 * and each refusal has a rhythm of its own.
 */
import { z } from "zod";
import { DEVICE_STATES, type DeviceState } from "../../core/device-state";
import { APA102_OFF, type Apa102Pixel } from "./apa102";

export type Rgb = readonly [r: number, g: number, b: number];

export type LedEffect =
  | { type: "off" }
  | { type: "solid" }
  | { type: "blink"; onMs: number; offMs: number }
  /** Breathes from full down to dark and back, starting at full. */
  | { type: "pulse"; periodMs: number }
  /** A lit head with a fading tail runs round the LEDs once per period (a pulse on a single LED). */
  | { type: "spin"; periodMs: number };

export interface LedPattern {
  color: Rgb;
  /** 0..31 (APA102 global brightness). */
  brightness: number;
  effect: LedEffect;
}

/** What the LEDs can show: a device state, or offline with the reason the user must act on. */
export const LED_LOOKS = [...DEVICE_STATES, "offline_auth", "offline_quota", "offline_not_found", "offline_bad_request"] as const;
export type LedLook = (typeof LED_LOOKS)[number];

/** The look for a state; offline names its reason when the agent refused for one the user must act on. */
export function ledLook(state: DeviceState, problem?: string): LedLook {
  if (state !== "offline" || problem === undefined) return state;
  const look = `offline_${problem}`;
  return (LED_LOOKS as readonly string[]).includes(look) ? (look as LedLook) : state;
}

export type LedPatternTable = Readonly<Record<LedLook, LedPattern>>;

export const DEFAULT_LED_PATTERNS: LedPatternTable = {
  idle: { color: [0, 0, 0], brightness: 0, effect: { type: "off" } },
  connecting: { color: [0, 0, 255], brightness: 8, effect: { type: "blink", onMs: 200, offMs: 800 } },
  listening: { color: [0, 255, 0], brightness: 16, effect: { type: "solid" } },
  thinking: { color: [0, 0, 255], brightness: 16, effect: { type: "pulse", periodMs: 1200 } },
  speaking: { color: [0, 255, 255], brightness: 16, effect: { type: "solid" } },
  announcing: { color: [128, 0, 255], brightness: 16, effect: { type: "solid" } },
  error: { color: [255, 0, 0], brightness: 16, effect: { type: "blink", onMs: 250, offMs: 250 } },
  offline: { color: [255, 191, 0], brightness: 8, effect: { type: "blink", onMs: 1000, offMs: 1000 } },
  muted: { color: [255, 0, 0], brightness: 2, effect: { type: "solid" } },
  offline_auth: { color: [255, 0, 0], brightness: 8, effect: { type: "blink", onMs: 500, offMs: 1500 } },
  offline_quota: { color: [255, 96, 0], brightness: 8, effect: { type: "blink", onMs: 1500, offMs: 500 } },
  offline_not_found: { color: [160, 0, 255], brightness: 8, effect: { type: "blink", onMs: 100, offMs: 1900 } },
  offline_bad_request: { color: [255, 0, 160], brightness: 8, effect: { type: "blink", onMs: 1900, offMs: 100 } },
};

// ---- board-profile overrides ----

const EFFECT_NAMES = ["off", "solid", "blink", "pulse", "spin"] as const;
const EFFECT_HINT = `expected one of ${EFFECT_NAMES.map((n) => `"${n}"`).join(", ")}, or a mapping such as { type: blink, on_ms: 200, off_ms: 800 }`;

const COLOR_HINT = 'expected a color as "#rrggbb" or [r, g, b], e.g. "#00ff00" or [0, 255, 0]';
const colorByte = z.int({ error: "expected a whole number 0-255" }).min(0, "expected 0-255").max(255, "expected 0-255");
/** A colour as the config writes it: "#rrggbb" or [r, g, b]. */
export const ledColor = z
  .union([z.string().regex(/^#[0-9a-fA-F]{6}$/, COLOR_HINT), z.tuple([colorByte, colorByte, colorByte], { error: COLOR_HINT })], { error: COLOR_HINT })
  .transform((c): Rgb => (typeof c === "string" ? [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)] : c));

// Shorter than the animation tick can't be shown; longer than a minute isn't an animation.
const duration = (min: number, fallback: number) =>
  z.int({ error: "expected a whole number of milliseconds" }).min(min).max(60_000).default(fallback);

const effectObject = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("off") }),
    z.strictObject({ type: z.literal("solid") }),
    z.strictObject({ type: z.literal("blink"), on_ms: duration(20, 500), off_ms: duration(20, 500) }),
    z.strictObject({ type: z.literal("pulse"), period_ms: duration(200, 2000) }),
    z.strictObject({ type: z.literal("spin"), period_ms: duration(100, 1000) }),
  ],
  { error: (iss) => (iss.code === "invalid_union" || iss.code === "invalid_type" ? EFFECT_HINT : undefined) },
);

// A bare name ("blink") means that effect with its default timings.
const effect = z
  .preprocess((v) => (typeof v === "string" && (EFFECT_NAMES as readonly string[]).includes(v) ? { type: v } : v), effectObject)
  .transform((e): LedEffect => {
    switch (e.type) {
      case "blink":
        return { type: "blink", onMs: e.on_ms, offMs: e.off_ms };
      case "pulse":
      case "spin":
        return { type: e.type, periodMs: e.period_ms };
      default:
        return { type: e.type };
    }
  });

const patternOverride = z.strictObject({
  color: ledColor.optional(),
  brightness: z.int({ error: "expected a whole number 0-31" }).min(0).max(31).optional(),
  effect: effect.optional(),
});

const overrideShape = {} as Record<LedLook, z.ZodOptional<typeof patternOverride>>;
for (const s of LED_LOOKS) overrideShape[s] = patternOverride.optional();

/**
 * A partial pattern table for a board profile (or the user's config): only the states and
 * fields given replace the defaults. YAML:
 *
 *     thinking: { effect: spin }                       # a ring: spin instead of pulse
 *     listening: { color: "#ffffff", brightness: 24 }
 *     connecting: { effect: { type: blink, on_ms: 100, off_ms: 400 } }
 *     idle: { color: [255, 255, 255], brightness: 1, effect: solid }
 */
export const ledPatternsSchema = z.strictObject(overrideShape);
export type LedPatternOverrides = z.output<typeof ledPatternsSchema>;

/** The defaults with each layer of overrides applied in order (e.g. board profile, then user config). */
export function resolveLedPatterns(...layers: readonly LedPatternOverrides[]): LedPatternTable {
  const table = { ...DEFAULT_LED_PATTERNS } as Record<LedLook, LedPattern>;
  for (const layer of layers) {
    for (const s of LED_LOOKS) {
      const o = layer[s];
      if (o) table[s] = { color: o.color ?? table[s].color, brightness: o.brightness ?? table[s].brightness, effect: o.effect ?? table[s].effect };
    }
  }
  return table;
}

// ---- rendering ----

export function isAnimated(pattern: LedPattern): boolean {
  return !isDark(pattern) && (pattern.effect.type === "blink" || pattern.effect.type === "pulse" || pattern.effect.type === "spin");
}

function isDark(p: LedPattern): boolean {
  return p.effect.type === "off" || p.brightness <= 0 || p.color.every((c) => c <= 0);
}

/** 1 at t = 0, 0 at half the period: a state change shows at once. */
export function pulseLevel(periodMs: number, tMs: number): number {
  return (1 + Math.cos((2 * Math.PI * tMs) / periodMs)) / 2;
}

function pixel(p: LedPattern, level: number): Apa102Pixel {
  const r = Math.round(p.color[0] * level);
  const g = Math.round(p.color[1] * level);
  const b = Math.round(p.color[2] * level);
  // One representation of "dark", so unchanged frames compare equal.
  return r === 0 && g === 0 && b === 0 ? APA102_OFF : { r, g, b, brightness: p.brightness };
}

/** The pixels of `count` LEDs `tMs` after the pattern started. */
export function renderPixels(pattern: LedPattern, count: number, tMs: number): Apa102Pixel[] {
  const e = pattern.effect;
  let levels: (i: number) => number;
  if (isDark(pattern)) levels = () => 0;
  else if (e.type === "blink") {
    const lit = tMs % (e.onMs + e.offMs) < e.onMs ? 1 : 0;
    levels = () => lit;
  } else if (e.type === "pulse" || (e.type === "spin" && count < 2)) {
    const level = pulseLevel(e.periodMs, tMs);
    levels = () => level;
  } else if (e.type === "spin") {
    // The head moves one LED per step; each LED behind it a quarter as bright, three lit.
    const head = Math.floor(tMs / (e.periodMs / count)) % count;
    levels = (i) => {
      const behind = (head - i + count) % count;
      return behind < 3 ? 4 ** -behind : 0;
    };
  } else levels = () => 1;
  return Array.from({ length: count }, (_, i) => pixel(pattern, levels(i)));
}

/** What a single mono LED can show. `duty` is the lit share in percent (software PWM). */
export type MonoPattern =
  | { type: "off" }
  | { type: "on"; duty: number }
  | { type: "blink"; onMs: number; offMs: number; duty: number }
  | { type: "pulse"; periodMs: number; duty: number };

/**
 * A pattern for a mono LED: color ignored (black still means off), brightness → duty on a
 * dimmable LED, full on otherwise. Spin becomes a pulse; without dimming a pulse becomes a
 * blink of half the period on and off.
 */
export function monoPattern(pattern: LedPattern, dimmable: boolean): MonoPattern {
  if (isDark(pattern)) return { type: "off" };
  const duty = dimmable ? Math.round((Math.min(31, pattern.brightness) / 31) * 100) : 100;
  const e = pattern.effect;
  switch (e.type) {
    case "blink":
      return { type: "blink", onMs: e.onMs, offMs: e.offMs, duty };
    case "pulse":
    case "spin":
      return dimmable ? { type: "pulse", periodMs: e.periodMs, duty } : { type: "blink", onMs: e.periodMs / 2, offMs: e.periodMs / 2, duty };
    default:
      return { type: "on", duty };
  }
}
