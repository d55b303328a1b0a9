/**
 * The board's sense inputs (profile `inputs:`, e.g. ignition, on-battery) that
 * get_device_status reports. Opened at start and watched by the GPIO driver, so a
 * read is the last known level, without spawning anything per call.
 */
import type { BoardProfile } from "../../config/board-profile";
import type { GpioInput } from "../../hardware/gpio/types";
import type { Logger } from "../../log/logger";
import type { PinOpener } from "./pins";

type InputProfile = BoardProfile["inputs"][number];

export class BoardInputs {
  private constructor(private readonly inputs: Map<string, GpioInput | null>) {}

  static async open(profiles: readonly InputProfile[], pins: PinOpener, log: Logger): Promise<BoardInputs> {
    const inputs = new Map<string, GpioInput | null>();
    for (const p of profiles) {
      try {
        const line = await pins.input({ pin: p.pin, activeLow: p.active_low });
        inputs.set(p.name, line);
        log.info(`input '${p.name}' on GPIO${p.pin} (${line.description})`);
      } catch (err) {
        inputs.set(p.name, null);
        log.error(`input '${p.name}' on GPIO${p.pin} is not available: ${(err as Error).message}`);
      }
    }
    return new BoardInputs(inputs);
  }

  /** Each input: true when active; null when its line could not be opened. */
  read(): Record<string, boolean | null> {
    return Object.fromEntries([...this.inputs].map(([name, line]) => [name, line ? line.read() === 1 : null]));
  }

  close(): void {
    for (const [name, line] of this.inputs) {
      try {
        line?.close();
      } catch {
        // shutting down: nothing left to do about a line that will not close
      }
      this.inputs.set(name, null);
    }
  }
}
