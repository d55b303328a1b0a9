/**
 * The control socket's commands: one file each, and one line here. Subscribe is the
 * socket's own (control/state-stream.ts).
 */
import { commandParser, SubscribeCommand, type QuickCheck } from "../../control/commands";
import type { ControlHandler } from "../../control/server";
import { agentCommand } from "./agent";
import { agentsCommand } from "./agents";
import { announceCommand } from "./announce";
import { buttonCommand } from "./button";
import type { Command, CommandDevice } from "./command";
import { newConversationCommand } from "./new-conversation";
import { statsCommand } from "./stats";
import { statusCommand } from "./status";
import { textCommand } from "./text";
import { volumeCommand } from "./volume";

const COMMANDS = [buttonCommand, statusCommand, volumeCommand, announceCommand, textCommand, newConversationCommand, statsCommand, agentCommand, agentsCommand] as const;

export const controlCommands = commandParser(
  [buttonCommand.schema, statusCommand.schema, SubscribeCommand, volumeCommand.schema, announceCommand.schema, textCommand.schema, newConversationCommand.schema, statsCommand.schema, agentCommand.schema, agentsCommand.schema],
  // The hand-written checks some commands carry (a button's edges: on the way to the wire).
  Object.fromEntries(
    COMMANDS.flatMap((c): [string, QuickCheck][] => {
      const quick = c.quick?.bind(c);
      return quick ? [[c.schema.shape.Command.value, quick]] : [];
    }),
  ),
);

export type ControlCommand = ReturnType<typeof controlCommands.parse> extends infer R ? (R extends { ok: true; command: infer C } ? C : never) : never;

/** Runs each command the socket hands over on this device. */
export function controlHandler(device: CommandDevice): ControlHandler<ControlCommand> {
  const byName = new Map<string, Command<any>>(COMMANDS.map((c) => [c.schema.shape.Command.value, c]));
  // Not async: a command that acts at once (a button) is answered in the same turn.
  return (cmd) => {
    const command = byName.get(cmd.Command);
    if (!command) throw new Error(`${cmd.Command} is served by the control socket itself`);
    return command.run(cmd, device);
  };
}
