/**
 * What must survive a restart (conversation ids, the volume), as one small JSON file
 * in the state directory (systemd's StateDirectory=). Writes are atomic and durable: a temp
 * file, fsync'd, renamed over the old one, and the directory fsync'd, so a crash or a power
 * cut leaves the old or the new file, never half of one (or, after a power cut, an empty one:
 * ext4 may otherwise commit the rename before the data). A file that does not parse is
 * reported, kept beside as state.json.bad for a look, and replaced. When the directory is
 * not writable the device still works; it only forgets on restart, and says so once.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { StateStore, StateValue } from "../core/state-store";
import type { Logger } from "../log/logger";

const FILE = "state.json";

export class FileStateStore implements StateStore {
  private readonly values = new Map<string, StateValue>();
  private readonly file: string;
  private warned = false;
  /** Changed since the last write began. */
  private dirty = false;
  private writing: Promise<void> | null = null;

  constructor(dir: string, private readonly log: Logger) {
    this.file = path.join(dir, FILE);
    removeLeftovers(dir);
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.warn(`cannot read ${this.file}: ${(err as Error).message}`);
      return;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
      for (const [k, v] of Object.entries(parsed)) if (isValue(v)) this.values.set(k, v);
    } catch (err) {
      // A damaged file must not stop the device: start afresh and say what was lost.
      const aside = `${this.file}.bad`;
      let kept = "";
      try {
        fs.renameSync(this.file, aside);
        kept = ` (kept as ${aside})`;
      } catch {
        // read-only: it is replaced at the first save, if ever
      }
      log.warn(`ignoring ${this.file}${kept}: ${(err as Error).message}; saved volume and conversation ids start afresh`);
    }
  }

  get(key: string): StateValue | undefined {
    return this.values.get(key);
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  set(key: string, value: StateValue | undefined): void {
    if (value === undefined) {
      if (!this.values.delete(key)) return;
    } else {
      if (this.values.get(key) === value) return;
      this.values.set(key, value);
    }
    this.save();
  }

  /** Resolves once every change made so far is on the disk (or failed to get there, said once). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /**
   * Writes in the thread pool, never on the main thread: an fsync on an SD card can take tens
   * of milliseconds, and a conversation id is saved as a reply starts. Changes made while a
   * write is under way go out in one more write after it.
   */
  private save(): void {
    this.dirty = true;
    if (this.writing) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = null;
      // A change made after the loop's last look (between its end and this): one more write.
      if (this.dirty) this.save();
    });
  }

  private async writeAll(): Promise<void> {
    // The snapshot waits for the code that made this change to finish: changes made together
    // (in one tick) are on the disk together or not at all.
    await null;
    while (this.dirty) {
      this.dirty = false;
      const text = JSON.stringify(Object.fromEntries(this.values), null, 2) + "\n";
      try {
        await writeDurably(this.file, text);
      } catch (err) {
        this.warn(`cannot save ${this.file}: ${(err as Error).message}`);
      }
    }
  }

  private warn(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warn(`${message}; the volume and conversation ids will not survive a restart. Set state.dir to a writable directory (the service gets /var/lib/talkbox)`);
  }
}

/** For tests and tools that must not touch the disk. */
export class MemoryStateStore implements StateStore {
  private readonly values = new Map<string, StateValue>();
  get(key: string): StateValue | undefined {
    return this.values.get(key);
  }
  set(key: string, value: StateValue | undefined): void {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
  }
  keys(): string[] {
    return [...this.values.keys()];
  }
}

/** Temp files of writes a crash or a power cut interrupted (never renamed: the old file stood). */
function removeLeftovers(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!/^state\.json\.\d+\.tmp$/.test(n)) continue;
    try {
      fs.unlinkSync(path.join(dir, n));
    } catch {
      // read-only or gone: harmless either way
    }
  }
}

/** A temp file, fsync'd, renamed over `file`, and the directory fsync'd so the rename lasts too. */
async function writeDurably(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.mkdir(dir, { recursive: true });
  const f = await fsp.open(tmp, "w", 0o600);
  try {
    await f.writeFile(text);
    await f.sync();
  } finally {
    await f.close();
  }
  await fsp.rename(tmp, file);
  const d = await fsp.open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function isValue(v: unknown): v is StateValue {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}
