/**
 * The export bundle's manifest (manifest.json at the bundle's root): what the bundle is (its
 * format and version), which model it predicts with, and every other file with its size and
 * sha256. Whatever reads a bundle (automl predict, the conductor, the bundle's own predict.mjs)
 * checks it first: a file whose bytes no longer match, a file the manifest does not list, a
 * path that climbs out of the bundle, or a newer format is refused with the file named.
 */
import { createHash } from "node:crypto";
import { InputError } from "../errors/input-error";

export const BUNDLE_FORMAT = "automl-bundle";
/** 1: the first bundle (manifest, model file v1, predict.mjs) */
export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";
/** where a bundle keeps the model it predicts with */
export const BUNDLED_MODEL = "model/best-model.model";

export interface BundleFile {
  path: string;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  format_version: number;
  project_id: string;
  prompt: string;
  /** the model predict.mjs uses; null when the project had none (the bundle then holds no predict.mjs) */
  model: { file: string; run_id: string; model_id: string; task: string; target: string } | null;
  /** every file but the manifest, in the order they are in the zip */
  files: BundleFile[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Why a path inside a bundle is not one (null: it is fine): absolute, a drive letter, a
 * backslash, an empty, "." or ".." segment. Such an entry could write outside the folder it
 * is unzipped into.
 */
export function unsafeEntryPath(p: string): string | null {
  if (p.length === 0) return "it is empty";
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return "it is an absolute path";
  if (p.includes("\\")) return "it holds a backslash";
  if (p.includes("\0")) return "it holds a zero byte";
  if (p.split("/").some((s) => s === ".." || s === "." || s === "")) return "it climbs out of the bundle (a '..' or empty segment)";
  return null;
}

/**
 * The manifest read from its bytes, its format and version checked. `shownAs`: the bundle as
 * the person named it; `ownScript`: read by the bundle's own predict.mjs (which came with it).
 */
export function parseManifest(bytes: Uint8Array, shownAs: string, ownScript = false): BundleManifest {
  let m: Partial<BundleManifest>;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes)) as Partial<BundleManifest>;
  } catch {
    throw new InputError(`${shownAs}: its ${MANIFEST_FILE} is not JSON, so the bundle cannot be checked. Export the project again.`);
  }
  if (m === null || typeof m !== "object" || m.format !== BUNDLE_FORMAT)
    throw new InputError(`${shownAs}: its ${MANIFEST_FILE} is not an AutoML bundle's manifest (format "${BUNDLE_FORMAT}"). Give a project's export zip.`);
  if (typeof m.format_version !== "number" || !Number.isInteger(m.format_version) || m.format_version < 1)
    throw new InputError(`${shownAs}: its manifest's format_version ${JSON.stringify(m.format_version)} is not a version number. Export the project again.`);
  if (m.format_version > BUNDLE_FORMAT_VERSION)
    throw new InputError(
      ownScript
        ? `${shownAs}: its manifest says format version ${m.format_version}, but this predict.mjs reads version ${BUNDLE_FORMAT_VERSION}: the folder mixes files of two exports. Unzip the bundle again into an empty folder.`
        : `${shownAs} is a bundle of format version ${m.format_version}; this version of AutoML reads version ${BUNDLE_FORMAT_VERSION}. ` +
            `Update the extension (or the automl package), or run the bundle's own predict.mjs.`,
    );
  if (!Array.isArray(m.files)) throw new InputError(`${shownAs}: its manifest lists no files. Export the project again.`);
  for (const f of m.files) {
    if (typeof f?.path !== "string" || typeof f.sha256 !== "string" || typeof f.size !== "number")
      throw new InputError(`${shownAs}: its manifest has an entry without path, size and sha256. Export the project again.`);
    const unsafe = unsafeEntryPath(f.path);
    if (unsafe) throw new InputError(`${shownAs}: its manifest names ${JSON.stringify(f.path)}, which is refused: ${unsafe}.`);
  }
  return m as BundleManifest;
}

/**
 * Checks every file the manifest lists against its bytes (`read`: a file's bytes, or null when
 * the bundle lacks it), and that the bundle holds nothing else (`present`: every file in it).
 */
export function verifyBundle(manifest: BundleManifest, present: readonly string[], read: (p: string) => Uint8Array | null, shownAs: string): void {
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const p of present) {
    const unsafe = unsafeEntryPath(p);
    if (unsafe)
      throw new InputError(`${shownAs} holds the entry ${JSON.stringify(p)}, which is refused: ${unsafe}. Do not use this bundle; export the project again.`);
    if (p !== MANIFEST_FILE && !listed.has(p))
      throw new InputError(`${shownAs} holds ${p}, which its manifest does not list: the bundle was changed after export. Export the project again.`);
  }
  for (const f of manifest.files) {
    const bytes = read(f.path);
    if (!bytes) throw new InputError(`${shownAs} lacks ${f.path}, which its manifest lists. Export the project again (or unzip the whole bundle).`);
    if (bytes.length !== f.size || sha256Hex(bytes) !== f.sha256)
      throw new InputError(
        `${shownAs}: ${f.path} does not match the manifest (its sha256 differs): the file was changed after export. Refused; export the project again.`,
      );
  }
}
