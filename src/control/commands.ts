/**
 * Control commands, PascalCase as in seed 004 (`{"Command": ..., ...}`).
 * A new command is one schema added to `commandSchemas`.
 */
import { z } from "zod";

const ButtonCommand = z.object({
  Command: z.literal("Button"),
  Name: z
    .string({ error: 'Name must be a string naming the button, e.g. "talk"' })
    .min(1, { error: 'Name must not be empty; use the button\'s name, e.g. "talk"' })
    .max(64, { error: "Name must be at most 64 characters" }),
  // down/up: the push-to-talk edges, as they come (a script's quick presses are never read as
  // gestures); double/long: the button's gestures, which a head unit recognises itself.
  Action: z.enum(["down", "up", "double", "long"], { error: 'Action must be "down", "up", "double" or "long"' }),
});

const StatusCommand = z.object({
  Command: z.literal("Status"),
});

/** The state stream: a snapshot, then a frame per change until the client disconnects (state-stream.ts). */
const SubscribeCommand = z.object({
  Command: z.literal("Subscribe"),
});

/** Without Percent or Delta: the current volume. */
const VolumeCommand = z
  .object({
    Command: z.literal("Volume"),
    Percent: z.int({ error: "Percent must be a whole number from 0 to 100" }).min(0, { error: "Percent must be at least 0" }).max(100, { error: "Percent must be at most 100" }).optional(),
    Delta: z.int({ error: "Delta must be a whole number from -100 to 100" }).min(-100, { error: "Delta must be at least -100" }).max(100, { error: "Delta must be at most 100" }).optional(),
  })
  .refine((c) => c.Percent === undefined || c.Delta === undefined, { error: "give Percent or Delta, not both" });

const commandSchemas = [ButtonCommand, StatusCommand, SubscribeCommand, VolumeCommand] as const;

export const ControlCommandSchema = z.discriminatedUnion("Command", commandSchemas);
export type ControlCommand = z.infer<typeof ControlCommandSchema>;

const nameOf = (s: (typeof commandSchemas)[number]): string => s.shape.Command.value;

export const KNOWN_COMMANDS: readonly string[] = commandSchemas.map(nameOf);

const schemaByName = new Map<string, (typeof commandSchemas)[number]>(commandSchemas.map((s) => [nameOf(s), s]));

export type ParseCommandResult = { ok: true; command: ControlCommand } | { ok: false; error: string };

export function parseCommand(value: unknown): ParseCommandResult {
  const known = KNOWN_COMMANDS.join(", ");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: `a command must be a JSON object such as {"Command":"Status"}; got ${describe(value)}` };
  }
  const name = (value as Record<string, unknown>)["Command"];
  if (typeof name !== "string") {
    return { ok: false, error: `missing "Command" string; expected one of: ${known}` };
  }
  // The discriminated union would say "invalid input"; naming the command and
  // the alternatives is what a client author needs.
  const schema = schemaByName.get(name);
  if (!schema) return { ok: false, error: `unknown Command ${JSON.stringify(name)}; expected one of: ${known}` };
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, command: parsed.data };
  const problems = parsed.error.issues.map((i) => i.message).join("; ");
  return { ok: false, error: `invalid ${name} command: ${problems}` };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
