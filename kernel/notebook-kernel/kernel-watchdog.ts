/**
 * A thread of the notebook kernel that notices when the conductor that started it is gone (the
 * kernel is handed to another parent) and ends the kernel with every process its cells
 * started. A thread, because a cell in a synchronous loop never lets the kernel's own event
 * loop hear the IPC channel close. Built as its own bundle, dist/kernel/kernel-watchdog.js.
 */
import { workerData } from "node:worker_threads";
import { killProcessTree } from "./process-tree";

const { parent, kernel, everyMs } = workerData as { parent: number; kernel: number; everyMs: number };

setInterval(() => {
  if (process.ppid === parent) return;
  killProcessTree(kernel);
  process.kill(kernel, "SIGKILL");
}, everyMs);
