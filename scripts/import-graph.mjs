#!/usr/bin/env node
/**
 * The import graph between the top folders (contract, extension, webviews) and kernel's
 * folders: `node scripts/import-graph.mjs` prints one line per edge with how many imports
 * make it, and any cycle between folders or between modules (type-only imports count).
 * With `--check` (npm run lint) a cycle fails it. The linter enforces the direction; this
 * shows it, and catches cycles inside one folder, which the layer rule cannot see.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const tops = ["contract", "extension", "webviews", "kernel"];

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")) yield p;
  }
}

/** contract, extension, webviews, or kernel/<folder> */
function unitOf(file) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === "kernel") return rel.length > 2 ? `kernel/${rel[1]}` : "kernel";
  return rel[0];
}

/** the module a relative import names: a .ts file, or a folder's index.ts */
function moduleOf(target) {
  // "./x", "./x.js" (tsc takes it for x.ts), "./folder" (its index.ts)
  for (const candidate of [`${target}.ts`, target.replace(/\.js$/, ".ts"), path.join(target, "index.ts"), target])
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  return null;
}

const edges = new Map();
const modules = new Map();
for (const top of tops) {
  for (const file of walk(path.join(root, top))) {
    const text = fs.readFileSync(file, "utf8");
    const deps = [];
    modules.set(file, deps);
    // `import … from "./x"`, `export … from "./x"`, `import "./x"` (for its side effects), `import("./x")`
    for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\s+"(\.[^"]+)"|import\("(\.[^"]+)"\)/g)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const resolved = moduleOf(path.resolve(path.dirname(file), spec));
      if (resolved) deps.push(resolved);
      const target = resolved ?? path.resolve(path.dirname(file), spec);
      const [from, to] = [unitOf(file), unitOf(target)];
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      edges.set(key, (edges.get(key) ?? 0) + 1);
    }
  }
}
const lines = [...edges].sort(([a], [b]) => a.localeCompare(b));
// --check says only what is wrong; without it, the whole graph
const checking = process.argv.includes("--check");
if (!checking) for (const [edge, n] of lines) console.log(`${edge.padEnd(52)} ${n}`);
const graph = new Map();
for (const [edge] of lines) {
  const [a, b] = edge.split(" -> ");
  (graph.get(a) ?? graph.set(a, []).get(a)).push(b);
}
const cycles = [];
for (const [a, outs] of graph) for (const b of outs) if ((graph.get(b) ?? []).includes(a) && a < b) cycles.push(`${a} <-> ${b}`);
console.log(`${checking ? "" : "\n"}${cycles.length ? `cycles between folders: ${cycles.join(", ")}` : "no cycle between folders"}`);

// cycles between modules: a depth-first search that reports each back edge's loop once
const moduleCycles = [];
const state = new Map(); // 1: on the stack, 2: done
const stack = [];
const visit = (file) => {
  state.set(file, 1);
  stack.push(file);
  for (const dep of modules.get(file) ?? []) {
    if (state.get(dep) === 1) moduleCycles.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => path.relative(root, f)).join(" -> "));
    else if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(file, 2);
};
for (const file of modules.keys()) if (!state.has(file)) visit(file);
console.log(moduleCycles.length ? `cycles between modules:\n  ${moduleCycles.join("\n  ")}` : "no cycle between modules");
if (checking && (cycles.length || moduleCycles.length)) process.exit(1);
