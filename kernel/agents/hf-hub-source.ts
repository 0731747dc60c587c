/**
 * The Hugging Face Hub as a data source, through `@huggingface/hub`: search datasets by the
 * request's words, read license, task, columns and access from the card and tags, list the
 * files (the Hub's Parquet conversion first, then the dataset's own), download one with
 * progress into a cache shared by the workspace's projects, keyed by repository and commit,
 * so a second project on the same dataset downloads nothing.
 *
 * The base URL is `HF_ENDPOINT` (the Hub's own convention) given to every call as `hubUrl`,
 * so a mirror, a proxy or a test server stands in for huggingface.co. Every request goes
 * through source-http's retrying fetch (429 and 5xx waited out as Retry-After says).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { datasetInfo, downloadFile, listDatasets, listFiles, HubApiError } from "@huggingface/hub";
import type { TaskType } from "../../contract";
import { sizeInWords } from "../data/safe-unzip";
import { parquetImageColumns, writeParquetImages } from "../data/parquet-images";
import { InputError } from "../errors/input-error";
import { noDataFileError, pickDataFile, type SourceFile } from "./data-file-pick";
import { words, type DatasetCandidate, type DatasetSource } from "./dataset-ranking";
import { checkLicense } from "./license-check";
import { connectionProblem, downloadToFile, placeFile, retryingFetch, SourceHttpError, withoutTrailingSlash } from "./source-http";

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

export interface HubSourceOptions {
  /** the Hub's base URL (HF_ENDPOINT) */
  endpoint: string;
  /** a read token (HF_TOKEN), needed for gated and private datasets */
  token: string | null;
  /** the workspace's download cache (…/.automl/cache) */
  cacheDir: string;
  /** hears each retry's reason and wait */
  onRetry?: (why: string, waitMs: number) => void;
  /** hears what the source says once (a token it cannot use) */
  onWarning?: (text: string) => void;
  /** search results per word searched */
  perQuery?: number;
}

/** the Hub's Parquet conversion of every dataset its viewer supports (a git ref, not a branch) */
const PARQUET_REVISION = "refs/convert/parquet";
const SEARCHED_WORDS = 3;
const DATA_FIELDS = ["cardData", "tags", "description", "sha"] as const;

type HubTask = { tag: string; task: TaskType };
/** the Hub's task_categories, as this product's tasks */
const HUB_TASKS: HubTask[] = [
  { tag: "tabular-classification", task: "classification" },
  { tag: "tabular-regression", task: "regression" },
  { tag: "time-series-forecasting", task: "time_series_forecasting" },
  { tag: "image-classification", task: "image_classification" },
  { tag: "text-classification", task: "text_classification" },
];

type HubDataset = {
  name: string;
  downloads?: number;
  gated?: false | "auto" | "manual";
  cardData?: object;
  tags?: string[];
  description?: string;
  sha?: string;
};

export function hfHubSource(options: HubSourceOptions): DatasetSource {
  const hubUrl = withoutTrailingSlash(options.endpoint);
  let token = options.token?.trim() || null;
  if (token && !token.startsWith("hf_")) {
    // public datasets need no token: go on without it, and say why gated ones will be refused
    options.onWarning?.(
      `HF_TOKEN is not a Hugging Face access token (they start with hf_), so it is not used: public datasets are searched and downloaded without it. Make a read token at ${hubUrl}/settings/tokens and set it again (AutoML: Set Hugging Face Token).`,
    );
    token = null;
  }
  const fetch = retryingFetch({ onRetry: options.onRetry });
  const credentials = token ? { accessToken: token } : {};
  const pageOf = (name: string) => `${hubUrl}/datasets/${name}`;

  const candidateOf = (d: HubDataset): DatasetCandidate => {
    const tags = d.tags ?? [];
    const card = (d.cardData ?? {}) as Record<string, unknown>;
    const tagged = (prefix: string) => tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
    const cardLicense = Array.isArray(card["license"]) ? (card["license"] as string[])[0] : (card["license"] as string | undefined);
    const license = tagged("license:")[0] ?? cardLicense ?? (card["license_name"] as string | undefined) ?? null;
    const taskTags = [...tagged("task_categories:"), ...((card["task_categories"] as string[] | undefined) ?? [])];
    const task = HUB_TASKS.find((t) => taskTags.includes(t.tag))?.task ?? null;
    const features = featuresOf(card);
    const image = features.some((f) => f.dtype === "image") || tagged("modality:").includes("image");
    const text = !image && tagged("modality:").includes("text") && !tagged("modality:").includes("tabular");
    return {
      id: `hf:${d.name}`,
      source: "hf",
      name: d.name,
      desc: oneLine(String(card["pretty_name"] ?? d.description ?? "")) || `A dataset on the Hugging Face Hub (${d.name}).`,
      license: checkLicense(license),
      size_bytes: sizeOf(card),
      downloads: d.downloads ?? null,
      columns: features.length ? features.map((f) => f.name) : null,
      task,
      keywords: [...d.name.split(/[/_.-]+/), ...tags.filter((t) => !t.includes(":")), ...taskTags, ...((card["tags"] as string[] | undefined) ?? [])],
      url: pageOf(d.name),
      gated: Boolean(d.gated),
      ...(d.gated && !token ? { unavailable: `gated: downloading needs access granted on its page and a token (HF_TOKEN), which is not set` } : {}),
      modality: image ? "image" : text ? "text" : features.length || task ? "table" : null,
      ...(d.sha ? { revision: d.sha } : {}),
    };
  };

  /** a Hub error as a message that says what to do */
  const explain = (err: unknown, name: string, doing: string): Error => {
    if (err instanceof HubApiError) {
      const page = pageOf(name);
      if (err.statusCode === 401 || err.statusCode === 403) {
        return new SourceHttpError(
          token
            ? `hf:${name} is gated and your token has no access to it yet: accept its conditions on ${page} (signed in as the token's owner), then run the stage again.`
            : `hf:${name} is gated or private: ${doing} needs access. Accept its conditions on ${page}, make a read token at ${hubUrl}/settings/tokens, and set it (AutoML: Set Hugging Face Token, or HF_TOKEN); then run the stage again.`,
          err.statusCode,
        );
      }
      if (err.statusCode === 404)
        return new SourceHttpError(`There is no dataset hf:${name} on ${hubUrl} (${doing} answered 404): check the name, as in ${page}.`, 404);
      if (err.statusCode === 429)
        return new SourceHttpError(
          `The Hub at ${hubUrl} keeps refusing requests as too many (429) while ${doing}: wait a few minutes and run the stage again${token ? "" : ", or set a token (AutoML: Set Hugging Face Token), which raises the limit"}.`,
          429,
        );
      return new SourceHttpError(
        `The Hub at ${hubUrl} answered ${err.statusCode} while ${doing} for hf:${name}: ${err.message.split(". URL:")[0]}. Run the stage again later.`,
        err.statusCode,
      );
    }
    if (err instanceof InputError) return err;
    return new SourceHttpError(`The Hub at ${hubUrl} could not be reached while ${doing} for hf:${name} (${connectionProblem(err)}).`, null);
  };

  return {
    id: "hf",
    async search(query) {
      // the Hub searches names by substring: the request's most telling words, one search each
      const asked = [...new Set(words(`${query.targetHint ?? ""} ${query.prompt}`))].sort((a, b) => b.length - a.length).slice(0, SEARCHED_WORDS);
      const found = new Map<string, DatasetCandidate>();
      for (const word of asked) {
        try {
          for await (const d of listDatasets({
            search: { query: word },
            sort: "downloads",
            limit: options.perQuery ?? 10,
            additionalFields: ["cardData", "tags", "description"],
            hubUrl,
            fetch,
            ...credentials,
          })) {
            if (!found.has(d.name)) found.set(d.name, candidateOf(d));
          }
        } catch (err) {
          throw explainSearch(err, hubUrl);
        }
      }
      return [...found.values()];
    },
    async lookup(id) {
      const name = repoName(id);
      try {
        return candidateOf(await datasetInfo({ name, additionalFields: [...DATA_FIELDS], hubUrl, fetch, ...credentials }));
      } catch (err) {
        throw explain(err, name, "reading its card");
      }
    },
    async fetch(candidate, dataDir, onProgress, signal) {
      const name = repoName(candidate.id);
      // the commit the lookup read; a candidate from a search carries none, so the card is read for it
      let sha = candidate.revision;
      if (!sha) {
        try {
          sha = (await datasetInfo({ name, additionalFields: [...DATA_FIELDS], hubUrl, fetch, ...credentials })).sha ?? "main";
        } catch (err) {
          throw explain(err, name, "reading its card");
        }
      }
      const notes: string[] = [];
      // the Hub's own Parquet conversion reads the same whatever the dataset was uploaded as
      let revision = PARQUET_REVISION;
      let files = await listed(name, PARQUET_REVISION).catch((err) => {
        if (err instanceof HubApiError && err.statusCode === 404) return [] as SourceFile[];
        throw explain(err, name, "listing its Parquet conversion");
      });
      let picked = pickDataFile(files, "the Hub's Parquet conversion");
      if (!picked) {
        revision = sha;
        files = await listed(name, sha).catch((err) => {
          throw explain(err, name, "listing its files");
        });
        picked = pickDataFile(files, "the dataset's own files");
      }
      if (!picked) {
        throw noDataFileError(`hf:${name}`, files, "the Hub has no Parquet conversion of it (images with their labels), which is what is read from the Hub");
      }
      // an image dataset's Parquet is in shards: every shard of the split is read (a table reads its one file)
      const shards = candidate.modality === "image" && picked.file.path.endsWith(".parquet") ? shardsOf(files, picked.file) : [picked.file];
      const split = path.posix.dirname(picked.file.path);
      const otherSplits = [
        ...new Set(files.filter((f) => f.path.endsWith(".parquet") && path.posix.dirname(f.path) !== split).map((f) => path.posix.dirname(f.path))),
      ];
      notes.push(
        shards.length > 1
          ? `read the ${shards.length} Parquet files of ${split} (an image dataset's shards of one split) from ${revision === sha ? "the dataset's own files" : "the Hub's Parquet conversion"}${otherSplits.length ? `; ${otherSplits.join(", ")} not read (the split is made from ${split})` : ""}`
          : picked.reason,
      );
      const cachedFiles: string[] = [];
      for (const shard of shards) {
        // cached by repository and commit (the conversion under its own folder): a new commit downloads again
        const cached = path.join(options.cacheDir, "hf", ...name.split("/"), sha, revision === sha ? "" : "parquet", ...shard.path.split("/"));
        cachedFiles.push(cached);
        if (fs.existsSync(cached) && fs.statSync(cached).size === shard.size) {
          notes.push(`${shard.path} taken from the workspace's download cache (commit ${sha.slice(0, 12)}): nothing downloaded`);
          continue;
        }
        let blob: Blob | null;
        try {
          blob = await downloadFile({ repo: { type: "dataset", name }, path: shard.path, revision, hubUrl, fetch, xet: false, ...credentials });
        } catch (err) {
          throw explain(err, name, `downloading ${shard.path}`);
        }
        if (!blob)
          throw new InputError(`hf:${name} lists ${shard.path} but the Hub has no such file to download: run the stage again, or choose another candidate.`);
        const whole = blob;
        await downloadToFile({
          open: async (offset) => ({ body: (offset ? whole.slice(offset) : whole).stream(), from: offset }),
          size: whole.size,
          dest: cached,
          what: `${shard.path} from hf:${name}`,
          onProgress,
          signal,
        });
        notes.push(`downloaded ${shard.path} (${sizeInWords(whole.size)}) at commit ${sha.slice(0, 12)} into the workspace's cache`);
      }
      const folderName = name.replace("/", "--");
      // a Parquet file of images (an image column of bytes and a label) becomes a folder per class with its index
      const imageColumns = picked.file.path.endsWith(".parquet") ? await parquetImageColumns(cachedFiles[0]!, `hf:${name}'s ${picked.file.path}`) : null;
      if (imageColumns) {
        const written = await writeParquetImages(
          cachedFiles.map((file, i) => ({ file, shownAs: `hf:${name}'s ${shards[i]!.path}` })),
          imageColumns,
          path.join(dataDir, folderName),
          `data/${folderName}`,
          { labelNamesFallback: imageColumns.labelNames ? null : await cardLabelNames(name, imageColumns.label) },
        );
        return { file: written.index, revision: sha, notes };
      }
      const dest = path.join(dataDir, `${folderName}${extensionOf(picked.file.path)}`);
      placeFile(cachedFiles[0]!, dest);
      return { file: dest, revision: sha, notes };
    },
  };

  /** A ClassLabel's names from the dataset card (dataset_info.features[].dtype.class_label.names), when its Parquet does not carry them; null when the card has none. */
  async function cardLabelNames(name: string, column: string): Promise<string[] | null> {
    try {
      const info = (await datasetInfo({ name, additionalFields: ["cardData"], hubUrl, fetch, ...credentials })) as { cardData?: object };
      return classLabelNames((info.cardData ?? {}) as Record<string, unknown>, column);
    } catch {
      return null; // the labels stay numbers: said in the notes ("labelled by")
    }
  }

  async function listed(name: string, revision: string): Promise<SourceFile[]> {
    const out: SourceFile[] = [];
    // the library puts the revision into the path as it is: a ref with slashes is encoded here
    for await (const f of listFiles({
      repo: { type: "dataset", name },
      revision: encodeURIComponent(revision),
      recursive: true,
      hubUrl,
      fetch,
      ...credentials,
    })) {
      if (f.type === "file") out.push({ path: f.path, size: f.lfs?.size ?? f.size });
    }
    return out;
  }
}

/** "hf:owner/name" → "owner/name", refusing anything else. */
function repoName(id: string): string {
  const name = id.replace(/^hf:/, "");
  if (!/^[\w.-]+\/[\w.-]+$/.test(name) || name.split("/").some((p) => p === "." || p === "..")) {
    throw new InputError(`${JSON.stringify(id)} is not a Hub dataset name: write hf:OWNER/NAME, as in huggingface.co/datasets/OWNER/NAME.`);
  }
  return name;
}

function explainSearch(err: unknown, hubUrl: string): Error {
  if (err instanceof HubApiError) return new SourceHttpError(`the Hub at ${hubUrl} answered ${err.statusCode} to a search`, err.statusCode);
  return new SourceHttpError(`the Hub at ${hubUrl} could not be reached (${connectionProblem(err)})`, null);
}

/** The card's columns: dataset_info.features, one config or several (the first). */
function featuresOf(card: Record<string, unknown>): Array<{ name: string; dtype: string }> {
  const info = card["dataset_info"];
  const first = Array.isArray(info) ? info[0] : info;
  const features = (first as { features?: unknown } | undefined)?.features;
  if (!Array.isArray(features)) return [];
  return features
    .filter((f): f is { name: string; dtype?: unknown } => typeof f === "object" && f !== null && typeof (f as { name?: unknown }).name === "string")
    .map((f) => ({ name: f.name, dtype: typeof f.dtype === "string" ? f.dtype : "image" in f ? "image" : "other" }));
}

/** A ClassLabel column's names as the card lists them ({"0": "cat", "1": "dog"}, or a list), in number order. */
function classLabelNames(card: Record<string, unknown>, column: string): string[] | null {
  const info = card["dataset_info"];
  const first = (Array.isArray(info) ? info[0] : info) as { features?: unknown } | undefined;
  const features = first?.features;
  const feature = Array.isArray(features) ? (features as Array<{ name?: unknown; dtype?: unknown }>).find((f) => f?.name === column) : undefined;
  const names = (feature?.dtype as { class_label?: { names?: unknown } } | undefined)?.class_label?.names;
  if (Array.isArray(names)) return names.map(String);
  if (names && typeof names === "object") {
    // class numbers as keys ("0": "cat"); a key past any real number of classes is not one
    const entries = Object.entries(names as Record<string, unknown>).filter(([k]) => /^\d{1,5}$/.test(k));
    const out: string[] = [];
    for (const [k, v] of entries) out[Number(k)] = String(v);
    return out.length ? Array.from(out, (v, i) => v ?? String(i)) : null;
  }
  return null;
}

/** The Parquet files beside `picked` (the same folder: one split's shards), in order. */
function shardsOf(files: readonly SourceFile[], picked: SourceFile): SourceFile[] {
  const folder = path.posix.dirname(picked.path);
  return files.filter((f) => path.posix.dirname(f.path) === folder && f.path.endsWith(".parquet") && f.size > 0).sort((a, b) => a.path.localeCompare(b.path));
}

/** The card's download size in bytes (dataset_info.download_size, else dataset_size), when it states one. */
function sizeOf(card: Record<string, unknown>): number | null {
  const info = card["dataset_info"];
  const first = (Array.isArray(info) ? info[0] : info) as { download_size?: unknown; dataset_size?: unknown } | undefined;
  const size = first?.download_size ?? first?.dataset_size;
  return typeof size === "number" && size > 0 ? size : null;
}

function extensionOf(p: string): string {
  const base = path.posix.basename(p).toLowerCase();
  const gz = base.endsWith(".gz") ? ".gz" : "";
  return path.posix.extname(gz ? base.slice(0, -3) : base) + gz;
}

function oneLine(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > 200 ? `${t.slice(0, 197)}…` : t;
}
