/** `Button`: a button's edges (down/up, as they come) or one of its gestures (double/triple/long), by name. */
import { z } from "zod";
import { defineCommand } from "./command";

const ACTIONS = ["down", "up", "double", "triple", "long"] as const;

export const buttonCommand = defineCommand({
  schema: z.object({
    Command: z.literal("Button"),
    Name: z
      .string({ error: 'Name must be a string naming the button, e.g. "talk"' })
      .min(1, { error: 'Name must not be empty; use the button\'s name, e.g. "talk"' })
      .max(64, { error: "Name must be at most 64 characters" }),
    // down/up: the push-to-talk edges, as they come (a script's quick presses are never read as
    // gestures); double/triple/long: the button's gestures, which a head unit recognises itself.
    Action: z.enum(ACTIONS, { error: 'Action must be "down", "up", "double", "triple" or "long"' }),
  }),
  // A press and a release are on the barge-in's and the release's way to the wire: checked by
  // hand (the schema's rules; anything else goes to the schema, which words the error).
  quick(value) {
    const { Name, Action } = value;
    if (typeof Name !== "string" || Name.length < 1 || Name.length > 64) return undefined;
    if (typeof Action !== "string" || !(ACTIONS as readonly string[]).includes(Action)) return undefined;
    return { Command: "Button" as const, Name, Action: Action as (typeof ACTIONS)[number] };
  },
  run(cmd, { inputs, conversation }) {
    const button = inputs.named(cmd.Name, "control");
    if (!button) throw new Error(`no button named '${cmd.Name}'; this board has: ${inputs.names.join(", ")}`);
    // Edges as they come; gestures by name, with the same actions as on any other button.
    if (cmd.Action === "double" || cmd.Action === "triple" || cmd.Action === "long") inputs.gesture(cmd.Name, cmd.Action);
    else button.edge(cmd.Action === "down" ? 1 : 0);
    return { State: conversation.state };
  },
});
