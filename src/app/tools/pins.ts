/**
 * How the board's tool-facing GPIO lines (profile `outputs:` and `inputs:`) are
 * opened. Levels are logical: active-low wiring is inverted by the GPIO driver.
 */
import type { BoardProfile } from "../../config/board-profile";
import { openGpio } from "../../hardware/gpio/open";
import type { GpioInput, GpioOutput, Level } from "../../hardware/gpio/types";
import type { Logger } from "../../log/logger";

export interface PinOpener {
  output(o: { pin: number; activeLow: boolean; initial: Level }): Promise<GpioOutput>;
  input(o: { pin: number; activeLow: boolean }): Promise<GpioInput>;
}

/** The real GPIO drivers, on the board's header chip. */
export function gpioPins(board: Pick<BoardProfile, "gpio_chip_labels">, log: Logger): PinOpener {
  const common = { chipLabels: board.gpio_chip_labels, logger: log, onError: (err: Error) => log.error(err.message) };
  return {
    output: (o) => openGpio({ direction: "out", ...o, ...common }),
    input: (o) => openGpio({ direction: "in", ...o, ...common }),
  };
}
