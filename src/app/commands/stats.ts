/**
 * `Stats`: the conversation analytics (`talkbox stats`): totals per agent and the latest
 * conversations. `Since`: epoch ms (conversations that went on at or after it); `Agent`: one
 * profile's; `Limit`: how many conversations (default 20, at most 1000).
 */
import { z } from "zod";
import { defineCommand } from "./command";

export const statsCommand = defineCommand({
  schema: z.object({
    Command: z.literal("Stats"),
    Since: z.number({ error: "Since must be a number: epoch milliseconds" }).int().nonnegative().optional(),
    Agent: z.string({ error: "Agent must be a string: an agent profile's name" }).min(1).max(128).optional(),
    Limit: z.number({ error: "Limit must be a number of conversations" }).int().min(0).max(1000).optional(),
  }),
  run(cmd, { analytics }) {
    const r = analytics.stats({
      ...(cmd.Since !== undefined ? { since: cmd.Since } : {}),
      ...(cmd.Agent !== undefined ? { agent: cmd.Agent } : {}),
      ...(cmd.Limit !== undefined ? { limit: cmd.Limit } : {}),
    });
    if (!r.ok) throw new Error(`no conversation analytics: ${r.reason}`);
    return { Stats: r.answer };
  },
});
