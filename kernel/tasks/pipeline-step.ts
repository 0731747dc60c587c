/**
 * A stage's pipeline code, described once. A stage says what it does as statements (named
 * values and runtime calls); the conductor executes them through the runtime, and the
 * notebook cell is rendered from the very same statements. So the cell a stage writes is, by
 * construction, the code it ran: the same calls with the same arguments, the seed included.
 *
 * What a stage decides (the agents' proposals: the intent, the candidate datasets, a plan,
 * suggested edits) is the conductor's to announce; everything the pipeline *does* (copy and
 * load data, split, fit, train, write the report, zip) is a runtime call in a statement.
 */
import type { PipelineRuntime } from "../runtime/pipeline-runtime";

/** A value a statement reads from an earlier one: `intent.target` names `intent`'s field. */
export class Ref {
  constructor(readonly path: string) {}
}

export function ref(path: string): Ref {
  return new Ref(path);
}

type Method = { [K in keyof PipelineRuntime]: PipelineRuntime[K] extends (...args: never[]) => unknown ? K : never }[keyof PipelineRuntime];

export type Statement =
  /** `const name[: type] = value;`, a value the person may edit in the cell */
  | { kind: "const"; name: string; value: unknown; type?: string; asConst?: boolean; comment?: string }
  /**
   * `const bind = [await] rt.method(...args);` (`destructure`: `const { bind } = …`); args are
   * JSON values that may hold Refs. `show` is an expression the cell ends with, to display.
   * `reuse`: the conductor keeps a value this same call (same arguments) already made, as a
   * split made before a plan's gate and described again after it.
   */
  | {
      kind: "call";
      method: Method;
      args: unknown[];
      bind?: string;
      destructure?: boolean;
      show?: string;
      comment?: string;
      reuse?: boolean;
      /** notebook only: `const bind = orUse ?? rt.method(…)`, an earlier (guarded) value that stands instead of this call when set */
      orUse?: string;
    }
  /** code written as it is, that only the notebook runs (imports, a DataFrame preview): the conductor has its own runtime and panels */
  | { kind: "source"; source: string };

/** One code cell of a stage. */
export interface CodeCell {
  statements: Statement[];
  /**
   * "runs": the conductor executes it (the stage's work). "notebook": only the notebook runs it:
   * imports, a preview, or re-training a searched leader, which reproduces a result the stage
   * reached otherwise (the search), as the cell's comment says.
   */
  conductor: "runs" | "notebook";
  /**
   * work re-run only on purpose: `const guard.name = false;`, then the cell's one call as
   * `const bind = guard.name ? rt.method(…) : null;`, shown when it ran
   */
  guard?: { name: string; comment: string };
  /** comment lines at the top of the cell */
  comment?: string;
}

/** The named values the statements read and bind (the conductor's side of the notebook's variables). */
export interface StepScope {
  get(name: string): unknown;
  /** `madeBy`: the arguments of the call that made the value, for `reuse` */
  set(name: string, value: unknown, madeBy?: string): void;
  /** the arguments of the call that made `name`'s value (while it holds), if a call made it */
  madeBy(name: string): string | undefined;
}

/** Runtime methods that return a promise (the compiler holds the list to the runtime's methods): the cell awaits them. */
type AsyncMethod = { [K in Method]: PipelineRuntime[K] extends (...args: never[]) => Promise<unknown> ? K : never }[Method];
const ASYNC_METHODS: Record<AsyncMethod, true> = {
  useDataset: true,
  fetchDataset: true,
  loadData: true,
  profile: true,
  profileImages: true,
  preprocess: true,
  prepareTexts: true,
  prepareImages: true,
  train: true,
  search: true,
  trainAverage: true,
  exportProject: true,
  review: true,
  state: true,
  close: true,
};
const AWAITED = new Set<Method>(Object.keys(ASYNC_METHODS) as AsyncMethod[]);

/** Executes a stage's "runs" cells through the runtime (guards do not apply: the stage runs its work). */
export async function executeCells(cells: readonly CodeCell[], runtime: PipelineRuntime, scope: StepScope): Promise<void> {
  for (const cell of cells) if (cell.conductor === "runs") await executeStatements(cell.statements, runtime, scope);
}

export async function executeStatements(statements: readonly Statement[], runtime: PipelineRuntime, scope: StepScope): Promise<void> {
  for (const st of statements) {
    if (st.kind === "const") scope.set(st.name, st.value);
    if (st.kind !== "call") continue;
    const madeBy = `${st.method}(${JSON.stringify(st.args, (_k, v: unknown) => (v instanceof Ref ? `<${v.path}>` : v))})`;
    if (st.reuse && st.bind && scope.madeBy(st.bind) === madeBy) continue;
    const args = st.args.map((a) => resolve(a, scope));
    const fn = runtime[st.method] as (...a: unknown[]) => unknown;
    const result: unknown = await fn.apply(runtime, args);
    if (st.bind) scope.set(st.bind, st.destructure ? (result as Record<string, unknown>)[st.bind] : result, madeBy);
  }
}

function resolve(value: unknown, scope: StepScope): unknown {
  if (value instanceof Ref) {
    const [name, ...fields] = value.path.split(".");
    let v = scope.get(name!);
    for (const f of fields) v = (v as Record<string, unknown>)[f];
    return v;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, scope)]));
  return value;
}

/** The cell's TypeScript source. */
export function renderCell(cell: CodeCell): string {
  const lines: string[] = [];
  if (cell.comment) lines.push(...cell.comment.split("\n").map((l) => `// ${l}`));
  if (cell.guard) {
    const [call] = cell.statements;
    if (cell.statements.length !== 1 || call?.kind !== "call" || !call.bind) throw new Error("a guarded cell holds one call that binds its result");
    lines.push(
      ...cell.guard.comment.split("\n").map((l) => `// ${l}`),
      `const ${cell.guard.name} = false;`,
      `const ${call.bind} = ${cell.guard.name} ? ${callExpression(call)} : null;`,
      ...(call.show ? [`if (${call.bind}) automl.display(${call.show});`] : []),
    );
  } else lines.push(...cell.statements.flatMap(renderStatement));
  return lines.join("\n");
}

function callExpression(st: Extract<Statement, { kind: "call" }>): string {
  return `${AWAITED.has(st.method) ? "await " : ""}rt.${st.method}(${st.args.map((a) => renderValue(a)).join(", ")})`;
}

function renderStatement(st: Statement): string[] {
  const comment = "comment" in st && st.comment ? st.comment.split("\n").map((l) => `// ${l}`) : [];
  switch (st.kind) {
    case "source":
      return st.source.split("\n");
    case "const":
      return [...comment, `const ${st.name}${st.type ? `: ${st.type}` : ""} = ${renderValue(st.value)}${st.asConst ? " as const" : ""};`];
    case "call": {
      const target = st.bind ? (st.destructure ? `const { ${st.bind} } = ` : `const ${st.bind} = `) : "";
      const call = st.orUse ? `${st.orUse} ?? (${callExpression(st)})` : callExpression(st);
      return [...comment, `${target}${call};`, ...(st.show ? [`${st.show};`] : [])];
    }
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const ONE_LINE = 100;

/** A value as TypeScript: JSON with bare keys where they are identifiers, Refs as their paths. */
export function renderValue(value: unknown, indent = ""): string {
  if (value instanceof Ref) return value.path;
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    const items = value.map((v) => renderValue(v, inner));
    const flat = `[${items.join(", ")}]`;
    return flat.length <= ONE_LINE && !flat.includes("\n") ? flat : `[\n${items.map((i) => inner + i).join(",\n")},\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  // never the shorthand `{ metric }`: tslab does not see it as a use of the earlier cell's `metric`
  const items = entries.map(([k, v]) => `${IDENTIFIER.test(k) ? k : JSON.stringify(k)}: ${renderValue(v, inner)}`);
  const flat = `{ ${items.join(", ")} }`;
  return flat.length <= ONE_LINE && !flat.includes("\n") ? flat : `{\n${items.map((i) => inner + i).join(",\n")},\n${indent}}`;
}
