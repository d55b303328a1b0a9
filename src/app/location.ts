/**
 * Where the device is, for the agent (Coze's `extra_params` latitude/longitude): a serial
 * GPS from the board profile. Opened before the agent, so the agent is given a source to ask
 * rather than a reference to hardware that does not exist yet.
 */
import type { BoardProfile } from "../config/board-profile";
import type { Clock } from "../core/clock";
import type { Logger } from "../log/logger";
import { GpsReader } from "../hardware/serial/gps";

export interface LocationSource {
  /** The latest fix; null without a GPS or before it has one. */
  location(): { latitude: string; longitude: string } | null;
  close(): Promise<void>;
}

export function openLocation(board: BoardProfile, log: Logger, clock: Clock): LocationSource {
  const gps = board.serial.gps;
  if (!gps) return { location: () => null, close: async () => {} };
  const reader = new GpsReader({ path: gps.path, baudRate: gps.baud, logger: log.child({ component: "gps" }), clock });
  reader.start();
  return { location: () => reader.location(), close: () => reader.close() };
}
