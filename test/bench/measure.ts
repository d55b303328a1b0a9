/**
 * What the benches measure on a process and on the rig's sound card: CPU seconds by
 * /proc (the rig's card threads, which run inside whatever process opens the card, left
 * out), resident memory, and when sound came out of the card.
 */
import fs from "node:fs";
import type { Rig } from "../rig/rig";
import { childProcesses } from "../support/procs";

const BYTES_PER_MS = 32; // 16 kHz mono S16_LE

/** CPU seconds (user + system) of a process, all its threads, including those that have ended. */
export function processSeconds(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(") ") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's threads as /proc paths; none once it has gone. */
export function tasks(pid: number): string[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map((tid) => `/proc/${pid}/task/${tid}`);
  } catch {
    return [];
  }
}
/** The rig's sound-card threads run inside whatever process opens the card: not that process's own work. */
const isRigThread = (task: string): boolean => fs.readFileSync(`${task}/comm`, "utf8").trim() === "talkbox-rig";
/** CPU seconds a thread has run (schedstat: nanoseconds, where stat's ticks round a short-lived thread down to nothing). */
const runSeconds = (task: string): number => Number(fs.readFileSync(`${task}/schedstat`, "utf8").split(" ")[0]) / 1e9;

/**
 * A process's CPU seconds over a window (the daemon's, the peer's), less the rig's sound-card threads, which run
 * inside the process that opens the device but are not the daemon's work. The rig
 * starts such a thread for each playback stream and ends it when the stream stops; an
 * ended thread's time stays in the process's total but can no longer be read, so the
 * threads are sampled while they live.
 */
export class ProcessCpu {
  private readonly rig = new Map<string, { first: number; last: number }>();
  private readonly other = new Set<string>();
  private readonly total0: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sampleRig(true);
    this.total0 = processSeconds(pid);
    this.timer = setInterval(() => this.sampleRig(false), 20);
  }

  /** Ends the window: the daemon's own CPU seconds in it. */
  stop(): number {
    clearInterval(this.timer);
    this.sampleRig(false);
    const total = processSeconds(this.pid) - this.total0;
    let rig = 0;
    for (const t of this.rig.values()) rig += t.last - t.first;
    return total - rig;
  }

  private sampleRig(atStart: boolean): void {
    for (const tid of fs.readdirSync(`/proc/${this.pid}/task`)) {
      if (this.other.has(tid)) continue;
      try {
        const task = `/proc/${this.pid}/task/${tid}`;
        if (!this.rig.has(tid) && !isRigThread(task)) {
          this.other.add(tid);
          continue;
        }
        const seconds = runSeconds(task);
        const t = this.rig.get(tid);
        if (t) t.last = seconds;
        else this.rig.set(tid, { first: atStart ? seconds : 0, last: seconds });
      } catch {
        // the thread ended meanwhile
      }
    }
  }
}

/**
 * CPU seconds so far of the daemon's live child processes named `comm` (arecord; aplay on
 * the playback fallback), not in the daemon's own figure, less the rig's card threads in them.
 */
export function childSeconds(daemonPid: number, comm: string): number {
  let total = 0;
  for (const { pid } of childProcesses(daemonPid, comm)) {
    for (const task of tasks(pid)) {
      try {
        if (!isRigThread(task)) total += runSeconds(task);
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return total;
}

/** CPU seconds of the children the daemon has reaped (aplay processes ended by a flush or a reply's end). */
export function reapedChildSeconds(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(") ") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

export function rssMiB(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN) / 1024;
}

/** When the first sample played after `t` came out of the rig's sound card. */
export function firstPlayedAfter(rig: Pick<Rig, "speakerTimes">, t: bigint): bigint | null {
  return rig.speakerTimes().find(([at]) => at >= t)?.[0] ?? null;
}

/** When the last sample played before the next silence after `t` ended. */
export function soundEndAfter(rig: Pick<Rig, "speakerTimes">, t: bigint): bigint | null {
  const chunks = rig.speakerTimes().filter(([at]) => at >= t - 100_000_000n);
  let end: bigint | null = null;
  for (const [at, , len] of chunks) {
    if (end !== null && at > end + 5_000_000n) break;
    end = at + BigInt(Math.round((len / BYTES_PER_MS) * 1e6));
  }
  return end;
}

