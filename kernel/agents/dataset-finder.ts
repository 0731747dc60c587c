/**
 * The data finder: every source this process may use (the workspace's files, the bundled
 * catalog, the Hugging Face Hub, Kaggle), configured from the environment the extension or the
 * shell gives it, searched together and ranked once (dataset-ranking.ts). A source that cannot
 * be searched (the Hub unreachable, Kaggle without credentials) is skipped with one note that
 * says so; the others' candidates stand.
 *
 * Configuration (all optional):
 *   HF_ENDPOINT            the Hub's base URL (default https://huggingface.co)
 *   HF_TOKEN               a Hub read token, for gated and private datasets
 *   KAGGLE_USERNAME, KAGGLE_KEY (or KAGGLE_CONFIG_DIR/kaggle.json, ~/.kaggle/kaggle.json)
 *   KAGGLE_API_ENDPOINT    Kaggle's root (default https://www.kaggle.com; routes under /api/v1)
 *   AUTOML_DATASET_SOURCES which sources to search, comma-separated (default workspace,catalog,hf,kaggle)
 *   AUTOML_MAX_EXPANDED_BYTES  the most a downloaded archive may expand to (default 4 GiB)
 */
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../errors/input-error";
import { DEFAULT_MAX_EXPANDED_BYTES } from "../data/safe-unzip";
import {
  rankCandidates,
  sourceName,
  type DatasetCandidate,
  type DatasetQuery,
  type DatasetSource,
  type DatasetSourceId,
  type RankedCandidate,
} from "./dataset-ranking";
import { DEFAULT_HF_ENDPOINT, hfHubSource } from "./hf-hub-source";
import { DEFAULT_KAGGLE_ENDPOINT, kaggleCredentials, kaggleSource } from "./kaggle-source";
import { catalogSource, workspaceSource } from "./local-dataset-sources";

const ALL_SOURCES: readonly DatasetSourceId[] = ["workspace", "catalog", "hf", "kaggle"];
/** a search that has not answered by then is given up (the others' candidates stand) */
const SEARCH_TIMEOUT_MS = 20_000;

export interface FinderSettings {
  /** the workspace whose files are searched (null: none, as in a standalone notebook) */
  workspace: string | null;
  /** the workspace's download cache */
  cacheDir: string;
  env: NodeJS.ProcessEnv;
}

export interface FoundCandidates {
  ranked: RankedCandidate[];
  /** a sentence per source that could not be searched, said once */
  notes: string[];
}

export class DatasetFinder {
  private readonly enabled: Set<DatasetSourceId>;
  private readonly built = new Map<DatasetSourceId, DatasetSource>();

  constructor(
    private readonly settings: FinderSettings,
    /** hears what a source says as it works (a 429 waited out, a token it cannot use), for the stage's log */
    private readonly onNote?: (text: string) => void,
  ) {
    const listed = settings.env["AUTOML_DATASET_SOURCES"];
    const asked = listed ? listed.split(",").map((s) => s.trim()) : [...ALL_SOURCES];
    const unknown = asked.filter((s) => !ALL_SOURCES.includes(s as DatasetSourceId));
    if (unknown.length)
      throw new InputError(`AUTOML_DATASET_SOURCES names ${unknown.join(", ")}: it takes a comma-separated list of ${ALL_SOURCES.join(", ")}.`);
    this.enabled = new Set(asked as DatasetSourceId[]);
  }

  /**
   * Every enabled source's candidates for the query, ranked together. A source that fails or
   * cannot be used is left out with a note; with none answering the list is empty, not an error.
   */
  async find(query: DatasetQuery): Promise<FoundCandidates> {
    const notes: string[] = [];
    const searched = await Promise.all(
      ALL_SOURCES.filter((id) => this.enabled.has(id)).map(async (id): Promise<DatasetCandidate[]> => {
        if (id === "workspace" && !this.settings.workspace) return [];
        if (id === "kaggle" && !this.kaggleReady(notes)) return [];
        try {
          const timeout = AbortSignal.timeout(SEARCH_TIMEOUT_MS);
          return await Promise.race([
            this.source(id).search(query, timeout),
            new Promise<never>((_, reject) => timeout.addEventListener("abort", () => reject(new Error(`no answer in ${SEARCH_TIMEOUT_MS / 1000} s`)))),
          ]);
        } catch (err) {
          notes.push(`${capitalised(sourceName(id))} could not be searched (${(err as Error).message}): going on with the other sources' candidates.`);
          return [];
        }
      }),
    );
    return { ranked: rankCandidates(query, searched.flat()), notes };
  }

  /** Kaggle has credentials to search with; when not (none, or a kaggle.json that cannot be read), a note says why */
  private kaggleReady(notes: string[]): boolean {
    try {
      if (kaggleCredentials(this.settings.env)) return true;
      notes.push("Kaggle was not searched: there are no Kaggle credentials (AutoML: Set Kaggle Credentials, or KAGGLE_USERNAME and KAGGLE_KEY).");
    } catch (err) {
      notes.push(`Kaggle was not searched: ${(err as Error).message}`);
    }
    return false;
  }

  /** The candidate a dataset id names (--source, a gate's choice), from its own source. */
  lookup(id: string): Promise<DatasetCandidate> {
    return this.sourceFor(id).lookup(normalisedId(id));
  }

  /** The source that serves a dataset id ("hf:…" → the Hub), built on first use. */
  sourceFor(id: string): DatasetSource {
    const prefix = normalisedId(id).split(":")[0] as DatasetSourceId;
    if (!ALL_SOURCES.includes(prefix)) {
      throw new InputError(`${JSON.stringify(id)} names no source: write hf:OWNER/NAME, kaggle:OWNER/SLUG, catalog:NAME or workspace:PATH.`);
    }
    return this.source(prefix);
  }

  private source(id: DatasetSourceId): DatasetSource {
    let source = this.built.get(id);
    if (source) return source;
    const env = this.settings.env;
    const onRetry = (why: string, waitMs: number) => this.onNote?.(`${capitalised(sourceName(id))}: ${why}; trying again in ${(waitMs / 1000).toFixed(1)} s.`);
    switch (id) {
      case "workspace":
        if (!this.settings.workspace) throw new InputError("There is no workspace to take a file from here: give the file itself.");
        source = workspaceSource(this.settings.workspace);
        break;
      case "catalog":
        source = catalogSource();
        break;
      case "hf":
        source = hfHubSource({
          endpoint: env["HF_ENDPOINT"] || DEFAULT_HF_ENDPOINT,
          token: env["HF_TOKEN"] || null,
          cacheDir: this.settings.cacheDir,
          onRetry,
          onWarning: (text) => this.onNote?.(text),
        });
        break;
      case "kaggle": {
        const credentials = kaggleCredentials(env);
        if (!credentials) {
          throw new InputError(
            "Kaggle datasets need Kaggle credentials: make an API token at kaggle.com/settings (Create New Token) and set it (AutoML: Set Kaggle Credentials, or KAGGLE_USERNAME and KAGGLE_KEY, or ~/.kaggle/kaggle.json).",
          );
        }
        const max = Number(env["AUTOML_MAX_EXPANDED_BYTES"]);
        source = kaggleSource({
          endpoint: env["KAGGLE_API_ENDPOINT"] || DEFAULT_KAGGLE_ENDPOINT,
          credentials,
          cacheDir: this.settings.cacheDir,
          maxExpandedBytes: Number.isFinite(max) && max > 0 ? max : DEFAULT_MAX_EXPANDED_BYTES,
          onRetry,
        });
        break;
      }
    }
    this.built.set(id, source);
    return source;
  }
}

/** `bundled:NAME` (projects from before there were sources) is the catalog's `catalog:NAME`. */
export function normalisedId(id: string): string {
  return id.startsWith("bundled:") ? `catalog:${id.slice("bundled:".length)}` : id;
}

/**
 * Where a project's finder looks: a project folder inside a workspace's `.automl/projects`
 * searches that workspace and caches in its `.automl/cache`; any other folder (a standalone
 * notebook's) searches no workspace and caches in the system's temporary folder.
 */
export function finderSettingsFor(projectDir: string, env: NodeJS.ProcessEnv = process.env): FinderSettings {
  const projects = path.dirname(path.resolve(projectDir));
  const automl = path.dirname(projects);
  if (path.basename(projects) === "projects" && path.basename(automl) === ".automl") {
    return { workspace: path.dirname(automl), cacheDir: path.join(automl, "cache"), env };
  }
  return { workspace: null, cacheDir: path.join(os.tmpdir(), "automl-dataset-cache"), env };
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
