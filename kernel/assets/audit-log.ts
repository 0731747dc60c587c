/**
 * The project's audit log (`audit.jsonl`, one JSON record a line, appended): the decisions a
 * person may have to account for later, with their reasons: each dataset's license verdict
 * (issue 15), the agents' model calls (issue 16). Never a secret: records carry names,
 * verdicts and reasons, not credentials or data.
 */
import * as fs from "node:fs";
import type { StageId } from "../../contract";
import type { AssetStore } from "./asset-store";

export const AUDIT_FILE = "audit.jsonl";

export interface AuditRecord {
  stage: StageId;
  /** what was decided: "license" (a dataset's license verdict), "dataset" (the one chosen, and by whom) */
  kind: string;
  [field: string]: unknown;
}

export function appendAudit(assets: AssetStore, records: readonly AuditRecord[]): void {
  if (!records.length) return;
  const at = new Date().toISOString();
  fs.appendFileSync(assets.absolute(AUDIT_FILE), records.map((r) => JSON.stringify({ at, ...r })).join("\n") + "\n");
}

/** The project's audit records (none before its first), each as written. */
export function readAudit(assets: AssetStore): Array<Record<string, unknown>> {
  let text: string;
  try {
    text = fs.readFileSync(assets.absolute(AUDIT_FILE), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
