/**
 * `talkbox doctor`: the npm packages with native code, each built, on its fallback, or
 * missing, and what to do. They are built at install time by scripts/deps.sh
 * (scripts/natives.js), which keeps each one's build log in node_modules/.talkbox-natives/.
 */
import fs from "node:fs";
import path from "node:path";
import { playbackDriver } from "../audio/device-name";
import { probeSpeaker } from "../audio/playback/speaker-probe";
import { probeAlsa } from "../audio/probe";
import type { LoadedConfig } from "../config/load";
import type { CheckResult } from "./checks";

/** The app's directory: dist/src/doctor → the top. */
const APP = path.resolve(__dirname, "../../..");
const REBUILD = "re-run the installer (sudo ./scripts/install.sh from your checkout), which rebuilds them; in a checkout: bash scripts/deps.sh";

interface Native {
  /** The package whose native code it is. */
  module: string;
  usedFor: string;
  /** What runs instead when it does not load (the product still works), or null: nothing. */
  fallback: (loaded: LoadedConfig) => string | null;
  /** Whether this config needs it at all. */
  needed: (loaded: LoadedConfig) => boolean | Promise<boolean>;
  /** Said when it is not needed (default: this config does not use it). */
  unused?: string;
  /** Loads it, or throws why not; what it returns is said after "built". The default requires it in this process. */
  load?: (loaded: LoadedConfig) => Promise<string | void>;
}

const NATIVES: Native[] = [
  {
    module: "speaker",
    usedFor: "ALSA playback",
    fallback: () => "aplay (a child process per reply stream; flushes by killing it)",
    // Only for an ALSA device that opens: otherwise the ALSA line above says what is wrong
    // (or that the board's stand-in plays), and speaker is not the problem.
    needed: async (l) => {
      const out = l.config.audio.output;
      if (playbackDriver(out.device).driver !== "alsa") return false;
      return (await probeAlsa("playback", playbackDriver(out.device).target, { sampleRate: out.sample_rate, channels: out.channels, sampleFormat: out.format })).ok;
    },
    unused: "not in use: the playback device is not an ALSA device that opens (see above)",
    // In a child process, on the configured device: loading it runs native code that opens ALSA.
    load: async (l) => {
      const out = l.config.audio.output;
      const probe = await probeSpeaker(playbackDriver(out.device).target, { sampleRate: out.sample_rate, channels: out.channels, sampleFormat: out.format });
      if (!probe.ok) throw new Error(probe.reason);
      return probe.player
        ? "plays from talkbox's C playback thread"
        : "without talkbox's C playback thread (built without its patch; plays from a worker thread, at more CPU and memory: bash scripts/deps.sh)";
    },
  },
  {
    module: "@discordjs/opus",
    usedFor: "Opus encode/decode",
    fallback: () => "opusscript (libopus in WebAssembly; several times the CPU)",
    needed: (l) => l.config.audio.uplink_codec === "opus" || l.config.audio.downlink_codec === "opus",
  },
  {
    module: "better-sqlite3",
    usedFor: "conversation analytics (talkbox stats)",
    fallback: (l) => (l.config.analytics.prometheus_file ? "none for talkbox stats; the Prometheus file still counts since the start" : "none: talkbox stats says it is missing"),
    needed: (l) => l.config.analytics.enabled,
    unused: "not in use: analytics.enabled is false",
  },
  {
    module: "@serialport/bindings-cpp",
    usedFor: "the serial button panel and GPS (serialport)",
    fallback: () => null,
    needed: (l) => l.board.serial.panel !== undefined || l.board.serial.gps !== undefined,
  },
  {
    module: "epoll",
    usedFor: "GPIO through sysfs (onoff)",
    fallback: () => "the libgpiod tools (gpiomon/gpioset), when installed",
    needed: (l) => l.board.buttons.some((b) => b.driver === "gpio") || l.board.leds.length > 0,
  },
  {
    module: "unix-dgram",
    usedFor: "systemd readiness and watchdog notifications",
    fallback: () => null,
    needed: () => true,
  },
];

function buildLog(module: string): string | null {
  const file = path.join(APP, "node_modules", ".talkbox-natives", `${module.replace("/", "+")}.log`);
  return fs.existsSync(file) ? file : null;
}

/** Whether the package is installed with a compiled addon (a .node file) in it. */
function compiled(module: string): boolean {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${module}/package.json`));
  } catch {
    return false;
  }
  const walk = (d: string, depth: number): boolean =>
    fs.readdirSync(d, { withFileTypes: true }).some((e) =>
      e.isFile() ? e.name.endsWith(".node") : e.isDirectory() && e.name !== "node_modules" && depth < 5 && walk(path.join(d, e.name), depth + 1),
    );
  return walk(dir, 0);
}

export async function nativeChecks(loaded: LoadedConfig): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const n of NATIVES) {
    const name = `native module ${n.module} (${n.usedFor})`;
    let why: string | null = null;
    let said: string | void = undefined;
    try {
      if (n.load) said = await n.load(loaded);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      else require(n.module);
    } catch (err) {
      why = (err as Error).message.split("\n")[0] ?? "does not load";
    }
    if (why === null) {
      out.push({ name, ok: true, detail: said ? `built, ${said}` : "built" });
      continue;
    }
    const log = buildLog(n.module);
    const fix = compiled(n.module)
      ? `it is built but does not load or open the device here: the reason above says which${n.module === "speaker" ? " (check audio.output.device with aplay -L)" : ""}`
      : `${REBUILD}${log ? `; why it did not build: ${log}` : ""}`;
    const fallback = n.fallback(loaded);
    if (!(await n.needed(loaded))) {
      out.push({ name, ok: true, detail: `${compiled(n.module) ? "built" : "not built"}, ${n.unused ?? "not used by this config"} (${why})` });
    } else if (fallback) {
      out.push({ name, ok: true, warn: true, detail: `fallback: ${fallback}, because it does not load (${why})`, fix });
    } else {
      out.push({ name, ok: false, detail: `missing: ${why}`, fix });
    }
  }
  return out;
}
