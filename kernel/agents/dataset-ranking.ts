/**
 * Where data for a project can come from, as one interface (issue 15): each source searches
 * for candidates matching the parsed request and fetches the chosen one into the project's
 * data folder. The workspace's own files, the bundled catalog, the Hugging Face Hub and Kaggle
 * each implement it; their candidates are ranked together here, each with the reasons for its
 * place, so the person (at the DATA_SOURCE gate) and the audit log see why.
 */
import type { TaskType } from "../../contract";
import type { LicenseVerdict } from "./license-check";

export type DatasetSourceId = "workspace" | "catalog" | "hf" | "kaggle";

const SOURCE_NAMES: Record<string, string> = {
  workspace: "your workspace",
  catalog: "the bundled catalog",
  hf: "the Hugging Face Hub",
  kaggle: "Kaggle",
  upload: "your own file",
};

/** Where a candidate comes from, in words ("the Hugging Face Hub"); older projects' "bundled" is the catalog. */
export function sourceName(source: string): string {
  return SOURCE_NAMES[source === "bundled" ? "catalog" : source] ?? source;
}

/** What the request says about the data it needs. */
export interface DatasetQuery {
  prompt: string;
  task: TaskType | null;
  /** a column the request names or hints at ("price", "diagnosis") */
  targetHint: string | null;
}

export interface DatasetCandidate {
  /** "<source>:<its id>": workspace:data/houses.csv, catalog:boston-housing, hf:owner/name, kaggle:owner/slug */
  id: string;
  source: DatasetSourceId;
  name: string;
  desc: string;
  /** null: data the person brings (theirs; no license gate, the report says none is known) */
  license: LicenseVerdict | null;
  size_bytes: number | null;
  /** downloads (Hub, Kaggle), when the source counts them */
  downloads: number | null;
  /** the columns, when known before fetching (a header read, a card's features) */
  columns: string[] | null;
  /** what some columns mean, when the source says (the catalog's descriptions): matched against the target too */
  columnMeanings?: Record<string, string>;
  /** the task the source says it serves, when it says */
  task: TaskType | null;
  /** words that describe it (tags, keywords) */
  keywords: string[];
  /** its page, for the person (the Hub's or Kaggle's dataset page) */
  url?: string;
  /** true: downloading needs access granted on its page and a token */
  gated?: boolean;
  /** what its rows hold, when the source says (an image column, image folders): images wait for the images issue */
  modality?: "table" | "image" | "text" | null;
  /** why it cannot be fetched as things stand (gated, and no token is set): listed with why, never chosen */
  unavailable?: string;
  /** the source's revision when the candidate was read from it by name (lookup): a fetch takes that one */
  revision?: string;
}

/** What a fetch put in the project's data folder, and what it chose on the way (which file, from the cache). */
export interface FetchedData {
  /** the data file, inside the data folder */
  file: string;
  /** the source's revision of the data (the Hub's commit, Kaggle's version), when it has one */
  revision: string | null;
  /** what the fetch decided and why, a sentence each ("read train.parquet: the Hub's Parquet conversion of the train split") */
  notes: string[];
}

/** Progress of a fetch: bytes so far, of `total` when known. */
export type FetchProgress = (bytes: number, total: number | null) => void;

export interface DatasetSource {
  readonly id: DatasetSourceId;
  search(query: DatasetQuery, signal?: AbortSignal): Promise<DatasetCandidate[]>;
  /** the candidate with this id ("hf:owner/name"), named directly (--source); an InputError saying why when there is none */
  lookup(id: string, signal?: AbortSignal): Promise<DatasetCandidate>;
  /** the candidate's data file, fetched (or found) in `dataDir`, as a path the table loader reads */
  fetch(candidate: DatasetCandidate, dataDir: string, onProgress?: FetchProgress, signal?: AbortSignal): Promise<FetchedData>;
}

export interface RankedCandidate extends DatasetCandidate {
  score: number;
  /** why it stands where it does, a phrase each, most telling first */
  reasons: string[];
  /** false: listed with its reasons, never chosen (a rejected license, or nothing to do with the request) */
  usable: boolean;
  /** it has something to do with the request: a word in common, or a column for the target */
  relevant: boolean;
}

/** A candidate this much below the top one is a clear second; closer, the choice is not clear (the gate asks). */
export const CLEAR_LEAD = 1.5;
/** above this the data is slow to fetch and load: ranked down, never refused */
const LARGE_BYTES = 2 * 1024 ** 3;

// how often and how far ahead say nothing of what the data is about ("daily sales" does not match daily temperatures)
const STOP_WORDS = new Set(
  "a an the of for to from in on with by and or is are be it its this that these those what which whether will would how many much predict forecast classify estimate detect data dataset using given csv tsv file files table spreadsheet my our hourly daily weekly monthly quarterly yearly annual next coming ahead minute hour day week month quarter year minutes hours days weeks months quarters years".split(
    " ",
  ),
);

/** A text's words, lowercase, without the request's filler, plurals read as their singular ("tumours" meets "tumour"). */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOP_WORDS.has(w))
    .map((w) => (w.length > 3 && w.endsWith("s") && !w.endsWith("ss") ? w.slice(0, -1) : w));
}

/** The request's words by their stem ("tumour" → "tumours"), to show them as the person wrote them. */
function originalWords(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const token of text.toLowerCase().split(/[^a-z0-9]+/)) {
    const [stem] = words(token);
    if (stem && !out.has(stem)) out.set(stem, token);
  }
  return out;
}

/**
 * A column name matches a hint when their words meet ("sale_price" and "price", "Diagnosis"
 * and "diagnosis"): all of the hint's words are the column's, or the column's words are all
 * the hint's and name the thing itself, its last word ("delay" for "flight delays", "Body
 * Mass (g)" for "penguin body mass"; not "prices_index" for "sale price").
 */
export function columnMatches(column: string, hint: string): boolean {
  const c = words(column.replace(/([a-z])([A-Z])/g, "$1 $2"));
  const h = words(hint);
  if (!h.length || !c.length) return false;
  return h.every((w) => c.includes(w)) || (c.includes(h.at(-1)!) && c.every((w) => h.includes(w)));
}

/** The candidate's column for the target hint: by its name, or by what the source says it means. */
function targetColumnOf(c: DatasetCandidate, hint: string | null): string | undefined {
  if (!hint || !c.columns) return undefined;
  return c.columns.find((col) => columnMatches(col, hint) || columnMatches(`${col} ${c.columnMeanings?.[col] ?? ""}`, hint));
}

/** Every source's candidates in one order, best first, each with its reasons. */
export function rankCandidates(request: DatasetQuery, candidates: readonly DatasetCandidate[]): RankedCandidate[] {
  // an image dataset's label is its one label column: the words a request names the classes by ("temple or flower")
  // are what the dataset is about, not a column to find
  const query = request.task === "image_classification" ? { ...request, targetHint: null } : request;
  const asked = new Set(words(`${query.prompt} ${query.targetHint ?? ""}`));
  const hinted = new Set(words(query.targetHint ?? ""));
  const shown = originalWords(`${query.prompt} ${query.targetHint ?? ""}`);
  const ranked = candidates.map((c): RankedCandidate => {
    const reasons: string[] = [];
    let score = 0;
    // the person's own files are read by their columns too: a request for "employees who leave" fits hr.csv's left_company
    const columnWords = c.source === "workspace" ? (c.columns ?? []).join(" ").replace(/([a-z])([A-Z])/g, "$1 $2") : "";
    const own = new Set(words(`${c.name} ${c.desc} ${c.keywords.join(" ")} ${columnWords}`));
    const shared = [...asked].filter((w) => own.has(w));
    if (shared.length) {
      score += shared.length;
      reasons.push(`matches ${shared.map((w) => `"${shown.get(w) ?? w}"`).join(", ")}`);
    } else reasons.push("shares no word with the request");
    if (query.task && c.task) {
      if (c.task === query.task) {
        score += 1;
        reasons.push(`made for ${query.task}`);
      } else {
        score -= 1;
        reasons.push(`made for ${c.task}, not ${query.task}`);
      }
    }
    if (query.targetHint && c.columns) {
      const hit = targetColumnOf(c, query.targetHint);
      if (hit) {
        score += 2;
        reasons.push(`has a column ${JSON.stringify(hit)} for the target`);
      } else {
        score -= 1;
        reasons.push(`no column matches the target "${query.targetHint}"`);
      }
    }
    if (c.source === "workspace") {
      // the person's own files first, when they fit the request at all (a word, or the target's column)
      if (shared.length > 0 || targetColumnOf(c, query.targetHint)) score += 4;
      reasons.push("already in your workspace");
    }
    // the person's files need one word or the target's column; a dataset from elsewhere needs more than part of the
    // target's words ("species" is in many datasets; "iris species" asks for irises): all of them, or a word beside them
    const relevant =
      c.source === "workspace"
        ? shared.length > 0 || targetColumnOf(c, query.targetHint) !== undefined
        : shared.length > 0 && ([...hinted].every((w) => shared.includes(w)) || shared.some((w) => !hinted.has(w)));
    if (!relevant && shared.length) reasons.push(`shares only the target's words, not what the request is about`);
    let usable = relevant;
    if (c.unavailable) {
      usable = false;
      reasons.unshift(c.unavailable);
    }
    if (c.license === null) reasons.push("your own data: no license gate (the report says none is known)");
    else if (c.license.decision === "rejected") {
      usable = false;
      reasons.unshift(`license ${c.license.license} rejected: ${c.license.note}`);
    } else if (c.license.decision === "warning") {
      score -= 0.5;
      // said first: where a choice shows only a few reasons, this one must be among them
      reasons.unshift(`license ${c.license.license}: ${c.license.note}`);
    } else reasons.push(`license ${c.license.license} (${c.license.note})`);
    if (c.gated) {
      score -= 0.5;
      reasons.push("gated: downloading needs access granted on its page, and a token");
    }
    if (c.modality === "image" && query.task !== "image_classification") {
      usable = false;
      reasons.unshift("images, not a table: image datasets are for image tasks");
    }
    // and the other way: a dataset known to be a table or texts cannot train an image classifier (the person's own files are read to tell)
    if (
      query.task === "image_classification" &&
      c.source !== "workspace" &&
      c.modality !== "image" &&
      ((c.modality ?? null) !== null || (c.task !== null && c.task !== query.task))
    ) {
      usable = false;
      reasons.unshift(
        `${c.modality === "text" || c.task === "text_classification" ? "texts" : "a table"}, not images: an image task needs a dataset of images`,
      );
    }
    if (c.downloads !== null && c.downloads > 0) {
      score += Math.min(1, Math.log10(c.downloads) / 6);
      reasons.push(`${c.downloads.toLocaleString("en")} downloads`);
    }
    if (c.size_bytes !== null && c.size_bytes > LARGE_BYTES) {
      score -= 1;
      reasons.push(`large (${(c.size_bytes / 1024 ** 3).toFixed(1)} GB)`);
    }
    return { ...c, score: Math.round(score * 1000) / 1000, reasons, usable, relevant };
  });
  // usable before unusable, then by score; ties keep the sources' order (workspace, catalog, Hub, Kaggle)
  return ranked
    .map((r, i) => ({ r, i }))
    .sort((a, b) => Number(b.r.usable) - Number(a.r.usable) || b.r.score - a.r.score || a.i - b.i)
    .map(({ r }) => r);
}

/**
 * Why the choice needs the person (null: the top candidate is clear): no usable candidate, two
 * close ones, a license warning on the top one, or the target not found in it.
 */
export function unclearChoice(query: DatasetQuery, ranked: readonly RankedCandidate[]): string | null {
  const usable = ranked.filter((r) => r.usable);
  const top = usable[0];
  if (!top) return ranked.length ? "every candidate's license was rejected" : "no dataset matches the request";
  if (top.license?.decision === "warning") return `the best candidate's license is ${top.license.license}: ${top.license.note}`;
  // texts and images are classified by their label: a request names what they are ("spam e-mails", "handwritten digits"), not a column
  const byLabel = (query.task === "text_classification" || query.task === "image_classification") && top.task === query.task;
  if (query.targetHint && top.columns && !byLabel && !targetColumnOf(top, query.targetHint))
    return `the best candidate has no column matching the target "${query.targetHint}"`;
  const second = usable[1];
  if (second && top.score - second.score < CLEAR_LEAD) return `${top.name} and ${second.name} match about as well`;
  return null;
}
