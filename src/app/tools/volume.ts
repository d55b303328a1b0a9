/**
 * The speaker volume, 0–100 %, changed by the agent (set_volume) and, later, the
 * control socket. Drivers by name (audio.volume.driver): `software` scales the
 * reply PCM before it reaches the speaker; `alsa-mixer` sets a mixer control of
 * the sound card with amixer. The level is saved in the state store and restored
 * at start; audio.volume.initial_percent applies until anything was saved.
 */
import { execFile, type ExecFileException } from "node:child_process";
import { z } from "zod";
import { gainToDb, percentToGain } from "../../audio/playback/gain";
import type { Config } from "../../config/schema";
import type { Logger } from "../../log/logger";
import type { StateStore } from "../../core/state-store";
import { defineTool, type Tool } from "../../tools/runner";

export const VOLUME_KEY = "volume.percent";

export interface VolumeDriver {
  /** For logs: "software gain", "ALSA mixer 'PCM' on card 1". */
  readonly description: string;
  /** Makes the speaker play at `percent`; rejects with an Error that says what to fix. */
  apply(percent: number): Promise<void>;
}

/** Where the software gain goes: the playback engine (PlaybackEngine.setGain). */
export interface GainTarget {
  setGain(gain: number): void;
}

export function softwareVolume(target: GainTarget): VolumeDriver {
  return {
    description: "software gain",
    apply: async (percent) => target.setGain(percentToGain(percent)),
  };
}

export interface AlsaMixerOptions {
  control: string;
  /** Card index or name (amixer -c); the default card when unset. */
  card?: string;
  /** The amixer binary; tests point it elsewhere. */
  amixer?: string;
}

export function alsaMixerVolume(o: AlsaMixerOptions): VolumeDriver {
  const card = o.card === undefined ? [] : ["-c", o.card];
  const where = `mixer control '${o.control}' on ${o.card === undefined ? "the default card" : `card ${o.card}`}`;
  return {
    description: `ALSA ${where}`,
    apply: (percent) =>
      new Promise((resolve, reject) => {
        // -M: the percentage on alsamixer's perceptual ("mapped") scale, like the software curve.
        execFile(o.amixer ?? "amixer", [...card, "-M", "sset", o.control, `${percent}%`], { timeout: 3000, encoding: "utf8" }, (err, _stdout, stderr) => {
          if (!err) return resolve();
          reject(new Error(`cannot set the ${where}: ${amixerProblem(err, stderr, o)}`));
        });
      }),
  };
}

/** What amixer's failure means and what to do about it. */
function amixerProblem(err: ExecFileException, stderr: string, o: AlsaMixerOptions): string {
  const cardArg = o.card === undefined ? "" : ` -c ${o.card}`;
  if (err.code === "ENOENT") return "amixer is not installed (sudo apt install alsa-utils), or set audio.volume.driver: software";
  const said = stderr.trim().split("\n").filter(Boolean).pop() ?? (err.killed ? "amixer did not answer within 3 s" : err.message);
  if (/Unable to find simple control/i.test(stderr)) {
    return `${said} — list the controls with \`amixer${cardArg} scontrols\` and set audio.volume.mixer_control to one of them`;
  }
  if (/Invalid card|cannot find card|Cannot get card index|Mixer attach .* error/i.test(stderr)) {
    return `${said} — no such sound card: list the cards with \`aplay -l\` and set audio.volume.mixer_card, or use audio.volume.driver: software`;
  }
  return said;
}

export interface VolumeOptions {
  config: Config["audio"]["volume"];
  store: StateStore;
  log: Logger;
  /** The playback engine, for the software driver. */
  playback: GainTarget;
  /** The amixer binary for the alsa-mixer driver; tests point it elsewhere. */
  amixer?: string;
}

export class Volume {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: Array<(percent: number) => void> = [];

  private constructor(
    private level: number,
    private readonly driver: VolumeDriver,
    private readonly store: StateStore,
    private readonly log: Logger,
  ) {}

  /** Restores the saved level (or the initial one) and applies it; a driver failure is logged, never thrown. */
  static async open(o: VolumeOptions): Promise<Volume> {
    const c = o.config;
    const driver =
      c.driver === "software"
        ? softwareVolume(o.playback)
        : alsaMixerVolume({ control: c.mixer_control, ...(c.mixer_card ? { card: c.mixer_card } : {}), ...(o.amixer ? { amixer: o.amixer } : {}) });
    const saved = o.store.get(VOLUME_KEY);
    const level = typeof saved === "number" && saved >= 0 && saved <= 100 ? Math.round(saved) : c.initial_percent;
    const volume = new Volume(level, driver, o.store, o.log);
    try {
      await driver.apply(level);
      o.log.info(`volume ${level} % (${driver.description}${c.driver === "software" ? `, ${describeDb(level)}` : ""})`);
    } catch (err) {
      o.log.error(`volume: ${(err as Error).message}`);
    }
    return volume;
  }

  get percent(): number {
    return this.level;
  }

  get description(): string {
    return this.driver.description;
  }

  /** Called after each change that was applied, whoever made it (the agent, the control socket, a button). */
  onChange(listener: (percent: number) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Sets the level (rounded, clamped to 0–100) and saves it. Rejects with the
   * driver's advice when the level could not be applied; the old level stays.
   */
  set(percent: number): Promise<number> {
    return this.enqueue(() => percent);
  }

  /** Relative change; resolves with the new level. */
  change(delta: number): Promise<number> {
    return this.enqueue(() => this.level + delta);
  }

  /** One change at a time: the agent and the control socket may both turn the knob. */
  private enqueue(target: () => number): Promise<number> {
    const done = this.queue.then(async () => {
      const wanted = target();
      if (!Number.isFinite(wanted)) throw new Error(`the volume must be a number from 0 to 100, not ${wanted}`);
      const next = Math.min(100, Math.max(0, Math.round(wanted)));
      await this.driver.apply(next);
      this.level = next;
      this.store.set(VOLUME_KEY, next);
      this.log.info(`volume set to ${next} %`);
      for (const l of this.listeners) l(next);
      return next;
    });
    this.queue = done.catch(() => undefined);
    return done;
  }
}

function describeDb(percent: number): string {
  const db = gainToDb(percentToGain(percent));
  return Number.isFinite(db) ? `${db.toFixed(1)} dB` : "muted";
}

const setVolumeArgs = z
  .strictObject({
    percent: z.int().min(0).max(100).optional().describe("The new volume, 0 (silent) to 100 (loudest)."),
    delta: z.int().min(-100).max(100).optional().describe("A change relative to the current volume, e.g. 10 for louder or -10 for quieter."),
  })
  .refine((a) => (a.percent === undefined) !== (a.delta === undefined), { message: "give exactly one of percent or delta" });

export function volumeTools(volume: Volume): Tool[] {
  return [
    defineTool({
      name: "set_volume",
      description:
        "Set the device's speaker volume. Give either percent (0-100, an absolute level) or delta (a relative change), not both. Returns the new volume.",
      args: setVolumeArgs,
      run: async (a) => ({ percent: a.percent !== undefined ? await volume.set(a.percent) : await volume.change(a.delta!) }),
    }),
    defineTool({
      name: "get_volume",
      description: "Get the device's current speaker volume in percent (0-100).",
      args: z.strictObject({}),
      run: () => ({ percent: volume.percent }),
    }),
  ];
}
