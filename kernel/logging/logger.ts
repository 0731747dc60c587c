/**
 * The conductor's log goes to stderr (stdout carries only the ready line), one line per
 * message with a level, so the extension's Output channel can show it as it is.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(minLevel: LogLevel = "info", write: (line: string) => void = (line) => process.stderr.write(line + "\n")): Logger {
  const at = (level: LogLevel) => (message: string) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** For tests and tools that want to read what was logged. */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger("debug", (line) => lines.push(line));
  return Object.assign(logger, { lines });
}
