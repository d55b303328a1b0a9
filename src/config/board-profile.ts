/**
 * A board profile: everything about one kind of hardware, as data. A new board is a
 * new file in boards/, never an `if` in the code; drivers are looked up by name.
 */
import { z } from "zod";
import { CODECS } from "../core/media";
import { DEVICE_RATES } from "../core/pcm";
import { ledPatternsSchema as ledPatterns } from "../hardware/leds/patterns";
import { ledSchema } from "../hardware/leds/schema";

const CODEC = z.enum(CODECS);
const sampleRate: z.ZodType<number> = z.literal(DEVICE_RATES);
const pin = z.int().min(0).max(63);

const stream = z.strictObject({
  device: z.string().min(1),
  sample_rate: sampleRate,
  channels: z.int().positive().default(1),
  format: z.enum(["S16_LE", "S32_LE"]).default("S16_LE"),
  // Used when the ALSA device can't be opened, e.g. in CI or on a desktop without a mic.
  fallback: z
    .string()
    .regex(/^(file|dir):.+/, "expected a driver URI such as file:sim/speech-16k.raw or dir:./talkbox-replies")
    .optional(),
});

const buttonTiming = {
  // A press shorter than this after the last edge is contact bounce.
  debounce_ms: z.int().min(0).max(500).default(30),
  // Held this long: "long press" (start a new conversation).
  long_press_ms: z.int().min(200).max(10_000).default(2000),
  // A second press within this: "double press" (toggle free conversation).
  double_press_ms: z.int().min(100).max(2000).default(400),
  // Several talk buttons (driver / passenger) may speak as different users.
  user_id: z.string().min(1).optional(),
  long_press_action: z.enum(["new-conversation", "none"]).default("new-conversation"),
  double_press_action: z.enum(["toggle-mode", "new-conversation", "next-agent", "none"]).default("toggle-mode"),
  // A third press within double_press_ms of the second: the next agent profile (with one profile, nothing).
  triple_press_action: z.enum(["next-agent", "toggle-mode", "new-conversation", "none"]).default("next-agent"),
};

const button = z.discriminatedUnion("driver", [
  z.strictObject({ name: z.string().min(1), driver: z.literal("keyboard"), key: z.string().length(1, "expected a single character"), ...buttonTiming }),
  z.strictObject({ name: z.string().min(1), driver: z.literal("control"), ...buttonTiming }),
  z.strictObject({
    name: z.string().min(1),
    driver: z.literal("gpio"),
    // BCM numbering (GPIO17 is pin 11 on the header).
    pin,
    active_low: z.boolean().default(true),
    pull: z.enum(["up", "down", "none"]).default("up"),
    ...buttonTiming,
  }),
  // A key on a serial button panel (see firmware/panel/PROTOCOL.md).
  z.strictObject({ name: z.string().min(1), driver: z.literal("serial"), key: z.string().min(1).optional(), ...buttonTiming }),
], { error: 'expected driver "keyboard", "control", "gpio" or "serial"' });

// The LED hardware's own schema, with the state → pattern table of this board.
const led = ledSchema({ patterns: ledPatterns.optional() });

export const boardProfileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1),
  audio: z.strictObject({
    capture: stream,
    playback: stream,
    // The hardware cancels the speaker's echo from the mic (full duplex is safe).
    aec: z.boolean().default(false),
    // What works best on this board's CPU and link: the defaults of audio.uplink_codec /
    // downlink_codec on Coze (the config's audio.* win; Realtime servers take pcm).
    codecs: z.strictObject({ uplink: CODEC.optional(), downlink: CODEC.optional() }).default({}),
  }),
  buttons: z.array(button).default([]),
  leds: z.array(led).default([]),
  // Outputs driven at start-up and held: amplifier enable, mute lines.
  enable_pins: z.array(z.strictObject({ name: z.string().min(1), pin, active_low: z.boolean().default(false) })).default([]),
  // Outputs the agent may switch with the set_output tool (a lamp relay, a fan).
  outputs: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z][a-z0-9_]*$/, "expected a lower-case name like lamp or fan_1 (the agent uses it)"),
        description: z.string().min(1),
        driver: z.literal("gpio").default("gpio"),
        pin,
        active_low: z.boolean().default(false),
        initial: z.boolean().default(false),
      }),
    )
    .default([]),
  // Inputs get_device_status reports (ignition sense, on-battery signal).
  inputs: z
    .array(z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9_]*$/, "expected a lower-case name like ignition"), description: z.string().min(1), driver: z.literal("gpio").default("gpio"), pin, active_low: z.boolean().default(false) }))
    .default([]),
  // Labels of the GPIO chip that carries the header pins (found by label, never by number).
  gpio_chip_labels: z.array(z.string().min(1)).default(["pinctrl-bcm2711", "pinctrl-bcm2835", "pinctrl-rp1"]),
  serial: z
    .strictObject({
      panel: z.strictObject({ path: z.string().min(1), baud: z.int().positive().default(115_200) }).optional(),
      // update_m: the agent is told the position again once it has moved this far (a car, not a walk).
      gps: z.strictObject({ path: z.string().min(1), baud: z.int().positive().default(9600), update_m: z.number().min(10).max(100_000).default(200) }).optional(),
    })
    .default({}),
  // For the installer and the README: lines for /boot/firmware/config.txt, and notes.
  boot: z
    .strictObject({
      config_txt: z.array(z.string().min(1)).default([]),
      notes: z.string().optional(),
    })
    .default({ config_txt: [] }),
});

export type BoardProfile = z.output<typeof boardProfileSchema>;
export type ButtonProfile = BoardProfile["buttons"][number];
export type LedProfile = BoardProfile["leds"][number];
