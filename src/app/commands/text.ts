/**
 * `Text`: a typed question, skipping speech recognition (a car head unit's keyboard, a test),
 * answered by voice like a spoken one. `Message`: 1–2000 characters; `User`: who asks (a
 * user id, as a button's `user_id`; default: conversation.user_id). Refused while the talk
 * button is held or without a link, saying why.
 */
import { z } from "zod";
import { charCount } from "../../core/announcement";
import { defineCommand } from "./command";

const MAX_TEXT_CHARS = 2000;

export const textCommand = defineCommand({
  schema: z.object({
    Command: z.literal("Text"),
    Message: z
      .string({ error: `Message must be a string of 1 to ${MAX_TEXT_CHARS} characters: the question to ask` })
      .refine((m) => m.trim().length > 0, { error: "Message must not be empty: give the question to ask" })
      .refine((m) => charCount(m) <= MAX_TEXT_CHARS, { error: (iss) => `Message must be at most ${MAX_TEXT_CHARS} characters; this one has ${charCount(String(iss.input))}` }),
    User: z
      .string({ error: "User must be a string: the user id who asks, as a button's user_id" })
      .regex(/^[\w.@:-]{1,256}$/, { error: "User must be 1 to 256 letters, digits or . _ - @ :" })
      .optional(),
  }),
  run(cmd, { conversation }) {
    const r = cmd.User !== undefined ? conversation.text(cmd.Message, cmd.User) : conversation.text(cmd.Message);
    if (!r.ok) throw new Error(`not sent: ${r.reason ?? "the agent cannot take it now"}`);
    return { Result: "sent", State: conversation.state };
  },
});
