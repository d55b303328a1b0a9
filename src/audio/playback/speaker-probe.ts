import { execFile } from "node:child_process";
import path from "node:path";
import type { PcmFormat } from "../../core/pcm";
import type { ProbeResult } from "../probe";

/**
 * Whether the native `speaker` module loads and opens `device` at `format`, asked of a
 * child process (speaker-probe-child.ts) so that an abort inside the native code cannot take
 * the daemon down. `module` is what to require (tests give a module that aborts).
 */
export function probeSpeaker(device: string, format: PcmFormat, opts: { module?: string; timeoutMs?: number } = {}): Promise<ProbeResult & { player?: boolean }> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const want = {
    module: opts.module ?? "speaker",
    device,
    sampleRate: format.sampleRate,
    channels: format.channels,
    bits: format.sampleFormat === "S32_LE" ? 32 : 16,
  };
  const child = path.join(__dirname, "speaker-probe-child.js");
  return new Promise((resolve) => {
    execFile(process.execPath, [child, JSON.stringify(want)], { timeout: timeoutMs }, (err, stdout, stderr) => {
      // player: the addon has talkbox's C playback thread (native-thread.ts).
      if (!err) return resolve({ ok: true, player: String(stdout).trim() === "player" });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals | null };
      const lines = String(stderr).split("\n").map((l) => l.trim()).filter(Boolean);
      if (e.killed) return resolve({ ok: false, reason: `the speaker module did not open '${device}' within ${timeoutMs} ms` });
      if (e.signal) {
        // What the native code said before it aborted: ALSA's and speaker's own lines.
        const said = lines.filter((l) => /error|assert|cannot/i.test(l)).slice(-2).join("; ");
        return resolve({ ok: false, reason: `the speaker module crashed the process that loaded it (${e.signal}${said ? `: ${said}` : ""})` });
      }
      resolve({ ok: false, reason: lines.at(-1) ?? `exit ${String(e.code)}` });
    });
  });
}
