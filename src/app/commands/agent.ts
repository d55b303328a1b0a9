/**
 * `Agent`: switch to another agent profile (`talkbox agent NAME`). Answered once the new
 * agent's link is up; when it cannot connect, Ok is false with why, and the previous profile
 * is back in use.
 */
import { z } from "zod";
import { PROFILE_NAME, PROFILE_NAME_HINT } from "../../config/agent-profiles";
import { defineCommand } from "./command";

export const agentCommand = defineCommand({
  schema: z.object({
    Command: z.literal("Agent"),
    Name: z.string({ error: "Name must be a string: the agent profile to switch to (talkbox agents lists them)" }).regex(PROFILE_NAME, { error: `Name: ${PROFILE_NAME_HINT}` }),
  }),
  async run(cmd, { agents }) {
    const r = await agents.switchTo(cmd.Name, "the control socket");
    if (!r.ok) throw new Error(r.reason);
    return { Result: r.already ? "already" : "switched", Agent: r.profile.name, Title: r.profile.title };
  },
});
