/**
 * `NewConversation`: the next turn starts a new conversation with the agent instead of
 * continuing the saved one, as a long press does. `User`: only that user's (a button's
 * `user_id`); without it, the device user's. `Agent`: that agent profile's (default: the one in use).
 */
import { z } from "zod";
import { PROFILE_NAME, PROFILE_NAME_HINT } from "../../config/agent-profiles";
import { defineCommand } from "./command";

export const newConversationCommand = defineCommand({
  schema: z.object({
    Command: z.literal("NewConversation"),
    User: z
      .string({ error: "User must be a string: the user id whose conversation starts anew, as a button's user_id" })
      .regex(/^[\w.@:-]{1,256}$/, { error: "User must be 1 to 256 letters, digits or . _ - @ :" })
      .optional(),
    Agent: z
      .string({ error: "Agent must be a string: the agent profile whose conversation starts anew (talkbox agents lists them)" })
      .regex(PROFILE_NAME, { error: `Agent: ${PROFILE_NAME_HINT}` })
      .optional(),
  }),
  run(cmd, { conversation, agents }) {
    const r = agents.newConversation(cmd.Agent, cmd.User);
    if (!r.ok) throw new Error(r.reason);
    return { Result: "started", Agent: cmd.Agent ?? agents.active.name, State: conversation.state };
  },
});
