// The workerd processes this process started (Miniflare spawns one), found in /proc by their
// parent chain, and their resident memory (VmRSS). Linux only, like the machine the run is for.
import { readdirSync, readFileSync } from "node:fs";

interface ProcessEntry {
  pid: number;
  parent: number;
  command: string;
}

function processes(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const command = stat.slice(stat.indexOf("(") + 1, close);
      const parent = Number(stat.slice(close + 2).split(" ")[1]);
      entries.push({ pid: Number(name), parent, command });
    } catch {
      // Gone while listing.
    }
  }
  return entries;
}

/** Descendants of `root` (default: this process) whose command is `command`. */
export function descendantPids(command: string, root = process.pid): number[] {
  const all = processes();
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of all) children.set(entry.parent, [...(children.get(entry.parent) ?? []), entry]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (child.command === command) found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Resident memory of a process in bytes (0 when it is gone). */
export function residentBytes(pid: number): number {
  try {
    const kibibytes = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kibibytes ? Number(kibibytes) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time a process has used so far, in ms (user + system; /proc/<pid>/stat fields 14 and 15). */
export function cpuMilliseconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command start at 3 (state); utime is 14, stime 15; clock ticks of 10 ms here (getconf CLK_TCK = 100).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The soft and hard limits on open files of this process (`ulimit -n`). */
export function openFileLimits(): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  const value = (text: string | undefined) => (text === undefined || text === "unlimited" ? Number.POSITIVE_INFINITY : Number(text));
  return { soft: value(line?.[1]), hard: value(line?.[2]) };
}
