/**
 * The sim board's talk button: a key in the terminal. Terminals report key
 * presses, not releases, so for push-to-talk one press holds and the next
 * releases (`toggle`); otherwise each key press is a click (down, then up).
 */
export interface KeyboardButton {
  close(): void;
}

export function attachKeyboard(
  stdin: NodeJS.ReadStream,
  key: string,
  handlers: { down: () => void; up: () => void; quit: () => void },
  toggle = true,
): KeyboardButton | null {
  if (!stdin.isTTY) return null;
  let held = false;
  stdin.setRawMode(true);
  stdin.resume();
  const onData = (buf: Buffer): void => {
    const s = buf.toString("utf8");
    if (s === "\u0003" || s === "q") return handlers.quit();
    if (s !== key) return;
    if (!toggle) {
      handlers.down();
      handlers.up();
      return;
    }
    held = !held;
    if (held) handlers.down();
    else handlers.up();
  };
  stdin.on("data", onData);
  return {
    close() {
      stdin.off("data", onData);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
