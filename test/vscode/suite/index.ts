/**
 * The extension test suite's entry: the `run()` that @vscode/test-electron (or code-server's
 * `extensionTestsPath` payload) calls inside the extension host. It runs mocha and also writes
 * the results to `<workspace>/.automl-test-results.json`, because a browser-hosted VS Code
 * gives its runner no other way to read them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { registerExtensionTests } from "./extension-tests";

export const RESULTS_FILE = ".automl-test-results.json";

export async function run(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mocha = require("mocha") as typeof import("mocha");
  const mocha = new Mocha({ ui: "bdd", timeout: 180_000, color: false });
  mocha.suite.emit("pre-require", globalThis, "extension-suite", mocha);
  registerExtensionTests();
  const results: { passed: string[]; failed: Array<{ title: string; error: string }>; durationMs: number } = { passed: [], failed: [], durationMs: 0 };
  const started = Date.now();
  await new Promise<void>((resolve) => {
    mocha
      .run(() => resolve())
      .on("pass", (t) => results.passed.push(t.fullTitle()))
      .on("fail", (t, err: Error) => results.failed.push({ title: t.fullTitle(), error: err.stack ?? err.message }));
  });
  results.durationMs = Date.now() - started;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (folder) fs.writeFileSync(path.join(folder, RESULTS_FILE), JSON.stringify(results, null, 2));
  if (results.failed.length) throw new Error(`${results.failed.length} extension test(s) failed`);
}
