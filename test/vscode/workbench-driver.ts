/** Driving VS Code's workbench as a person does: the palette, the notebook, the webviews. */
import type { Frame, Page } from "playwright-core";

export async function dashboardFrame(page: Page, timeoutMs = 60_000): Promise<Frame> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      try {
        if (await f.evaluate(() => Boolean(document.querySelector("#app nav.tabs")))) return f;
      } catch {
        /* a frame that went away */
      }
    }
    if (Date.now() > until) throw new Error("the dashboard webview did not appear");
    await page.waitForTimeout(250);
  }
}

/** The dashboard whose title (the project's name) contains `text`, when several are open. */
export async function dashboardFrameFor(page: Page, text: string, timeoutMs = 60_000): Promise<Frame> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      try {
        if (
          await f.evaluate((t) => Boolean(document.querySelector("#app nav.tabs")) && (document.querySelector("#app h1")?.textContent ?? "").includes(t), text)
        )
          return f;
      } catch {
        /* a frame that went away */
      }
    }
    if (Date.now() > until) throw new Error(`no dashboard of a project named like ${JSON.stringify(text)}`);
    await page.waitForTimeout(250);
  }
}

/** Notebook outputs and markdown render in webviews: look through every frame. */
export async function textInSomeFrame(page: Page, text: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      try {
        if (await f.evaluate((t) => document.body?.innerText.includes(t) ?? false, text)) return;
      } catch {
        /* a frame that went away */
      }
    }
    if (Date.now() > until) throw new Error(`no frame shows ${JSON.stringify(text)}`);
    await page.waitForTimeout(300);
  }
}

/** The notebook's cell list is virtualised: scroll it until the cell with `text` is on screen. */
export async function revealCell(page: Page, text: string): Promise<void> {
  const cell = page.locator(".notebook-editor .cell-editor-container", { hasText: text }).first();
  const list = page.locator(".notebook-editor .cell-list-container").first();
  const box = (await list.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 80; i++) {
    // on screen means inside the list's box: a virtualised list renders cells beyond it, where asking the browser to
    // scroll one into view can wait on a list that re-renders as it scrolls
    const at = (await cell.count()) > 0 ? await cell.boundingBox() : null;
    if (at && at.y >= box.y && at.y + Math.min(at.height, 40) <= box.y + box.height) return;
    // towards the cell when it is rendered; else down, then (past the end) back up
    const down = at ? at.y >= box.y : i < 40;
    await page.mouse.wheel(0, down ? 400 : -400);
    await page.waitForTimeout(100);
  }
  throw new Error(`no notebook cell shows ${JSON.stringify(text)}`);
}

/** Runs a command from the palette; retried while the development extension is still loading. */
export async function palette(page: Page, command: string): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    await page.locator(".part.sidebar .composite.title").first().click(); // somewhere no webview covers
    await page.keyboard.press("Control+Shift+P");
    await page.waitForSelector(".quick-input-widget:not(.hidden) input");
    await page.keyboard.insertText(command);
    try {
      await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${command.split(": ")[1]}"]`, { timeout: 5_000 });
      await page.keyboard.press("Enter");
      return;
    } catch (err) {
      await page.keyboard.press("Escape");
      if (Date.now() > until) throw err;
    }
  }
}

/** AutoML: New Project with `prompt`, letting the agent find the data. */
export async function newProject(page: Page, prompt: string): Promise<void> {
  await palette(page, "AutoML: New Project");
  const input = page.locator(".quick-input-widget:not(.hidden) input");
  await input.waitFor();
  // typed before the box has focus, the text can go nowhere: fill it and check it is there
  await input.fill(prompt);
  await page.waitForFunction((p) => (document.querySelector(".quick-input-widget:not(.hidden) input") as HTMLInputElement | null)?.value === p, prompt);
  await page.keyboard.press("Enter");
  // clicked, not Enter: a key pressed as the second picker draws can be lost, leaving it open
  await page.locator('.quick-input-list .monaco-list-row[aria-label*="Let the agent find data"]').click();
  // the pointer left where the picker was would raise a hover over whatever is drawn there next
  const sidebar = await page.locator(".part.sidebar").first().boundingBox();
  if (sidebar) await page.mouse.move(sidebar.x + sidebar.width / 2, sidebar.y + sidebar.height - 120);
}
