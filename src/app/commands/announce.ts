/**
 * `ExternalTextToSpeech` (seed 004): the device speaks a text on its own, with a priority.
 * `Message`: 1–200 characters (characters, not bytes: a 200-character Chinese sentence is
 * valid). `InterruptMode`: 1 high (end the current interaction, speak now), 2 medium (after
 * it), 3 low (only if nothing goes on) — a number or a numeric string, as the seed's two
 * tables disagree. The reply says whether it was spoken (and in which voice), queued or
 * dropped (and why).
 */
import { z } from "zod";
import { charCount, MAX_ANNOUNCEMENT_CHARS, type InterruptMode } from "../../core/announcement";
import { defineCommand } from "./command";

const MODE_RULE = "InterruptMode must be 1 (high: now), 2 (medium: after the current interaction) or 3 (low: only when idle), as a number or a numeric string";

export const announceCommand = defineCommand({
  schema: z.object({
    Command: z.literal("ExternalTextToSpeech"),
    Message: z
      .string({ error: `Message must be a string of 1 to ${MAX_ANNOUNCEMENT_CHARS} characters: the text to speak` })
      .refine((m) => m.trim().length > 0, { error: "Message must not be empty: give the text to speak" })
      .refine((m) => charCount(m) <= MAX_ANNOUNCEMENT_CHARS, {
        error: (iss) => `Message must be at most ${MAX_ANNOUNCEMENT_CHARS} characters (seed 004); this one has ${charCount(String(iss.input))}`,
      }),
    InterruptMode: z
      .union([z.literal(1), z.literal(2), z.literal(3), z.enum(["1", "2", "3"])], { error: MODE_RULE })
      .transform((m) => Number(m) as InterruptMode),
  }),
  run(cmd, { conversation }) {
    const r = conversation.announce(cmd.Message, cmd.InterruptMode);
    return {
      Result: r.decision,
      Id: r.id,
      ...(r.voice !== undefined ? { Voice: r.voice } : {}),
      ...(r.position !== undefined ? { Position: r.position } : {}),
      ...(r.reason !== undefined ? { Reason: r.reason } : {}),
      State: conversation.state,
    };
  },
});
