/** What a control command is: its schema and, next to it, what it does to the device. */
import type { z } from "zod";
import type { PlaybackEngine } from "../../audio/playback/engine";
import type { CommandSchema } from "../../control/commands";
import type { StateStream } from "../../control/state-stream";
import type { Conversation } from "../../device/conversation";
import type { InputRouter } from "../inputs/router";
import type { Volume } from "../tools/volume";
import type { DeviceAnalytics } from "../analytics/device-analytics";
import type { AgentSwitcher } from "../agents/switcher";

/** The parts of the device a command may use. */
export interface CommandDevice {
  conversation: Conversation;
  inputs: InputRouter;
  volume: Volume;
  playback: PlaybackEngine;
  stream: StateStream;
  analytics: DeviceAnalytics;
  agents: AgentSwitcher;
}

export interface Command<S extends CommandSchema> {
  schema: S;
  /** The schema's rules by hand, for a command on a button's way to the wire (control/commands.ts, QuickCheck). */
  quick?(value: Record<string, unknown>): z.output<S> | undefined;
  /** The reply's fields (Ok is added); throw to fail the command with that message. */
  run(cmd: z.output<S>, device: CommandDevice): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export function defineCommand<S extends CommandSchema>(command: Command<S>): Command<S> {
  return command;
}
