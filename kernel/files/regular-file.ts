/**
 * Opening a file only when it is a regular file, with no gap between the check and the open. A
 * path checked with stat and then opened can be swapped for a FIFO in between, and opening a
 * FIFO waits for a writer: libuv's pool threads (or a worker's thread) then wait for good, and
 * every file operation of the process queues behind them. Opened with O_NONBLOCK, a FIFO's open
 * returns at once; fstat on what was opened then says what it is. Reading a regular file
 * through the descriptor is unaffected by O_NONBLOCK.
 */
import * as fs from "node:fs";

export type NotRegular = "missing" | "folder" | "special" | "unreadable" | "loop";

export type OpenedRegular = { fd: number; stat: fs.Stats } | { refused: NotRegular };

/** O_NONBLOCK is not defined on Windows, where there are no FIFOs to open by name. */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

export function openIfRegular(filePath: string): OpenedRegular {
  let fd: number;
  try {
    fd = fs.openSync(filePath, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { refused: "missing" };
    if (code === "ELOOP") return { refused: "loop" };
    if (code === "EISDIR") return { refused: "folder" };
    if (code === "EACCES" || code === "EPERM") return { refused: "unreadable" };
    return { refused: "special" }; // ENXIO: a socket, or a FIFO's other end
  }
  const stat = fs.fstatSync(fd);
  if (stat.isFile()) return { fd, stat };
  fs.closeSync(fd);
  return { refused: stat.isDirectory() ? "folder" : "special" };
}
