/** `Agents`: the agent profiles (`talkbox agents`): name, backend, intro, which is in use, saved conversations. */
import { z } from "zod";
import { defineCommand } from "./command";

export const agentsCommand = defineCommand({
  schema: z.object({ Command: z.literal("Agents") }),
  run(_cmd, { agents }) {
    return {
      Active: agents.active.name,
      Agents: agents.list().map((a) => ({
        Name: a.name,
        Title: a.title,
        Backend: a.backend,
        ...(a.intro !== undefined ? { Intro: a.intro } : {}),
        Active: a.active,
        Conversations: { Users: a.conversations.users, LastTurnAt: a.conversations.lastTurnAt === null ? null : new Date(a.conversations.lastTurnAt).toISOString() },
      })),
    };
  },
});
