/**
 * The extension's speed in a real VS Code (code-server + headless Chromium), as a person sees it:
 * from the last input of "AutoML: New Project" to the first event on the dashboard, and how the
 * dashboard keeps up while 10,000 METRIC_SCALAR events arrive from a notebook cell (time until
 * all are in, frame rate and the longest frame gap meanwhile). Activation time is recorded by
 * the extension test suite (test-output/extension-suite.json).
 * Usage (after npm run build and test/vscode/install-code-server.sh): npx tsx bench/vscode-panels.ts
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openBrowser, openWorkbench, startCodeServer, workbenchUrl } from "../test/vscode/code-server-harness";
import { dashboardFrame, palette, revealCell } from "../test/vscode/workbench-driver";

const BURST = 10_000;

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "automl-bench-panels-"));
  const cs = await startCodeServer(workspace, { "automl.autoConfirm": true, "automl.pacing": false, "automl.timeBudgetSeconds": 0 });
  const browser = await openBrowser();
  try {
    const page = await openWorkbench(browser, workbenchUrl(cs));
    await palette(page, "AutoML: New Project");
    await page.waitForSelector(".quick-input-widget:not(.hidden) input");
    await page.keyboard.insertText("predict house prices");
    await page.keyboard.press("Enter");
    await page.waitForSelector('.quick-input-list .monaco-list-row[aria-label*="Let the agent find data"]');
    const t0 = Date.now();
    await page.keyboard.press("Enter");
    const dash = await dashboardFrame(page);
    await dash.waitForFunction(() => Number(document.body.dataset["lastSeq"] ?? 0) > 0, undefined, { timeout: 60_000, polling: "raf" });
    const firstEventMs = Date.now() - t0;
    await dash.waitForFunction(() => document.body.dataset["stageExport"] === "completed", undefined, { timeout: 120_000 });
    const exportMs = Date.now() - t0;

    // the notebook opens beside the dashboard, so both stay visible
    await dash.click('button[data-tab="Training"]');
    const runId = await dash.locator(".leaderboard tbody tr td:nth-child(2)").first().innerText();

    await revealCell(page, "automl.connect(");
    await page.locator(".notebook-editor .cell-editor-container", { hasText: "automl.connect(" }).first().click();
    await page.keyboard.press("Control+End");
    await page.keyboard.insertText(
      `\nfor (let i = 1; i <= ${BURST}; i++) rt.logMetric({ run_id: ${JSON.stringify(runId)}, name: "loss", split: "train", step: 100 + i, value: 1 / i });`,
    );
    const baseline = Number(await dash.evaluate(() => document.body.dataset["lastSeq"]));
    // strings, not functions: tsx's helpers would not exist inside the page
    await dash.evaluate(`(() => {
      window.frames_ = [];
      window.seqAt = [];
      const loop = (t) => { window.frames_.push(t); requestAnimationFrame(loop); };
      requestAnimationFrame(loop);
      new MutationObserver(() => window.seqAt.push([performance.now(), Number(document.body.dataset.lastSeq)])).observe(document.body, { attributes: true, attributeFilter: ["data-last-seq"] });
    })()`);
    const row = page.locator(".code-cell-row", { hasText: "automl.connect(" }).first();
    await row.hover();
    const clicked = Date.now();
    await row.locator(".run-button-container .action-label").first().click();
    await dash.waitForFunction((target) => Number(document.body.dataset["lastSeq"]) >= target, baseline + BURST, { timeout: 120_000, polling: "raf" });
    const allInMs = Date.now() - clicked;
    await page.waitForTimeout(500);
    const stats = (await dash.evaluate(`(() => {
      const first = window.seqAt[0][0];
      const last = window.seqAt[window.seqAt.length - 1][0];
      const during = window.frames_.filter((t) => t >= first && t <= last);
      let gap = 0;
      for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i] - during[i - 1]);
      return { first_to_last_update_ms: last - first, redraws: window.seqAt.length, fps: during.length / Math.max(0.001, (last - first) / 1000), longest_frame_gap_ms: gap };
    })()`)) as Record<string, number>;
    console.log(
      JSON.stringify(
        {
          new_project_to_first_event_on_screen_ms: firstEventMs,
          new_project_to_export_on_screen_ms: exportMs,
          burst_events: BURST,
          cell_click_to_all_events_on_dashboard_ms: allInMs,
          ...stats,
        },
        null,
        2,
      ),
    );
  } finally {
    await browser.close();
    await cs.stop();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
