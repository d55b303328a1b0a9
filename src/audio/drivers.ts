/**
 * Audio drivers by name. A device string is either `scheme:rest` for a known
 * scheme, or a plain ALSA PCM name (which may itself contain colons, like
 * `plughw:CARD=seeed2micvoicec,DEV=0`).
 */
import path from "node:path";
import type { Logger } from "../log/logger";
import type { PcmFormat } from "../core/pcm";
import type { CaptureSource } from "./capture/source";
import { AlsaCapture } from "./capture/alsa-capture";
import { FileCapture } from "./capture/file-capture";
import type { PcmSink } from "./playback/sink";
import { AplaySink } from "./playback/aplay-sink";
import { loadSpeaker, SpeakerSink } from "./playback/speaker-sink";
import { WavDirSink } from "./playback/wav-dir-sink";

type CaptureDriver = (target: string, format: PcmFormat, log: Logger, periodMs: number) => CaptureSource;
type PlaybackDriver = (target: string, format: PcmFormat, log: Logger) => PcmSink;

const captureDrivers: Record<string, CaptureDriver> = {
  alsa: (dev, format, log, periodMs) => new AlsaCapture(dev, format, log, periodMs),
  file: (file, format, _log, periodMs) => new FileCapture(path.resolve(file), format, periodMs),
};

const playbackDrivers: Record<string, PlaybackDriver> = {
  alsa: (dev, format, log) => {
    let lib: ReturnType<typeof loadSpeaker>;
    try {
      lib = loadSpeaker();
    } catch (err) {
      log.warn({ err: (err as Error).message }, "the native 'speaker' module is unavailable; playing through aplay instead (build it: bash scripts/deps.sh; talkbox doctor says why it is missing)");
      return new AplaySink(dev, format, log);
    }
    return new SpeakerSink(dev, format, lib, log);
  },
  aplay: (dev, format, log) => new AplaySink(dev, format, log),
  dir: (dir, format) => new WavDirSink(path.resolve(dir), format),
};

export function parseDevice(device: string, known: Record<string, unknown>): { driver: string; target: string } {
  const m = /^([a-z]+):(.*)$/.exec(device);
  if (m && m[1]! in known) return { driver: m[1]!, target: m[2]! };
  return { driver: "alsa", target: device };
}

/** The ALSA PCM a device string names (`aplay:rigspk` names `rigspk`), or null for a stand-in. */
export function alsaPcm(device: string, direction: "capture" | "playback"): string | null {
  const { driver, target } = parseDevice(device, direction === "capture" ? captureDrivers : playbackDrivers);
  return driver === "alsa" || driver === "aplay" ? target : null;
}

/** The playback driver a device string selects (alsa, aplay, dir) and its target. */
export function playbackDriver(device: string): { driver: string; target: string } {
  return parseDevice(device, playbackDrivers);
}

export function openCapture(device: string, format: PcmFormat, log: Logger, periodMs: number): CaptureSource {
  const { driver, target } = parseDevice(device, captureDrivers);
  return captureDrivers[driver]!(target, format, log, periodMs);
}

export function openPlayback(device: string, format: PcmFormat, log: Logger): PcmSink {
  const { driver, target } = parseDevice(device, playbackDrivers);
  return playbackDrivers[driver]!(target, format, log);
}
