/**
 * A real VS Code for tests: code-server 4.100.3 (VS Code 1.100.3) on 127.0.0.1 with a
 * throw-away profile, this repository loaded as a development extension, and Debian's
 * Chromium driven by playwright-core. ../shared/notes/ENVIRONMENT.md has the recipe.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as net from "node:net";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const REPO = path.resolve(__dirname, "..", "..");
const CODE_SERVER = path.join(REPO, ".vscode-test", "code-server", "node_modules", ".bin", "code-server");
const CHROMIUM = "/usr/bin/chromium";

export interface CodeServer {
  port: number;
  /** where installed extensions live (a VSIX given to startCodeServer is unpacked here) */
  extensionsDir: string;
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

/**
 * Starts code-server on `workspace`. With `vsix`, that file is installed first into the
 * throw-away extensions folder, as a person installs it: the workbench then runs the packaged
 * extension, with no source checkout on its path (open it with `workbenchUrl(cs)` and no
 * development path).
 */
export async function startCodeServer(workspace: string, settings: Record<string, unknown> = {}, options: { vsix?: string } = {}): Promise<CodeServer> {
  for (const tool of [CODE_SERVER, CHROMIUM]) {
    if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: run test/vscode/install-code-server.sh (as .ci/run does)`);
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "automl-code-server-"));
  const userData = path.join(root, "data");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify(
      {
        "security.workspace.trust.enabled": false,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "extensions.autoCheckUpdates": false,
        "telemetry.telemetryLevel": "off",
        ...settings,
      },
      null,
      2,
    ),
  );
  const extensionsDir = path.join(root, "extensions");
  if (options.vsix) {
    const installed = spawnSync(CODE_SERVER, ["--user-data-dir", userData, "--extensions-dir", extensionsDir, "--install-extension", options.vsix], {
      encoding: "utf8",
    });
    if (installed.status !== 0) throw new Error(`code-server could not install ${options.vsix}: ${installed.stdout}${installed.stderr}`);
  }
  const port = await freePort();
  const log: string[] = [];
  const child: ChildProcess = spawn(
    CODE_SERVER,
    [
      "--auth",
      "none",
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--user-data-dir",
      userData,
      "--extensions-dir",
      extensionsDir,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      workspace,
    ],
    // its own process group: code-server's children (the file watcher, the extension host) end with it
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
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
    extensionsDir,
    workspace,
    userData,
    log,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          /* the group is gone */
        }
      };
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
      // a file watcher left behind kept an inotify instance each: they are counted per user, and
      // the workbench of a later test could not watch its files
      signalGroup("SIGKILL");
      // AUTOML_KEEP_CODE_SERVER=1 keeps its profile, with the extension host's logs (data/logs/…/exthost*/)
      if (!process.env.AUTOML_KEEP_CODE_SERVER) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The workbench URL. `development`: this repo as a development extension (and optionally a
 * test suite to run); otherwise the installed extensions only.
 */
export function workbenchUrl(cs: CodeServer, extensionTestsPath?: string, development = true): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
  if (!development) return `http://127.0.0.1:${cs.port}/?folder=${encodeURIComponent(cs.workspace)}`;
  const payload: string[][] = [["extensionDevelopmentPath", remote(REPO)]];
  if (extensionTestsPath) payload.push(["extensionTestsPath", remote(extensionTestsPath)]);
  return `http://127.0.0.1:${cs.port}/?folder=${encodeURIComponent(cs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export async function openBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

export async function openWorkbench(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(url);
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  return page;
}

/** Packages the extension as a user gets it (`npm run package`) and returns the VSIX's path. */
export function packageVsix(): string {
  const result = spawnSync(process.execPath, [path.join(REPO, "scripts", "package.mjs")], { cwd: REPO, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm run package failed: ${result.stdout}${result.stderr}`);
  const vsix = /Packaged: (\S+\.vsix)/.exec(result.stdout)?.[1];
  if (!vsix || !fs.existsSync(vsix)) throw new Error(`npm run package wrote no VSIX: ${result.stdout.slice(-2000)}`);
  return vsix;
}
