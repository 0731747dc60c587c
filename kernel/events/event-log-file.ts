/**
 * `events.jsonl`: one envelope per line, appended before the event is sent anywhere.
 * Opening a log that a crash left with a torn or corrupt tail keeps the valid prefix and
 * moves the rest aside (never deletes it), so a restarted conductor serves the same history.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { validateEnvelope, type AnyEventEnvelope } from "../../contract";

export interface LogRecovery {
  /** why the tail was cut: the first line that did not hold */
  reason: string;
  /** 1-based line number of that line */
  line: number;
  keptEvents: number;
  droppedBytes: number;
  /** where the cut bytes were saved */
  savedTo: string;
}

export interface OpenedLog {
  file: EventLogFile;
  events: AnyEventEnvelope[];
  recovery: LogRecovery | null;
}

export class EventLogFile {
  private constructor(
    readonly filePath: string,
    private fd: number | null,
  ) {}

  /** Opens (creating if needed) and reads back a project's log. */
  static open(filePath: string, projectId: string): OpenedLog {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    const bytes = fs.existsSync(filePath) ? fs.readFileSync(filePath) : Buffer.alloc(0);
    const { events, validBytes, failure } = readValidPrefix(bytes, projectId);
    let recovery: LogRecovery | null = null;
    if (failure) {
      const savedTo = `${filePath}.torn-${Date.now()}`;
      fs.writeFileSync(savedTo, bytes.subarray(validBytes));
      fs.truncateSync(filePath, validBytes);
      recovery = {
        reason: failure.reason,
        line: failure.line,
        keptEvents: events.length,
        droppedBytes: bytes.length - validBytes,
        savedTo,
      };
    } else if (validBytes > 0 && bytes[validBytes - 1] !== 0x0a) {
      // a complete last line that lost only its newline: keep it, finish the line
      fs.appendFileSync(filePath, "\n");
    }
    const fd = fs.openSync(filePath, "a");
    return { file: new EventLogFile(filePath, fd), events, recovery };
  }

  append(envelope: AnyEventEnvelope): void {
    if (this.fd === null) throw new Error(`event log ${this.filePath} is closed`);
    fs.writeSync(this.fd, JSON.stringify(envelope) + "\n");
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

function readValidPrefix(
  bytes: Buffer,
  projectId: string,
): { events: AnyEventEnvelope[]; validBytes: number; failure: { reason: string; line: number } | null } {
  const events: AnyEventEnvelope[] = [];
  let offset = 0;
  let line = 0;
  while (offset < bytes.length) {
    line++;
    const newline = bytes.indexOf(0x0a, offset);
    const end = newline === -1 ? bytes.length : newline;
    const text = bytes.subarray(offset, end).toString("utf8");
    const problem = checkLine(text, projectId, events.length + 1);
    if (typeof problem === "string") {
      const torn = newline === -1 ? " (the last line has no newline: a write was cut short)" : "";
      return { events, validBytes: offset, failure: { reason: problem + torn, line } };
    }
    events.push(problem);
    offset = newline === -1 ? bytes.length : newline + 1;
  }
  return { events, validBytes: offset, failure: null };
}

function checkLine(text: string, projectId: string, expectedSeq: number): AnyEventEnvelope | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "not valid JSON";
  }
  const checked = validateEnvelope(parsed);
  if (!checked.ok) return checked.error;
  if (checked.value.project_id !== projectId) return `belongs to project ${checked.value.project_id}`;
  if (checked.value.seq !== expectedSeq) return `seq ${checked.value.seq} where ${expectedSeq} was expected`;
  return checked.value;
}
