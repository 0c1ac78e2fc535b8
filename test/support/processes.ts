// The processes on this machine that match, read from /proc (Linux): the benches find the workerd
// they started this way, to read its CPU time or its instruction count.
import { readFileSync, readdirSync } from "node:fs";

/** Their ids; `matches` reads what it needs of /proc/<pid>/ (a process may end while it looks). */
export function processIdsWhere(matches: (pid: number) => boolean): Set<number> {
  const pids = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (matches(Number(entry))) pids.add(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** A process's `stat` line: its command (at most 15 characters) and the fields after it. */
export function processStat(pid: number): { command: string; fields: string[] } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return { command: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), fields: stat.slice(stat.lastIndexOf(")") + 2).split(" ") };
}
