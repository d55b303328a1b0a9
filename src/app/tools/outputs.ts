/**
 * The board's user-controllable outputs (profile `outputs:`, e.g. a lamp relay):
 * opened at start and driven to `initial`, switched by the agent with set_output,
 * released at shutdown. An output whose line cannot be opened stays declared, so
 * the agent can tell the user why it does not work instead of not knowing it.
 */
import { z } from "zod";
import type { BoardProfile } from "../../config/board-profile";
import type { GpioOutput } from "../../hardware/gpio/types";
import type { Logger } from "../../log/logger";
import type { PinOpener } from "./pins";
import { defineTool, type Tool } from "../../tools/runner";

type OutputProfile = BoardProfile["outputs"][number];

interface OpenedOutput {
  profile: OutputProfile;
  line: GpioOutput | null;
  /** Why the line is not available. */
  problem?: string;
  on: boolean;
}

export class BoardOutputs {
  private constructor(
    private readonly outputs: Map<string, OpenedOutput>,
    private readonly log: Logger,
  ) {}

  static async open(profiles: readonly OutputProfile[], pins: PinOpener, log: Logger): Promise<BoardOutputs> {
    const outputs = new Map<string, OpenedOutput>();
    for (const p of profiles) {
      try {
        const line = await pins.output({ pin: p.pin, activeLow: p.active_low, initial: p.initial ? 1 : 0 });
        outputs.set(p.name, { profile: p, line, on: p.initial });
        log.info(`output '${p.name}' on GPIO${p.pin} (${line.description}), ${p.initial ? "on" : "off"}`);
      } catch (err) {
        const problem = (err as Error).message;
        outputs.set(p.name, { profile: p, line: null, problem, on: false });
        log.error(`output '${p.name}' on GPIO${p.pin} is not available: ${problem}`);
      }
    }
    return new BoardOutputs(outputs, log);
  }

  get names(): string[] {
    return [...this.outputs.keys()];
  }

  /** Each output's state; null for one that could not be opened. */
  states(): Record<string, boolean | null> {
    return Object.fromEntries([...this.outputs].map(([name, o]) => [name, o.line ? o.on : null]));
  }

  /** Switches an output; throws an Error that says why it could not. */
  set(name: string, on: boolean): void {
    const o = this.outputs.get(name);
    if (!o) throw new Error(`no output named '${name}'; this board has: ${this.names.join(", ") || "none"}`);
    if (!o.line) throw new Error(`output '${name}' is not available on this device: ${o.problem ?? "its GPIO line could not be opened"}`);
    o.line.write(on ? 1 : 0);
    o.on = on;
    this.log.info(`output '${name}' switched ${on ? "on" : "off"}`);
  }

  close(): void {
    for (const [name, o] of this.outputs) {
      try {
        o.line?.close();
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, `closing output '${name}'`);
      }
      o.line = null;
      o.problem = "the device is shutting down";
    }
  }

  /** set_output, or null when the board declares no outputs. */
  tool(): Tool | null {
    const profiles = [...this.outputs.values()].map((o) => o.profile);
    const [first, ...rest] = profiles.map((p) => p.name);
    if (first === undefined) return null;
    const list = profiles.map((p) => `${p.name} (${p.description})`).join("; ");
    return defineTool({
      name: "set_output",
      description: `Switch one of the device's outputs on or off. Outputs: ${list}.`,
      args: z.strictObject({
        name: z.enum([first, ...rest]).describe("Which output."),
        on: z.boolean().describe("true to switch it on, false to switch it off."),
      }),
      run: (a) => {
        this.set(a.name, a.on);
        return { name: a.name, on: a.on };
      },
    });
  }
}
