import { z } from "zod";
import { sampleRate } from "../config/schema.js";

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

const button = z
  .strictObject({
    name: z.string().min(1),
    driver: z.enum(["keyboard", "control"]),
    key: z.string().length(1, "expected a single character").optional(),
  })
  .refine((b) => b.driver !== "keyboard" || b.key !== undefined, {
    path: ["key"],
    message: 'required for driver "keyboard": the character that acts as the button, e.g. " "',
  });

export const boardProfileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1),
  audio: z.strictObject({
    capture: stream,
    playback: stream,
    aec: z.boolean().default(false),
  }),
  buttons: z.array(button).default([]),
  leds: z.array(z.unknown()).max(0, "LEDs are not supported yet; use leds: []").default([]),
});

export type BoardProfile = z.output<typeof boardProfileSchema>;
