import type { GpioInput } from "../gpio/types";
import { Button, type ButtonEvent, type ButtonOptions } from "./button";

/**
 * A button fed by a GPIO input. The input's timestamps must be on the
 * button's clock (both default to the real clock).
 */
export function watchButton(input: GpioInput, opts: Omit<ButtonOptions, "initialLevel">, emit: (e: ButtonEvent) => void): Button {
  const button = new Button({ ...opts, initialLevel: input.read() }, emit);
  input.watch((level, atMs) => button.edge(level, atMs));
  return button;
}
