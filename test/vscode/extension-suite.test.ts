/**
 * Runs the extension test suite (test/vscode/suite) inside a real VS Code: code-server's
 * extension host, started with `extensionTestsPath` in the workbench payload, opened in
 * headless Chromium. The same suite runs under @vscode/test-electron where desktop VS Code
 * can be downloaded (test/vscode/run-with-test-electron.ts).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO, openBrowser, openWorkbench, startCodeServer, workbenchUrl } from "./code-server-harness";

describe("extension test suite in code-server", function () {
  this.timeout(600_000);

  it("passes", async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "automl-suite-"));
    const results = path.join(workspace, ".automl-test-results.json");
    // VS Code's file watcher is kept out of the projects, as where it cannot run (Linux out of
    // inotify instances, counted per user across a CI machine): the extension itself must bring an
    // open notebook up to what the conductor wrote (the e2e test covers the watcher's own reload)
    const cs = await startCodeServer(workspace, { "files.watcherExclude": { "**/.automl/**": true } });
    const browser = await openBrowser();
    try {
      await openWorkbench(browser, workbenchUrl(cs, path.join(REPO, "dist", "test", "vscode-suite.js")));
      const until = Date.now() + 540_000;
      while (!fs.existsSync(results) && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
      assert.ok(fs.existsSync(results), `the suite wrote no results; code-server said:\n${cs.log.join("").slice(-4000)}`);
      const r = JSON.parse(fs.readFileSync(results, "utf8")) as { passed: string[]; failed: Array<{ title: string; error: string }> };
      const activation = fs.readFileSync(path.join(workspace, ".automl-activation-ms"), "utf8");
      fs.mkdirSync(path.join(REPO, "test-output"), { recursive: true });
      fs.writeFileSync(path.join(REPO, "test-output", "extension-suite.json"), JSON.stringify({ ...r, activation_ms: Number(activation) }, null, 2));
      assert.deepEqual(r.failed, []);
      assert.ok(r.passed.length >= 9, `${r.passed.length} passed`);
    } finally {
      await browser.close();
      await cs.stop();
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });
});
