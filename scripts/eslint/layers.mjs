/**
 * The repository's layers, and an ESLint rule that keeps imports pointing down them (as
 * vscode-jupyter keeps its zones with import/no-restricted-paths): a file may import its own
 * folder and the folders of the layers below its own, nothing else of ours.
 *
 * - `contract/` imports nothing of ours; `extension/` and `webviews/` import only `contract/`.
 * - inside `kernel/`: cli → server → conductor → stages / notebook-kernel → tasks → runtime →
 *   ml / export / agents → data / events / assets / notebook → errors / logging / files → contract.
 */
import * as path from "node:path";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");

/** kernel folders, top layer first; folders of one layer may not import each other */
export const KERNEL_LAYERS = [
  ["cli"],
  ["server"],
  ["conductor"],
  ["stages", "notebook-kernel"],
  ["tasks"],
  ["runtime"],
  ["export"],
  ["predict"],
  ["ml", "agents"],
  ["data", "events", "assets", "notebook"],
  ["errors", "logging", "files"],
];

/** What a unit (`contract`, `extension`, `webviews`, `kernel/<folder>`) may import besides itself. */
function allowedFor(unit) {
  if (unit === "contract") return [];
  if (unit === "extension" || unit === "webviews") return ["contract"];
  const folder = unit.slice("kernel/".length);
  const layer = KERNEL_LAYERS.findIndex((l) => l.includes(folder));
  if (layer < 0) return null; // a kernel folder the table does not know: reported
  return [
    ...KERNEL_LAYERS.slice(layer + 1)
      .flat()
      .map((f) => `kernel/${f}`),
    "contract",
  ];
}

/** The unit a file belongs to, or null outside the layered tree (tests, scripts, bench). */
function unitOf(file) {
  const rel = path.relative(ROOT, file).split(path.sep);
  if (rel[0] === "contract" || rel[0] === "extension" || rel[0] === "webviews") return rel[0];
  if (rel[0] === "kernel" && rel.length > 2) return `kernel/${rel[1]}`;
  if (rel[0] === "kernel" && rel.length === 2) return `kernel/${rel[1].replace(/\.[^.]+$/, "")}`;
  return null;
}

const importsPointDown = {
  meta: {
    type: "problem",
    docs: { description: "imports point down the layers: contract ← kernel's folders ← extension/webviews" },
    schema: [],
    messages: {
      up: "{{from}} may not import {{to}}: imports point down the layers ({{allowed}}). Move what both need down to a layer they share.",
      unknown: "{{from}} is not in the layer table (scripts/eslint/layers.mjs): add it to the layer it belongs to.",
    },
  },
  create(context) {
    const file = context.filename;
    const from = unitOf(file);
    if (!from) return {};
    const allowed = allowedFor(from);
    const check = (node, spec) => {
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const to = unitOf(path.resolve(path.dirname(file), spec));
      if (!to || to === from) return;
      if (allowed === null) context.report({ node, messageId: "unknown", data: { from } });
      else if (!allowed.includes(to))
        context.report({
          node,
          messageId: "up",
          data: { from, to, allowed: allowed.length ? `${from} may import ${allowed.join(", ")}` : `${from} imports nothing of ours` },
        });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === "Literal" && check(node, node.source.value),
    };
  },
};

export const layersPlugin = { rules: { "imports-point-down": importsPointDown } };
