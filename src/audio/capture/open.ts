/** The mic a device string names (audio/device-name.ts): arecord on an ALSA device, or a file. */
import path from "node:path";
import type { Logger } from "../../log/logger";
import type { PcmFormat } from "../../core/pcm";
import { CAPTURE_SCHEMES, parseDevice, type CaptureScheme } from "../device-name";
import type { CaptureSource } from "./source";
import { AlsaCapture } from "./alsa-capture";
import { FileCapture } from "./file-capture";

type CaptureDriver = (target: string, format: PcmFormat, log: Logger, periodMs: number) => CaptureSource;

const captureDrivers: Record<CaptureScheme, CaptureDriver> = {
  alsa: (dev, format, log, periodMs) => new AlsaCapture(dev, format, log, periodMs),
  file: (file, format, _log, periodMs) => new FileCapture(path.resolve(file), format, periodMs),
};

export function openCapture(device: string, format: PcmFormat, log: Logger, periodMs: number): CaptureSource {
  const { driver, target } = parseDevice(device, CAPTURE_SCHEMES);
  return captureDrivers[driver](target, format, log, periodMs);
}
