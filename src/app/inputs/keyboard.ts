/**
 * The board's keyboard button (a key on the terminal the daemon runs in, for `npm run sim`
 * and development): its edges go through the input router like any other button's, and
 * `q` quits. Nothing when the board has no keyboard button or stdin is not a terminal.
 */
import type { BoardProfile } from "../../config/board-profile";
import type { ConversationMode } from "../../core/device-state";
import { attachKeyboard, type KeyboardButton } from "../../input/keyboard";
import type { Logger } from "../../log/logger";
import type { InputRouter } from "./router";

export interface KeyboardOptions {
  board: BoardProfile;
  inputs: Pick<InputRouter, "attach">;
  stdin: NodeJS.ReadStream;
  mode: ConversationMode;
  log: Logger;
  quit(): void;
}

export function attachKeyboardButton(o: KeyboardOptions): KeyboardButton | null {
  const keyButton = o.board.buttons.find((b) => b.driver === "keyboard");
  if (!keyButton?.key) return null;
  const key = o.inputs.attach(keyButton, "keyboard");
  const keyboard = attachKeyboard(o.stdin, keyButton.key, { down: () => key.edge(1), up: () => key.edge(0), quit: o.quit }, o.mode === "push-to-talk");
  if (!keyboard) {
    key.close();
    return null;
  }
  const label = keyButton.key === " " ? "space" : `'${keyButton.key}'`;
  o.log.info(
    o.mode === "push-to-talk"
      ? `press ${label} to talk, ${label} again to stop; q quits`
      : `just talk; ${label} interrupts the agent, or mutes/unmutes the mic; q quits`,
  );
  return keyboard;
}
