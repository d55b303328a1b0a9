import type { GpioInput, Level } from "../gpio/types";
import type { ButtonEdges } from "./button";

/**
 * A button fed by a GPIO input: `attach` gets the level the input has now (a button held
 * at start is ignored until released). The input's timestamps must be on the button's
 * clock (both default to the real clock).
 */
export function watchButton(input: GpioInput, attach: (initialLevel: Level) => ButtonEdges): ButtonEdges {
  const button = attach(input.read());
  input.watch((level, atMs) => button.edge(level, atMs));
  return button;
}
