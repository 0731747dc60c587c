/**
 * What notebook cells import, made reachable from every project folder of a workspace:
 * `<workspace>/.automl/node_modules` holds `automl-builder/runtime` (a small package that
 * points at this install's runtime bundle and its type declarations), `danfojs-node` and
 * `@types/node` (linked). Node and TypeScript both find it walking up from the notebook's
 * folder, in our kernel and in a plain Jupyter tslab kernel alike.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The folder of this package (where package.json and node_modules are). */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "automl-builder") return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the automl-builder package above ${__dirname}`);
    dir = up;
  }
}

export const RUNTIME_BUNDLE = path.join("dist", "runtime", "notebook-api.js");
export const RUNTIME_TYPES = path.join("dist", "types", "kernel", "runtime", "notebook-api.d.ts");
const LINKED = ["danfojs-node", path.join("@types", "node")];

export function ensureNotebookModules(automlDir: string, root = packageRoot()): string {
  const modules = path.join(automlDir, "node_modules");
  for (const rel of [RUNTIME_BUNDLE, RUNTIME_TYPES]) {
    if (!fs.existsSync(path.join(root, rel))) throw new Error(`${rel} is missing: run \`npm run build\` in ${root}`);
  }
  for (const name of LINKED) {
    const target = path.join(root, "node_modules", name);
    const link = path.join(modules, name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    let current: string | null = null;
    try {
      current = fs.readlinkSync(link);
    } catch {
      /* not there yet */
    }
    if (current === target) continue;
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(target, link, "junction");
  }
  const runtimeDir = path.join(modules, "automl-builder", "runtime");
  fs.mkdirSync(runtimeDir, { recursive: true });
  const bundle = path.join(root, RUNTIME_BUNDLE).split(path.sep).join("/");
  const types = path
    .join(root, RUNTIME_TYPES)
    .replace(/\.d\.ts$/, "")
    .split(path.sep)
    .join("/");
  writeIfChanged(
    path.join(modules, "automl-builder", "package.json"),
    JSON.stringify({ name: "automl-builder", private: true, description: "Points notebooks at the AutoML runtime of this install." }, null, 2) + "\n",
  );
  writeIfChanged(path.join(runtimeDir, "index.js"), `module.exports = require(${JSON.stringify(bundle)});\n`);
  writeIfChanged(path.join(runtimeDir, "index.d.ts"), `export * from ${JSON.stringify(types)};\n`);
  return modules;
}

function writeIfChanged(file: string, text: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
  fs.writeFileSync(file, text);
}
