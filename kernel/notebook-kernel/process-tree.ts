/**
 * Ending a kernel with everything it started. A kernel is the leader of its own process group
 * (started detached), so one signal to the group reaches the children its cells spawned; a
 * child that left the group on purpose (detached itself) is found by walking the process tree
 * from the kernel first, while it is still its parent.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

/** The pids below `root` in the process tree now (children, their children, …). */
export function descendantsOf(root: number): number[] {
  const parentOf = processParents();
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentOf) (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(pid);
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function processParents(): Map<number, number> {
  const parents = new Map<number, number>();
  if (process.platform === "linux") {
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        // the command name (field 2) may hold spaces and parentheses: the fields after its last ")" are plain
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        parents.set(Number(entry), ppid);
      } catch {
        /* gone meanwhile */
      }
    }
    return parents;
  }
  if (process.platform === "win32") return parents; // no process groups to walk; the kernel alone is ended
  for (const line of execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" }).split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined) parents.set(pid, ppid);
  }
  return parents;
}

/** Sends `signal` to the process group led by `leader` (every process its cells started that stayed in it). */
export function signalGroup(leader: number, signal: NodeJS.Signals): void {
  try {
    process.kill(process.platform === "win32" ? leader : -leader, signal);
  } catch {
    /* the group is gone already */
  }
}

/**
 * Kills the kernel, its process group, and every process below it, including those that left
 * the group. The ones below go first: called from inside the kernel, the group's signal ends
 * the caller too.
 */
export function killProcessTree(leader: number): void {
  for (const pid of descendantsOf(leader)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  signalGroup(leader, "SIGKILL");
}
