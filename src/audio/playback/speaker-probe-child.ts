/**
 * Run by speaker-probe.ts as a child process: loads the native `speaker` module and opens
 * the device at the format, then closes it (no sound is played). A native module may abort
 * the process that loads it (speaker 0.5.5 does when ALSA's `default` cannot be opened and
 * it is built without talkbox's patch); here that costs a child, not the daemon.
 * argv[2]: JSON { module, device, sampleRate, channels, bits }.
 */
import { loadSpeaker } from "./speaker-sink";

const want = JSON.parse(process.argv[2] ?? "{}") as { module: string; device: string; sampleRate: number; channels: number; bits: 16 | 32 };
try {
  const { binding } = loadSpeaker(want.module);
  const format = want.bits === 32 ? binding.MPG123_ENC_SIGNED_32 : binding.MPG123_ENC_SIGNED_16;
  const handle = binding.open(want.channels, want.sampleRate, format, want.device);
  binding.close(handle);
  // Whether the addon carries talkbox's C playback thread (doctor says so).
  process.stdout.write(typeof binding.playerStart === "function" ? "player\n" : "no-player\n");
  process.exit(0);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
