/**
 * The extension test suite under desktop VS Code, for machines where @vscode/test-electron can
 * download it (this one cannot: see the code-server runner). Usage, after `npm run build`:
 *   npx tsx test/vscode/run-with-test-electron.ts [workspace-folder]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runTests } from "@vscode/test-electron";

async function main(): Promise<void> {
  const repo = path.resolve(__dirname, "..", "..");
  const workspace = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), "automl-suite-"));
  await runTests({
    extensionDevelopmentPath: repo,
    extensionTestsPath: path.join(repo, "dist", "test", "vscode-suite.js"),
    launchArgs: [workspace, "--disable-extensions", "--disable-workspace-trust"],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
