/**
 * Audio device strings. A device string is either `scheme:rest` for a known scheme, or a
 * plain ALSA PCM name (which may itself contain colons, like
 * `plughw:CARD=seeed2micvoicec,DEV=0`). The drivers behind each scheme are in
 * capture/open.ts and playback/open.ts.
 */

/** Mic drivers: ALSA (arecord), or a WAV/raw file played as the mic. */
export const CAPTURE_SCHEMES = ["alsa", "file"] as const;
/** Speaker drivers: ALSA (the native speaker module, aplay when it is missing), aplay, or a folder of WAV files. */
export const PLAYBACK_SCHEMES = ["alsa", "aplay", "dir"] as const;

export type CaptureScheme = (typeof CAPTURE_SCHEMES)[number];
export type PlaybackScheme = (typeof PLAYBACK_SCHEMES)[number];

export function parseDevice<S extends string>(device: string, schemes: readonly S[]): { driver: S | "alsa"; target: string } {
  const m = /^([a-z]+):(.*)$/.exec(device);
  if (m && (schemes as readonly string[]).includes(m[1]!)) return { driver: m[1]! as S, target: m[2]! };
  return { driver: "alsa", target: device };
}

/** The ALSA PCM a device string names (`aplay:rigspk` names `rigspk`), or null for a stand-in. */
export function alsaPcm(device: string, direction: "capture" | "playback"): string | null {
  const { driver, target } = parseDevice<string>(device, direction === "capture" ? CAPTURE_SCHEMES : PLAYBACK_SCHEMES);
  return driver === "alsa" || driver === "aplay" ? target : null;
}

/** The playback driver a device string selects (alsa, aplay, dir) and its target. */
export function playbackDriver(device: string): { driver: PlaybackScheme; target: string } {
  return parseDevice(device, PLAYBACK_SCHEMES);
}
