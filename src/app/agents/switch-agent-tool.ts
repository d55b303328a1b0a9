/**
 * switch_agent: the agent in use hands the user to another profile when they ask for it
 * ("let me talk to the tutor"). The answer goes back to the current agent first; the switch
 * starts right after, ending its reply, and the new agent introduces itself.
 */
import { z } from "zod";
import { defineTool, type Tool } from "../../tools/runner";
import type { AgentProfile } from "./profiles";

export interface SwitchAgentToolOptions {
  profiles: readonly AgentProfile[];
  /** The profile in use now. */
  active(): string;
  /** Starts the switch (not awaited: the answer goes back to the agent before the link closes). */
  switchTo(name: string): void;
}

export function switchAgentTool(o: SwitchAgentToolOptions): Tool {
  const names = o.profiles.map((p) => `${p.name}${p.title !== p.name ? ` (${p.title})` : ""}`).join(", ");
  return defineTool({
    name: "switch_agent",
    description:
      `Hands the conversation to another agent on this device, when the user asks to talk to it. The agents: ${names}. ` +
      "Your reply stops at once and the other agent introduces itself; say nothing more after calling it.",
    args: z.object({ name: z.string().min(1).max(64).describe("the agent's name or display name, e.g. tutor") }),
    run({ name }) {
      const wanted = name.trim().toLowerCase();
      const p = o.profiles.find((x) => x.name === wanted || x.title.toLowerCase() === wanted);
      if (!p) throw new Error(`no agent is named '${name}'; the agents are ${names}`);
      if (p.name === o.active()) return { ok: true, agent: p.name, note: "already talking to this agent" };
      // After this turn's microtasks: the answer is on its way to the current agent before its link closes.
      setImmediate(() => o.switchTo(p.name));
      return { ok: true, agent: p.name, switching: true };
    },
  });
}
