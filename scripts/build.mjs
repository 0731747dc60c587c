// Bundles the conductor and its notebook kernel (Node), the notebook runtime that cells import
// (Node, with type declarations for the kernel's type checker), the extension (Node, vscode
// external) and the webviews (browser), as listed in bundles.mjs, plus the extension test suite.
import { build, context } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { EXTERNAL, productBundles } from "./bundles.mjs";

const require = createRequire(import.meta.url);
const watch = process.argv.includes("--watch");
const builds = [
  ...productBundles(".", { sourcemap: true }),
  // the extension test suite that runs inside VS Code's extension host
  {
    bundle: true,
    sourcemap: true,
    logLevel: "warning",
    target: "es2022",
    platform: "node",
    format: "cjs",
    entryPoints: ["test/vscode/suite/index.ts"],
    outfile: "dist/test/vscode-suite.js",
    external: [...EXTERNAL, "mocha"],
  },
];

function declarations() {
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.runtime-types.json"], { stdio: "inherit" });
}

mkdirSync("dist/webviews", { recursive: true });
if (watch) {
  for (const b of builds) await (await context(b)).watch();
} else {
  await Promise.all(builds.map((b) => build(b)));
  copyFileSync("webviews/dashboard/dashboard.css", "dist/webviews/dashboard.css");
  declarations();
}
