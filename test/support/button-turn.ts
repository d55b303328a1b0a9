/** A push-to-talk turn on one of the board's buttons, pressed over the control socket. */
import { once } from "node:events";
import type { TurnRecord } from "../../src/emulator/server";
import type { Device } from "./device";

/** Presses `name`, holds it for `appends` 20 ms appends, releases; resolves with the emulator's turn once the device rests. */
export async function buttonTurn(dev: Device, name: string, appends = 40): Promise<TurnRecord> {
  const from = dev.daemon.logs.length;
  await dev.control.request({ Command: "Button", Name: name, Action: "down" });
  await dev.appends(appends);
  const done = once(dev.emulator.events, "turn") as Promise<[TurnRecord]>;
  await dev.control.request({ Command: "Button", Name: name, Action: "up" });
  const [turn] = await done;
  await dev.daemon.waitForState("idle", 15_000, from + 2);
  return turn;
}
