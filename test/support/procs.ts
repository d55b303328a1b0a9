/** Child processes of a process, read from /proc (the daemon's arecord, for instance). */
import fs from "node:fs";

export interface Proc {
  pid: number;
  args: string[];
}

export function childProcesses(ppid: number, comm: string): Proc[] {
  const found: Proc[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      if (Number(fields[1]) !== ppid || stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== comm) continue;
      found.push({ pid: Number(d), args: fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
