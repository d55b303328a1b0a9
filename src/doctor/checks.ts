/**
 * `talkbox doctor`: each check says pass or fail and, when it fails, what to do.
 * Checks never throw; a check that cannot run is a failure with its reason.
 */
import { noConversations } from "../core/conversations";
import fs from "node:fs";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { AgentFactory } from "../app/agents/factory";
import type { AgentProfile } from "../app/agents/profiles";
import { DEFAULT_PROFILE } from "../config/agent-profiles";
import type { AgentEvent } from "../agent/events";
import { probeAlsa } from "../audio/probe";
import { alsaPcm } from "../audio/device-name";
import type { LoadedConfig } from "../config/load";
import { EMULATOR_URL } from "../config/schema";
import { backendNamed } from "../agent/registry";
import { realClock } from "../core/clock";
import { silentLogger } from "../log/logger";

export interface CheckResult {
  name: string;
  ok: boolean;
  /** Works, but not as well as it could (a fallback in use): printed WARN, with the fix. */
  warn?: boolean;
  detail: string;
  fix?: string;
}

/** Supplementary groups of this process, by name. */
function groups(): Set<string> {
  try {
    return new Set(execFileSync("id", ["-Gn"], { encoding: "utf8" }).trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

export async function audioChecks(loaded: LoadedConfig): Promise<CheckResult[]> {
  const a = loaded.config.audio;
  const out: CheckResult[] = [];
  for (const [direction, dev, key, fallback] of [
    ["capture", a.input, "audio.input", loaded.board.audio.capture.fallback],
    ["playback", a.output, "audio.output", loaded.board.audio.playback.fallback],
  ] as const) {
    const name = `ALSA ${direction} '${dev.device}' at ${dev.sample_rate} Hz, ${dev.channels} ch, ${dev.format}`;
    const pcm = alsaPcm(dev.device, direction);
    if (pcm === null) {
      out.push({ name, ok: true, detail: "a file stand-in, not a sound card" });
      continue;
    }
    const probe = await probeAlsa(direction, pcm, { sampleRate: dev.sample_rate, channels: dev.channels, sampleFormat: dev.format });
    if (!probe.ok && fallback) {
      out.push({ name, ok: true, detail: `not usable (${probe.reason}); the board's stand-in ${fallback} is used instead` });
      continue;
    }
    out.push(
      probe.ok
        ? { name, ok: true, detail: "opens at this format" }
        : {
            name,
            ok: false,
            detail: probe.reason,
            fix: `check the card is there (${direction === "capture" ? "arecord -l" : "aplay -l"}), the board's overlay is in /boot/firmware/config.txt (${loaded.board.boot.config_txt.join(", ") || "none needed"}), and ${key}.device / sample_rate / channels / format match what it accepts; the talkbox user needs the 'audio' group`,
          },
    );
  }
  return out;
}

export function gpioChecks(loaded: LoadedConfig, sysfs = "/sys/class/gpio"): CheckResult[] {
  const b = loaded.board;
  const pins = [
    ...b.buttons.flatMap((x) => (x.driver === "gpio" ? [x.pin] : [])),
    ...b.leds.flatMap((l) => (l.driver === "apa102" ? [l.data_pin, l.clock_pin, l.power?.pin].filter((p): p is number => p !== undefined) : [l.pin])),
    ...b.enable_pins.map((e) => e.pin),
  ];
  if (pins.length === 0) return [];
  const out: CheckResult[] = [];
  const name = `GPIO pins ${[...new Set(pins)].join(", ")}`;
  const haveSysfs = fs.existsSync(sysfs);
  // gpiodetect exits 0 with no chip at all: what counts is whether it lists one.
  let haveGpiod = false;
  try {
    haveGpiod = execFileSync("gpiodetect", [], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
  } catch {
    // not installed
  }
  if (!haveSysfs && !haveGpiod) {
    out.push({
      name,
      ok: false,
      detail: `no GPIO access: ${sysfs} is absent and the libgpiod tools are not installed or find no chip`,
      fix: "on a Raspberry Pi: sudo apt install gpiod; elsewhere this board's buttons and LEDs cannot work",
    });
  } else {
    const labels = haveSysfs ? chipLabels(sysfs) : [];
    const found = b.gpio_chip_labels.find((l) => labels.includes(l));
    out.push(
      haveSysfs && !found
        ? { name, ok: false, detail: `no GPIO chip labelled ${b.gpio_chip_labels.join(" or ")} (found: ${labels.join(", ") || "none"})`, fix: "set gpio_chip_labels in the board profile to your header's chip (see gpiodetect)" }
        : { name, ok: true, detail: haveSysfs ? `sysfs, chip ${found}` : "libgpiod tools" },
    );
  }
  if (os.userInfo().uid !== 0 && !groups().has("gpio")) {
    out.push({ name: "member of the gpio group", ok: false, detail: "this user is not in the 'gpio' group", fix: "sudo usermod -aG gpio talkbox (then restart the service)" });
  }
  return out;
}

function chipLabels(sysfs: string): string[] {
  try {
    return fs
      .readdirSync(sysfs)
      .filter((d) => d.startsWith("gpiochip"))
      .map((d) => fs.readFileSync(`${sysfs}/${d}/label`, "utf8").trim());
  } catch {
    return [];
  }
}

export function deviceFileChecks(loaded: LoadedConfig): CheckResult[] {
  const out: CheckResult[] = [];
  for (const l of loaded.board.leds) {
    if (l.driver !== "apa102" || !l.spi) continue;
    out.push(deviceFile(`SPI ${l.spi} for the APA102 LEDs`, l.spi, "spi", "enable SPI: add dtparam=spi=on to /boot/firmware/config.txt and reboot"));
  }
  const serial = loaded.board.serial;
  if (serial.panel) out.push(deviceFile(`serial panel ${serial.panel.path}`, serial.panel.path, "dialout", "plug the panel in; see firmware/udev for a stable name"));
  if (serial.gps) out.push(deviceFile(`GPS ${serial.gps.path}`, serial.gps.path, "dialout", "plug the GPS in, or remove serial.gps from the profile"));
  return out;
}

function deviceFile(name: string, path: string, group: string, fixMissing: string): CheckResult {
  if (!fs.existsSync(path)) return { name, ok: false, detail: "not present", fix: fixMissing };
  try {
    fs.accessSync(path, fs.constants.R_OK | fs.constants.W_OK);
    return { name, ok: true, detail: "present and writable" };
  } catch {
    return { name, ok: false, detail: "present but not accessible", fix: `sudo usermod -aG ${group} talkbox (then restart the service)` };
  }
}

/** Opens one session with each agent profile's agent: reachable, and the token accepted. */
export async function agentChecks(loaded: LoadedConfig, timeoutMs = 10_000): Promise<CheckResult[]> {
  const { config } = loaded;
  // One attempt: no reconnect within the check.
  const reconnect = { initialMs: 3_600_000, maxMs: 3_600_000, authFailureMs: config.agent.reconnect.auth_failure_ms };
  const agents = await AgentFactory.open(config, { log: silentLogger(), clock: realClock, tools: [], conversations: () => noConversations }, { reconnect });
  try {
    const out: CheckResult[] = [];
    for (const p of agents.profiles) out.push(await agentCheck(agents, p, agents.profiles.length > 1, timeoutMs));
    return out;
  } finally {
    await agents.close();
  }
}

async function agentCheck(agents: AgentFactory, p: AgentProfile, named: boolean, timeoutMs: number): Promise<CheckResult> {
  const where = p.agent.url === EMULATOR_URL ? "(built-in emulator)" : new URL(p.agent.url).host;
  const name = named ? `agent ${p.name} ${where}` : `agent ${where}`;
  // The keys the fixes name: agent.* for the default profile, agents.<name>.* for the others.
  const keys = p.name === DEFAULT_PROFILE ? "agent" : `agents.${p.name}`;
  const section = `${keys}.${p.agent.backend}`;
  const backend = agents.create(p);
  try {
    const first = await new Promise<AgentEvent | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      backend.subscribe((e) => {
        if (e.type === "link.ready" || e.type === "link.down") {
          clearTimeout(timer);
          resolve(e);
        }
      });
      backend.start();
    });
    if (first?.type === "link.ready") return { name, ok: true, detail: `session opened; ${first.input.codec}/${first.input.sampleRate} up, ${first.output.codec}/${first.output.sampleRate} down` };
    if (first?.type === "link.down") {
      const fix =
        first.problem === "auth"
          ? `fix ${keys}.token (or TALKBOX_TOKEN), or the key of ${section} the message names (a Coze bot must be published as an API service)`
          : first.problem === "quota"
            ? "the account's quota is used up: check the billing page of the agent's platform"
            : first.problem === "not_found"
              ? `no such agent: check ${keys}.url and the agent named in ${section} (a Coze bot must be published as an API service)`
              : first.problem === "bad_request"
                ? `the agent refused the device's settings: see the message; check ${section} and audio.uplink_*/downlink_*`
                : first.problem === "network"
                  ? `check the network (ping, DNS) and ${keys}.url`
                  : `see the message; check ${keys}.url`;
      return { name, ok: false, detail: first.message, fix };
    }
    return { name, ok: false, detail: `no answer within ${timeoutMs / 1000} s`, fix: `check the network and ${keys}.url` };
  } finally {
    await backend.stop();
  }
}

/** The backend's health endpoint, when its protocol documents one (the voice API's ping); none with the emulator. */
export async function healthChecks(loaded: LoadedConfig, timeoutMs = 5_000): Promise<CheckResult[]> {
  const { config } = loaded;
  const d = backendNamed(config.agent.backend);
  if (!d?.healthUrl || config.agent.url === EMULATOR_URL) return [];
  const url = d.healthUrl((config.agent as unknown as Record<string, unknown>)[d.name], config.agent.url);
  const name = `health ${url}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    if (res.ok) return [{ name, ok: true, detail: `HTTP ${res.status}` }];
    return [{ name, ok: false, detail: `HTTP ${res.status}`, fix: "the service answers but says it is not available: try again later, or check agent.url / the host" }];
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return [{ name, ok: false, detail: why, fix: "check the network (ping, DNS) and the host in agent.url / agent.voiceapi.host" }];
  }
}
