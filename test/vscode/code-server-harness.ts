/**
 * A real VS Code for tests: code-server 4.100.3 (VS Code 1.100.3) on 127.0.0.1 with a
 * throw-away profile, this repository loaded as a development extension, and Debian's
 * Chromium driven by playwright-core. ../shared/notes/ENVIRONMENT.md has the recipe.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const REPO = path.resolve(__dirname, "..", "..");
const CODE_SERVER = path.join(REPO, ".vscode-test", "code-server", "node_modules", ".bin", "code-server");
const CHROMIUM = "/usr/bin/chromium";

export interface CodeServer {
  port: number;
  workspace: string;
  userData: string;
  log: string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export async function startCodeServer(workspace: string, settings: Record<string, unknown> = {}): Promise<CodeServer> {
  for (const tool of [CODE_SERVER, CHROMIUM]) {
    if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: run test/vscode/install-code-server.sh (as .ci/run does)`);
  }
  const root = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "automl-code-server-"));
  const userData = path.join(root, "data");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify({ "security.workspace.trust.enabled": false, "workbench.startupEditor": "none", "workbench.tips.enabled": false, "extensions.autoCheckUpdates": false, "telemetry.telemetryLevel": "off", ...settings }, null, 2),
  );
  const port = await freePort();
  const log: string[] = [];
  const child: ChildProcess = spawn(CODE_SERVER, ["--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--user-data-dir", userData, "--extensions-dir", path.join(root, "extensions"), "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", workspace], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => log.push(String(d)));
  child.stderr!.on("data", (d) => log.push(String(d)));
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > until) throw new Error(`code-server did not start: ${log.join("")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    port,
    workspace,
    userData,
    log,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The workbench URL with this repo as a development extension (and optionally a test suite to run). */
export function workbenchUrl(cs: CodeServer, extensionTestsPath?: string): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
  const payload: string[][] = [["extensionDevelopmentPath", remote(REPO)]];
  if (extensionTestsPath) payload.push(["extensionTestsPath", remote(extensionTestsPath)]);
  return `http://127.0.0.1:${cs.port}/?folder=${encodeURIComponent(cs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export async function openBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

export async function openWorkbench(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(url);
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  return page;
}
