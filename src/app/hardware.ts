/**
 * Brings up the board's hardware from its profile: talk buttons (GPIO, serial panel)
 * feed their edges to the input router; the device state drives the LEDs (in the agent
 * profile's colour while it speaks) and the panel's LED.
 * (The GPS, which the agent reads, is app/location.ts.) A part that fails to open is logged with its
 * fix and left out: the daemon keeps running (the control socket still works).
 */
import type { BoardProfile, ButtonProfile } from "../config/board-profile";
import type { Clock } from "../core/clock";
import { DisposerStack } from "../core/disposers";
import type { Conversation } from "../device/conversation";
import type { StateChange } from "../device/state-machine";
import type { DeviceActivity } from "../core/activity";
import type { Logger } from "../log/logger";
import type { ButtonEdges } from "../hardware/buttons/button";
import { watchButton } from "../hardware/buttons/gpio-button";
import { openGpio } from "../hardware/gpio/open";
import type { GpioOutput, Level } from "../hardware/gpio/types";
import { LedController, openLedDriver } from "../hardware/leds/driver";
import { resolveLedPatterns, type Rgb } from "../hardware/leds/patterns";
import { SerialPanel } from "../hardware/serial/panel";

export interface HardwareOptions {
  board: BoardProfile;
  conversation: Conversation;
  log: Logger;
  clock: Clock;
  /** The agent profile in use: the LEDs show it in its colour while it speaks. */
  agents?: { readonly active: { color?: Rgb }; onActive(listener: (p: { color?: Rgb }) => void): void };
  /** Where the buttons' edges go: one gesture recogniser per button and source (app/inputs/router.ts). */
  inputs: { attach(b: ButtonProfile, source: "gpio" | "panel", initialLevel?: Level): ButtonEdges };
}

export interface Hardware {
  close(): Promise<void>;
}

export async function attachHardware(o: HardwareOptions): Promise<Hardware> {
  const { board, conversation, log, clock } = o;
  const closers = new DisposerStack((err) => log.debug({ err: err.message }, "closing hardware"));
  const chipLabels = board.gpio_chip_labels;
  const openOutput = async (pin: number, initial: 0 | 1): Promise<GpioOutput> =>
    openGpio({ direction: "out", pin, initial, chipLabels, logger: log, onError: (err) => log.error(err.message) });

  for (const b of board.buttons) {
    if (b.driver !== "gpio") continue;
    try {
      const input = await openGpio({ direction: "in", pin: b.pin, activeLow: b.active_low, pull: b.pull, chipLabels, logger: log, onError: (err) => log.error(err.message) });
      const button = watchButton(input, (initialLevel) => o.inputs.attach(b, "gpio", initialLevel));
      closers.push(() => {
        button.close();
        input.close();
      });
      log.info(`button '${b.name}' on GPIO${b.pin} (${input.description})`);
    } catch (err) {
      log.error(`button '${b.name}' on GPIO${b.pin} is not available: ${(err as Error).message}`);
    }
  }

  const serialButtons = board.buttons.filter((b) => b.driver === "serial");
  if (board.serial.panel) {
    const panel = new SerialPanel({
      path: board.serial.panel.path,
      baudRate: board.serial.panel.baud,
      buttonNames: serialButtons.map((b) => b.key ?? b.name),
      logger: log.child({ component: "panel" }),
      clock,
    });
    const buttons = new Map(serialButtons.map((b) => [(b.key ?? b.name).toLowerCase(), o.inputs.attach(b, "panel")]));
    panel.on("down", (name: string) => buttons.get(name)?.edge(1));
    panel.on("up", (name: string) => buttons.get(name)?.edge(0));
    conversation.on("state", (c: StateChange) => panel.setState(c.to));
    panel.setState(conversation.state);
    panel.start();
    closers.push(async () => {
      for (const b of buttons.values()) b.close();
      await panel.close();
    });
  } else if (serialButtons.length > 0) {
    log.warn(`buttons ${serialButtons.map((b) => `'${b.name}'`).join(", ")} are on a serial panel, but the profile has no serial.panel`);
  }

  for (const l of board.leds) {
    try {
      const driver = await openLedDriver(l, { openOutput, clock, logger: log });
      const leds = new LedController({ driver, clock, logger: log, patterns: resolveLedPatterns(l.patterns ?? {}) });
      leds.setTint(o.agents?.active.color);
      o.agents?.onActive((p) => leds.setTint(p.color));
      leds.setState(conversation.state);
      // Offline shows why when the agent refused (the link's problem), and changes with it.
      let problem: string | undefined;
      conversation.on("state", (c: StateChange) => leds.setState(c.to, problem));
      conversation.on("activity", (a: DeviceActivity) => {
        if (a.kind !== "link") return;
        problem = a.state === "down" ? a.problem : undefined;
        leds.setState(conversation.state, problem);
      });
      closers.push(() => leds.close());
    } catch (err) {
      log.error(`LEDs (${l.driver}) are not available: ${(err as Error).message}`);
    }
  }

  for (const e of board.enable_pins) {
    try {
      const out = await openOutput(e.pin, e.active_low ? 0 : 1);
      closers.push(() => out.close());
    } catch (err) {
      log.error(`enable pin '${e.name}' on GPIO${e.pin} is not available: ${(err as Error).message}`);
    }
  }

  return {
    close: () => closers.disposeAll(),
  };
}
