/**
 * The LED hardware of a board, as a board profile writes it and the driver opens it (one
 * schema for both), e.g. the ReSpeaker 2-Mics HAT:
 *
 *     { driver: apa102, count: 3, spi: /dev/spidev0.0, power: { pin: 12, active_low: true } }
 *
 * The profile adds its own keys (the state → pattern table) to every driver's entry.
 */
import { z } from "zod";

export const LED_DRIVER_NAMES = ["gpio", "pwm-gpio", "apa102"] as const;

// The same range as a button's pin (a GPIO line number; BCM numbers on a Raspberry Pi).
const bcmPin = z.int().min(0).max(63);
const activeLow = z.boolean().default(false);
// Some HATs switch the LEDs' supply with a GPIO (ReSpeaker 2-Mics: GPIO12, active low).
const power = z.strictObject({ pin: bcmPin, active_low: activeLow });

/** The schema with `extra` keys on every driver's entry. */
export function ledSchema<E extends z.ZodRawShape>(extra: E) {
  return z.discriminatedUnion(
    "driver",
    [
      z.strictObject({ driver: z.literal("gpio"), pin: bcmPin, active_low: activeLow, ...extra }),
      // Software PWM: a dimmable LED, and pulses that breathe.
      z.strictObject({ driver: z.literal("pwm-gpio"), pin: bcmPin, active_low: activeLow, pwm_hz: z.int().min(10).max(1000).default(100), ...extra }),
      z
        .strictObject({
          driver: z.literal("apa102"),
          count: z.int({ error: "expected the number of LEDs on the board" }).min(1).max(1024),
          // Either an SPI device (a plain write per frame) or two GPIOs bit-banged.
          spi: z.string().regex(/^\/dev\/spidev\d+\.\d+$/, "expected an SPI device like /dev/spidev0.0").optional(),
          data_pin: bcmPin.optional(),
          clock_pin: bcmPin.optional(),
          power: power.optional(),
          ...extra,
        })
        .superRefine((entry, ctx) => {
          const l = entry as { spi?: string; data_pin?: number; clock_pin?: number };
          const pins = [l.data_pin, l.clock_pin].filter((p) => p !== undefined).length;
          if (l.spi !== undefined && pins > 0) ctx.addIssue({ code: "custom", path: ["spi"], message: "set either spi or data_pin and clock_pin, not both" });
          else if (l.spi === undefined && pins === 1) {
            const missing = l.data_pin === undefined ? "data_pin" : "clock_pin";
            ctx.addIssue({ code: "custom", path: [missing], message: `required for bit-banging (or set spi, e.g. /dev/spidev0.0, instead of the pins)` });
          } else if (l.spi === undefined && pins === 0) {
            ctx.addIssue({ code: "custom", message: "set either spi (e.g. /dev/spidev0.0) or both data_pin and clock_pin for bit-banging" });
          }
        }),
    ],
    { error: (iss) => (iss.code === "invalid_union" ? `expected driver: one of ${LED_DRIVER_NAMES.join(", ")}` : undefined) },
  );
}

export const ledHardwareSchema = ledSchema({});
export type LedHardware = z.output<typeof ledHardwareSchema>;
