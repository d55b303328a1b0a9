/**
 * `NewConversation`: the next turn starts a new conversation with the agent instead of
 * continuing the saved one, as a long press does. `User`: only that user's (a button's
 * `user_id`); without it, the device user's.
 */
import { z } from "zod";
import { defineCommand } from "./command";

export const newConversationCommand = defineCommand({
  schema: z.object({
    Command: z.literal("NewConversation"),
    User: z
      .string({ error: "User must be a string: the user id whose conversation starts anew, as a button's user_id" })
      .regex(/^[\w.@:-]{1,256}$/, { error: "User must be 1 to 256 letters, digits or . _ - @ :" })
      .optional(),
  }),
  run(cmd, { conversation }) {
    conversation.newConversation(cmd.User);
    return { Result: "started", State: conversation.state };
  },
});
