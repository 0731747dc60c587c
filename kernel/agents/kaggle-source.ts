/**
 * Kaggle as a data source, through its public REST API (v1): search datasets, read one's
 * license, files and version, download its zip (a redirect to storage), and extract the one
 * data file chosen, with its reason. Credentials are Kaggle's own: KAGGLE_USERNAME and
 * KAGGLE_KEY, else the kaggle.json in KAGGLE_CONFIG_DIR or ~/.kaggle, sent as HTTP basic
 * auth. The API's root is KAGGLE_API_ENDPOINT (default https://www.kaggle.com; the routes
 * are under /api/v1), so a proxy or a test server stands in.
 *
 * Zips are cached in the workspace by dataset and version, and never trusted: see
 * data/safe-unzip.ts (no path traversal, a limit on the expanded size, streamed).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../errors/input-error";
import { checkedZipEntries, DEFAULT_MAX_EXPANDED_BYTES, extractZipEntry, sizeInWords, type ZipEntry } from "../data/safe-unzip";
import { classFolderRoot, copyImageFolder, extractImageZip } from "../data/image-folder";
import { indexImagesByTable } from "../data/image-table-index";
import { isImageArchive, noDataFileError, pickDataFile } from "./data-file-pick";
import { words, type DatasetCandidate, type DatasetSource } from "./dataset-ranking";
import { checkLicense } from "./license-check";
import { connectionProblem, downloadToFile, placeFile, retryingFetch, SourceHttpError, withoutTrailingSlash } from "./source-http";

export const DEFAULT_KAGGLE_ENDPOINT = "https://www.kaggle.com";

export interface KaggleCredentials {
  username: string;
  key: string;
  /** where they were read from, for messages ("KAGGLE_USERNAME/KAGGLE_KEY", "~/.kaggle/kaggle.json") */
  from: string;
}

export interface KaggleSourceOptions {
  endpoint: string;
  credentials: KaggleCredentials;
  cacheDir: string;
  maxExpandedBytes?: number;
  onRetry?: (why: string, waitMs: number) => void;
}

/** Kaggle's credentials from the environment, else its kaggle.json; null when there are none. */
export function kaggleCredentials(env: NodeJS.ProcessEnv = process.env): KaggleCredentials | null {
  if (env["KAGGLE_USERNAME"] && env["KAGGLE_KEY"]) return { username: env["KAGGLE_USERNAME"], key: env["KAGGLE_KEY"], from: "KAGGLE_USERNAME/KAGGLE_KEY" };
  const file = path.join(env["KAGGLE_CONFIG_DIR"] ?? path.join(os.homedir(), ".kaggle"), "kaggle.json");
  if (!fs.existsSync(file)) return null;
  let json: { username?: unknown; key?: unknown };
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8")) as typeof json;
  } catch (err) {
    throw new InputError(
      `${file} cannot be read as Kaggle credentials (${(err as Error).message}): download it again from kaggle.com/settings (Create New Token).`,
    );
  }
  if (typeof json.username === "string" && typeof json.key === "string") return { username: json.username, key: json.key, from: file };
  throw new InputError(`${file} holds no "username" and "key": download it again from kaggle.com/settings (Create New Token).`);
}

/** What Kaggle's API answers for a dataset (list, view), the fields read here. */
interface KaggleDataset {
  ref: string;
  title?: string;
  subtitle?: string;
  totalBytes?: number;
  url?: string;
  downloadCount?: number;
  licenseName?: string;
  currentVersionNumber?: number;
  tags?: Array<{ name?: string; ref?: string }>;
}

interface KaggleFile {
  name: string;
  totalBytes: number;
  columns?: Array<{ name?: string }>;
}

export function kaggleSource(options: KaggleSourceOptions): DatasetSource {
  const root = `${withoutTrailingSlash(options.endpoint)}/api/v1`;
  const auth = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.key}`).toString("base64")}`;
  const fetch = retryingFetch({ onRetry: options.onRetry });

  const get = async (route: string, what: string, headers: Record<string, string> = {}): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(`${root}${route}`, { headers: { Authorization: auth, Accept: "application/json", ...headers }, redirect: "follow" });
    } catch (err) {
      throw new SourceHttpError(`Kaggle at ${options.endpoint} could not be reached while ${what} (${connectionProblem(err)}).`, null);
    }
    if (res.ok) return res;
    const detail = await res.text().then(
      (t) => {
        try {
          return String((JSON.parse(t) as { message?: unknown }).message ?? t);
        } catch {
          return t.slice(0, 200);
        }
      },
      () => "",
    );
    if (res.status === 401) {
      throw new SourceHttpError(
        `Kaggle refused the credentials from ${options.credentials.from} (401 ${detail}) while ${what}: make a new API token at kaggle.com/settings (Create New Token) and set it (AutoML: Set Kaggle Credentials, or KAGGLE_USERNAME and KAGGLE_KEY).`,
        401,
      );
    }
    if (res.status === 403) {
      throw new SourceHttpError(`Kaggle answered 403 while ${what}: the dataset is private or needs its rules accepted on its page first (${detail}).`, 403);
    }
    if (res.status === 404)
      throw new SourceHttpError(`Kaggle has no such dataset (404 while ${what}): check the name, as in kaggle.com/datasets/OWNER/SLUG.`, 404);
    if (res.status === 429)
      throw new SourceHttpError(`Kaggle keeps refusing requests as too many (429) while ${what}: wait a few minutes and run the stage again.`, 429);
    throw new SourceHttpError(`Kaggle answered ${res.status} while ${what}: ${detail}. Run the stage again later.`, res.status);
  };

  const candidateOf = (d: KaggleDataset, files: KaggleFile[] | null = null): DatasetCandidate => {
    const columns = files?.flatMap((f) => (f.columns ?? []).map((c) => c.name ?? "").filter(Boolean)) ?? [];
    const tags = (d.tags ?? []).map((t) => t.name ?? t.ref ?? "").filter(Boolean);
    return {
      id: `kaggle:${d.ref}`,
      source: "kaggle",
      name: d.title ? `${d.title} (${d.ref})` : d.ref,
      desc: d.subtitle ?? "",
      license: checkLicense(d.licenseName),
      size_bytes: d.totalBytes ?? null,
      downloads: d.downloadCount ?? null,
      columns: columns.length ? columns : null,
      task: null,
      keywords: [...d.ref.split(/[/_.-]+/), ...tags],
      url: d.url ?? `https://www.kaggle.com/datasets/${d.ref}`,
      modality: tags.some((t) => /image|computer vision/i.test(t)) ? "image" : null,
    };
  };

  return {
    id: "kaggle",
    async search(query) {
      const asked = [...new Set(words(`${query.targetHint ?? ""} ${query.prompt}`))].slice(0, 4).join(" ");
      if (!asked) return [];
      const res = await get(`/datasets/list?${new URLSearchParams({ search: asked, page: "1", sortBy: "hottest" })}`, "searching datasets");
      return ((await res.json()) as KaggleDataset[]).filter((d) => typeof d.ref === "string").map((d) => candidateOf(d));
    },
    async lookup(id) {
      const ref = datasetRef(id);
      const view = (await (await get(`/datasets/view/${ref}`, `reading kaggle:${ref}`)).json()) as KaggleDataset;
      const files = await filesOf(ref);
      return candidateOf({ ...view, ref }, files);
    },
    async fetch(candidate, dataDir, onProgress, signal) {
      const ref = datasetRef(candidate.id);
      const view = (await (await get(`/datasets/view/${ref}`, `reading kaggle:${ref}`)).json()) as KaggleDataset;
      const version = view.currentVersionNumber ?? null;
      const folder = path.join(options.cacheDir, "kaggle", ...ref.split("/"), version === null ? "latest" : `v${version}`);
      const zip = path.join(folder, "dataset.zip");
      const notes: string[] = [];
      if (fs.existsSync(zip) && version !== null) {
        notes.push(`taken from the workspace's download cache (version ${version}): nothing downloaded`);
      } else {
        const query = version === null ? "" : `?datasetVersionNumber=${version}`;
        const first = await get(`/datasets/download/${ref}${query}`, `downloading kaggle:${ref}`);
        const size = Number(first.headers.get("content-length")) || null;
        let opened: Response | null = first;
        await downloadToFile({
          open: async (offset) => {
            // the first request's body is used as it is; a resume asks for the rest
            const res =
              opened ?? (await get(`/datasets/download/${ref}${query}`, `resuming the download of kaggle:${ref}`, offset ? { Range: `bytes=${offset}-` } : {}));
            opened = null;
            return { body: res.body!, from: res.status === 206 ? offset : 0 };
          },
          size,
          dest: zip,
          what: `kaggle:${ref}`,
          onProgress,
          signal,
        });
        notes.push(
          `downloaded kaggle:${ref}${version === null ? "" : ` version ${version}`} (${sizeInWords(fs.statSync(zip).size)} zipped) into the workspace's cache`,
        );
      }
      let entries: ZipEntry[];
      try {
        entries = checkedZipEntries(zip, `kaggle:${ref}'s download`, options.maxExpandedBytes ?? DEFAULT_MAX_EXPANDED_BYTES);
      } catch (err) {
        fs.rmSync(zip, { force: true }); // a refused archive is not kept, not even in the cache
        throw err;
      }
      const files = entries.map((e) => ({ path: e.name, size: e.size }));
      const picked = pickDataFile(files, `kaggle:${ref}'s download`);
      if (isImageArchive(files)) {
        // mostly images: a folder per class (train/cat/…) is the data, whatever text file is beside it; extracted once into the cache
        const extracted = path.join(folder, "images");
        if (!fs.existsSync(extracted)) {
          const staging = `${extracted}.partial`;
          fs.rmSync(staging, { recursive: true, force: true });
          try {
            await extractImageZip(zip, `kaggle:${ref}'s download`, staging);
          } catch (err) {
            fs.rmSync(staging, { recursive: true, force: true });
            throw err;
          }
          // nothing extracted when the zip is not mostly images in folders: then it is read as a table's zip
          if (fs.existsSync(staging)) fs.renameSync(staging, extracted);
        }
        const root = fs.existsSync(extracted) ? classFolderRoot(extracted) : null;
        const name = ref.replace("/", "--");
        if (root) {
          const copied = copyImageFolder(root.folder, path.join(dataDir, name), `data/${name}`, root.notes);
          notes.push(`an image dataset: its images by class (the folder ${path.relative(extracted, root.folder).split(path.sep).join("/") || "at the top"})`);
          return { file: copied.index, revision: version === null ? null : `v${version}`, notes };
        }
        // no folder per class: a table beside the images may name each image and its class (images/ with labels.csv)
        const indexed = fs.existsSync(extracted) ? await indexImagesByTable(extracted, path.join(dataDir, name), `data/${name}`) : null;
        if (indexed) {
          // what the table named and left out is said from the index's notes, when the data is read
          notes.push(`an image dataset: its images, indexed by a table beside them`);
          return { file: indexed.index, revision: version === null ? null : `v${version}`, notes };
        }
      }
      if (!picked) {
        throw noDataFileError(`kaggle:${ref}`, files);
      }
      notes.push(picked.reason);
      const extracted = path.join(folder, "files", ...picked.file.path.split("/"));
      if (!fs.existsSync(extracted))
        await extractZipEntryOrForget(
          zip,
          entries.find((e) => e.name === picked.file.path)!,
          extracted,
          `kaggle:${ref}'s download`,
        );
      const dest = path.join(dataDir, path.posix.basename(picked.file.path));
      placeFile(extracted, dest);
      return { file: dest, revision: version === null ? null : `v${version}`, notes };
    },
  };

  async function filesOf(ref: string): Promise<KaggleFile[]> {
    const res = await get(`/datasets/list/${ref}`, `listing kaggle:${ref}'s files`);
    const body = (await res.json()) as { datasetFiles?: KaggleFile[] };
    return body.datasetFiles ?? [];
  }
}

/** Extracts the entry; an archive whose entry cannot be expanded (a bomb, damage) is removed from the cache too. */
async function extractZipEntryOrForget(zip: string, entry: ZipEntry, dest: string, shownAs: string): Promise<void> {
  try {
    await extractZipEntry(zip, entry, dest, shownAs);
  } catch (err) {
    fs.rmSync(zip, { force: true });
    throw err;
  }
}

/** "kaggle:owner/slug" → "owner/slug", refusing anything else. */
function datasetRef(id: string): string {
  const ref = id.replace(/^kaggle:/, "");
  if (!/^[\w-]+\/[\w.-]+$/.test(ref) || ref.split("/").some((p) => p === "." || p === "..")) {
    throw new InputError(`${JSON.stringify(id)} is not a Kaggle dataset: write kaggle:OWNER/SLUG, as in kaggle.com/datasets/OWNER/SLUG.`);
  }
  return ref;
}
