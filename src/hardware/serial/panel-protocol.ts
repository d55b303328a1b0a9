/**
 * The button/LED panel line protocol (firmware/panel/PROTOCOL.md): parsing the
 * panel's lines and formatting the device's. No I/O here.
 */
import type { DeviceState } from "../../core/device-state";

/** Longest line either side may send, in bytes, without the terminator. */
export const PANEL_MAX_LINE = 128;

export type PanelMessage =
  | { type: "button"; name: string; action: "down" | "up" }
  | { type: "hello"; firmware: string; version: string }
  | { type: "pong" };

export type PanelParse = PanelMessage | { type: "invalid"; reason: string } | { type: "empty" };

const NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/** Parses one line from the panel (terminator already removed). */
export function parsePanelLine(line: string): PanelParse {
  const words = line.trim().split(/[ \t]+/);
  const keyword = (words[0] ?? "").toUpperCase();
  if (keyword === "") return { type: "empty" };
  switch (keyword) {
    case "BTN": {
      const [, name, action, ...rest] = words;
      if (name === undefined || action === undefined || rest.length > 0) return { type: "invalid", reason: "expected BTN <name> DOWN|UP" };
      if (!NAME.test(name)) return { type: "invalid", reason: "bad button name (1-32 of A-Z a-z 0-9 _ . -)" };
      const a = action.toUpperCase();
      if (a !== "DOWN" && a !== "UP") return { type: "invalid", reason: "expected BTN <name> DOWN|UP" };
      return { type: "button", name: name.toLowerCase(), action: a === "DOWN" ? "down" : "up" };
    }
    case "HELLO": {
      const [, firmware, version, ...rest] = words;
      if (firmware === undefined || version === undefined || rest.length > 0) return { type: "invalid", reason: "expected HELLO <firmware-name> <version>" };
      return { type: "hello", firmware, version };
    }
    case "PONG":
      return words.length === 1 ? { type: "pong" } : { type: "invalid", reason: "PONG takes no arguments" };
    default:
      return { type: "invalid", reason: "unknown keyword" };
  }
}

export function ledLine(state: DeviceState): string {
  return `LED ${state}`;
}

export const PING_LINE = "PING";

export function helloLine(version: string): string {
  return `HELLO talkbox ${version.replace(/\s+/g, "_") || "unknown"}`;
}
