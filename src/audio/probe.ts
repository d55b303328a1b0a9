import { execFile } from "node:child_process";
import type { PcmFormat } from "../core/pcm";

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/**
 * Opens an ALSA device with the alsa-utils tools at the given format. Done in a
 * child process: some ALSA failures abort the process that hits them.
 */
export function probeAlsa(direction: "capture" | "playback", device: string, format: PcmFormat, timeoutMs = 5000): Promise<ProbeResult> {
  const common = ["-q", "-D", device, "-t", "raw", "-f", format.sampleFormat ?? "S16_LE", "-r", String(format.sampleRate), "-c", String(format.channels)];
  const [cmd, args] =
    direction === "capture" ? ["arecord", [...common, "-s", "1", "/dev/null"]] : ["aplay", [...common, "/dev/null"]];
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) return resolve({ ok: true });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === "ENOENT") return resolve({ ok: false, reason: `${cmd} is not installed (apt install alsa-utils)` });
      if (e.killed) return resolve({ ok: false, reason: `${cmd} did not open '${device}' within ${timeoutMs} ms (device busy?)` });
      const line = String(stderr).trim().split("\n").filter(Boolean).pop();
      resolve({ ok: false, reason: line ?? `${cmd} failed` });
    });
  });
}
