/**
 * Where the device is, for the agent (Coze's `extra_params` latitude/longitude, the voice API's
 * user context): a serial GPS from the board profile. Opened before the agent, so the agent is
 * given a source to ask rather than a reference to hardware that does not exist yet. Once the
 * position has moved `update_m` from the one last told, `onMove` says so, so a long drive does
 * not leave the agent with the start of it.
 */
import type { BoardProfile } from "../config/board-profile";
import type { Clock } from "../core/clock";
import type { Logger } from "../log/logger";
import { GpsReader, type GpsFix } from "../hardware/serial/gps";

export interface LocationSource {
  /** The latest fix; null without a GPS or before it has one. */
  location(): { latitude: string; longitude: string } | null;
  /** Called with the position each time it has moved update_m from the one last passed on (the first fix included). */
  onMove(listener: (location: { latitude: string; longitude: string }) => void): void;
  close(): Promise<void>;
}

const EARTH_RADIUS_M = 6_371_000;

/** Great-circle distance in metres (haversine). */
export function distanceM(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = (d: number): number => (d * Math.PI) / 180;
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function openLocation(board: BoardProfile, log: Logger, clock: Clock): LocationSource {
  const gps = board.serial.gps;
  if (!gps) return { location: () => null, onMove: () => {}, close: async () => {} };
  const reader = new GpsReader({ path: gps.path, baudRate: gps.baud, logger: log.child({ component: "gps" }), clock });
  const listeners: Array<(l: { latitude: string; longitude: string }) => void> = [];
  let told: GpsFix | null = null;
  reader.on("fix", (fix: GpsFix) => {
    if (told && distanceM(told, fix) < gps.update_m) return;
    told = fix;
    const where = reader.location();
    if (where) for (const l of listeners) l(where);
  });
  reader.start();
  return { location: () => reader.location(), onMove: (l) => void listeners.push(l), close: () => reader.close() };
}
