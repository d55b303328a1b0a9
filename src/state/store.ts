/**
 * What must survive a restart (conversation ids, the volume), as one small JSON file
 * in the state directory (systemd's StateDirectory=). Writes are atomic (temp file +
 * rename) so a power cut leaves the old or the new file, never half of one. When the
 * directory is not writable the device still works; it only forgets on restart,
 * and says so once.
 */
import fs from "node:fs";
import path from "node:path";
import type { StateStore, StateValue } from "../core/state-store";
import type { Logger } from "../log/logger";

const FILE = "state.json";

export class FileStateStore implements StateStore {
  private readonly values = new Map<string, StateValue>();
  private readonly file: string;
  private warned = false;

  constructor(dir: string, private readonly log: Logger) {
    this.file = path.join(dir, FILE);
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
      log.warn(`ignoring ${this.file} (${(err as Error).message}); saved volume and conversation ids start afresh`);
    }
  }

  get(key: string): StateValue | undefined {
    return this.values.get(key);
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

  private save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.values), null, 2) + "\n", { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (err) {
      this.warn(`cannot save ${this.file}: ${(err as Error).message}`);
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
}

function isValue(v: unknown): v is StateValue {
  return v === null || ["string", "number", "boolean"].includes(typeof v);
}
