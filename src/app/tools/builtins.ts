/**
 * The built-in device tools, opened from the board profile: set_volume,
 * get_volume, get_device_status, and set_output when the board declares outputs.
 */
import type { BoardProfile } from "../../config/board-profile";
import type { Logger } from "../../log/logger";
import { deviceStatusTool, type DeviceSnapshot } from "./device-status";
import { BoardInputs } from "./inputs";
import { BoardOutputs } from "./outputs";
import { gpioPins, type PinOpener } from "./pins";
import type { Tool } from "../../tools/runner";
import { volumeTools, type Volume } from "./volume";

export interface DeviceToolsOptions {
  board: BoardProfile;
  volume: Volume;
  /** The conversation's state, mode and link, read when the agent asks. */
  device: () => DeviceSnapshot;
  log: Logger;
  /** How outputs and inputs are opened; the board's GPIO chip by default. */
  pins?: PinOpener;
  wifiSsid?: () => Promise<string | null>;
}

export interface DeviceTools {
  tools: Tool[];
  outputs: BoardOutputs;
  inputs: BoardInputs;
  /** Releases the output and input lines. */
  close(): void;
}

/** Opens the board's outputs (driven to their initial level) and inputs; a line that fails is logged and reported as unavailable. */
export async function openDeviceTools(o: DeviceToolsOptions): Promise<DeviceTools> {
  const pins = o.pins ?? gpioPins(o.board, o.log);
  const outputs = await BoardOutputs.open(o.board.outputs, pins, o.log);
  const inputs = await BoardInputs.open(o.board.inputs, pins, o.log);
  const setOutput = outputs.tool();
  const tools = [
    ...volumeTools(o.volume),
    deviceStatusTool({ board: o.board, device: o.device, volume: o.volume, inputs, outputs, ...(o.wifiSsid ? { wifiSsid: o.wifiSsid } : {}) }),
    ...(setOutput ? [setOutput] : []),
  ];
  return {
    tools,
    outputs,
    inputs,
    close() {
      outputs.close();
      inputs.close();
    },
  };
}
