/** The speaker a device string names (audio/device-name.ts): the native speaker module, aplay, or a folder of WAV files. */
import path from "node:path";
import type { SinkLog } from "./thread-log";
import type { PcmFormat } from "../../core/pcm";
import { PLAYBACK_SCHEMES, parseDevice, type PlaybackScheme } from "../device-name";
import type { PcmSink } from "./sink";
import { AplaySink } from "./aplay-sink";
import { loadSpeaker, SpeakerSink } from "./speaker-sink";
import { WavDirSink } from "./wav-dir-sink";

type PlaybackDriver = (target: string, format: PcmFormat, log: SinkLog) => PcmSink;

const playbackDrivers: Record<PlaybackScheme, PlaybackDriver> = {
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

export function openPlayback(device: string, format: PcmFormat, log: SinkLog): PcmSink {
  const { driver, target } = parseDevice(device, PLAYBACK_SCHEMES);
  return playbackDrivers[driver](target, format, log);
}
