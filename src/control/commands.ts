/**
 * Control commands, PascalCase as in seed 004 (`{"Command": ..., ...}`). Each command the
 * daemon serves is one file in src/app/commands/ (its schema next to its handler); this is
 * the machinery they share, and the one command the socket serves itself, Subscribe.
 */
import { z } from "zod";

/** A command's schema: an object whose `Command` is its name. */
export type CommandSchema = z.ZodObject<{ Command: z.ZodLiteral<string> } & z.ZodRawShape>;

/** The state stream: a snapshot, then a frame per change until the client disconnects (state-stream.ts). */
export const SubscribeCommand = z.object({
  Command: z.literal("Subscribe"),
});

export type ParseCommandResult<C> = { ok: true; command: C } | { ok: false; error: string };

export interface CommandParser<C extends { Command: string }> {
  /** The command names, in the order given. */
  readonly names: readonly string[];
  parse(value: unknown): ParseCommandResult<C>;
}

const nameOf = (s: CommandSchema): string => s.shape.Command.value;

/**
 * A hand-written check of one command, for the few on the way from a button to the wire:
 * the command as its schema would give it, or undefined for anything the schema might refuse
 * (the schema then decides and words the error). Zod's walk over even a three-field object is
 * tens of microseconds when the daemon wakes from sleep, more than the state machine's work.
 */
export type QuickCheck = (value: Record<string, unknown>) => ({ Command: string } & Record<string, unknown>) | undefined;

export function commandParser<S extends readonly CommandSchema[]>(schemas: S, quick: Readonly<Record<string, QuickCheck>> = {}): CommandParser<z.output<S[number]> & { Command: string }> {
  const names = schemas.map(nameOf);
  const byName = new Map<string, CommandSchema>(schemas.map((s) => [nameOf(s), s]));
  const known = names.join(", ");
  return {
    names,
    parse(value) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return { ok: false, error: `a command must be a JSON object such as {"Command":"Status"}; got ${describe(value)}` };
      }
      const name = (value as Record<string, unknown>)["Command"];
      if (typeof name !== "string") return { ok: false, error: `missing "Command" string; expected one of: ${known}` };
      // A discriminated union would say "invalid input"; naming the command and the
      // alternatives is what a client author needs.
      const schema = byName.get(name);
      if (!schema) return { ok: false, error: `unknown Command ${JSON.stringify(name)}; expected one of: ${known}` };
      const fast = Object.hasOwn(quick, name) ? quick[name]!(value as Record<string, unknown>) : undefined;
      if (fast) return { ok: true, command: fast as z.output<S[number]> & { Command: string } };
      const parsed = schema.safeParse(value);
      if (parsed.success) return { ok: true, command: parsed.data as z.output<S[number]> & { Command: string } };
      const problems = parsed.error.issues.map((i) => i.message).join("; ");
      return { ok: false, error: `invalid ${name} command: ${problems}` };
    },
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
