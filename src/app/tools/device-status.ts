/**
 * get_device_status: what the agent may want to know about the device itself —
 * board, conversation state, uptime, network, volume, and the board's inputs
 * (ignition, on-battery) and outputs. Everything is read when asked; an optional
 * part that cannot be read (no iwgetid, not on Wi-Fi) is left out, never an error.
 */
import { execFile } from "node:child_process";
import os from "node:os";
import { z } from "zod";
import type { BoardInputs } from "./inputs";
import type { BoardOutputs } from "./outputs";
import { defineTool, type Tool } from "../../tools/runner";

/** The conversation as `talkbox status` shows it. */
export interface DeviceSnapshot {
  state: string;
  mode: string;
  link: string;
}

export interface DeviceStatusDeps {
  board: { name: string; description: string };
  device: () => DeviceSnapshot;
  volume: { readonly percent: number };
  inputs?: Pick<BoardInputs, "read">;
  outputs?: Pick<BoardOutputs, "states">;
  /** The Wi-Fi network's name, or null; defaults to `iwgetid -r`. */
  wifiSsid?: () => Promise<string | null>;
}

export interface DeviceStatus {
  board: string;
  board_description: string;
  state: string;
  mode: string;
  link: string;
  time: string;
  uptime_s: { talkbox: number; system: number };
  network: { interfaces: Array<{ name: string; ipv4: string[] }>; wifi_ssid?: string };
  volume_percent: number;
  inputs?: Record<string, boolean | null>;
  outputs?: Record<string, boolean | null>;
}

export async function deviceStatus(d: DeviceStatusDeps): Promise<DeviceStatus> {
  const device = d.device();
  const ssid = await (d.wifiSsid ?? iwgetidSsid)().catch(() => null);
  const inputs = d.inputs?.read();
  const outputs = d.outputs?.states();
  return {
    board: d.board.name,
    board_description: d.board.description,
    state: device.state,
    mode: device.mode,
    link: device.link,
    time: new Date().toISOString(),
    uptime_s: { talkbox: Math.round(process.uptime()), system: Math.round(os.uptime()) },
    network: { interfaces: ipv4Interfaces(), ...(ssid ? { wifi_ssid: ssid } : {}) },
    volume_percent: d.volume.percent,
    ...(inputs && Object.keys(inputs).length ? { inputs } : {}),
    ...(outputs && Object.keys(outputs).length ? { outputs } : {}),
  };
}

/** Interfaces with an IPv4 address, loopback left out. */
export function ipv4Interfaces(): Array<{ name: string; ipv4: string[] }> {
  const result: Array<{ name: string; ipv4: string[] }> = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    const ipv4 = (addrs ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => a.address);
    if (ipv4.length) result.push({ name, ipv4 });
  }
  return result;
}

/** `iwgetid -r` prints the SSID; it is missing on boards without wireless-tools and fails when not on Wi-Fi. */
function iwgetidSsid(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("iwgetid", ["-r"], { timeout: 1000, encoding: "utf8" }, (err, stdout) => resolve(err ? null : stdout.trim() || null));
  });
}

export function deviceStatusTool(d: DeviceStatusDeps): Tool {
  return defineTool({
    name: "get_device_status",
    description:
      "Get the device's status: board, conversation state, uptime, network addresses and Wi-Fi, speaker volume, and the board's inputs (e.g. ignition) and outputs.",
    args: z.strictObject({}),
    run: () => deviceStatus(d),
  });
}
