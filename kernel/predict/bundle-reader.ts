/**
 * A predictor from an export bundle, zipped or unzipped: every file is checked against the
 * manifest before the model is read (bundle-manifest.ts). The bundle's own predict.mjs reads
 * its folder through here, so this module keeps to what that script may carry (no contract
 * schemas, no training).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { unzipSync } from "fflate";
import { InputError } from "../errors/input-error";
import { BUNDLED_MODEL, MANIFEST_FILE, parseManifest, verifyBundle } from "./bundle-manifest";
import { predictorFromModelFile, type Predictor } from "./model-predictor";

/** An export zip: every entry checked against the manifest before the model is read. */
export function predictorFromBundleZip(bytes: Uint8Array, source: string): Predictor {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new InputError(`${source} is not a zip that can be read (${(err as Error).message}). Give a project's export zip.`);
  }
  const manifestBytes = files[MANIFEST_FILE];
  if (!manifestBytes) {
    throw new InputError(
      files[BUNDLED_MODEL]
        ? `${source} is an export from before bundles carried a manifest, so it cannot be checked. Export the project again.`
        : `${source} is not an AutoML export bundle (it holds no ${MANIFEST_FILE}). Give a project's export zip, its folder, or a model file.`,
    );
  }
  const manifest = parseManifest(manifestBytes, source);
  verifyBundle(manifest, Object.keys(files), (p) => files[p] ?? null, source);
  if (!manifest.model) throw new InputError(`${source} holds no model: its project had none when it was exported. Train it, then export again.`);
  return predictorFromModelFile(files[manifest.model.file]!, `${source}:${manifest.model.file}`);
}

/** An unzipped bundle: the files its manifest lists are checked (files a person added beside them, such as new data, are left alone). */
/** `ownScript`: read by the bundle's own predict.mjs */
export function predictorFromBundleFolder(dir: string, ownScript = false): Predictor {
  const manifest = parseManifest(new Uint8Array(fs.readFileSync(path.join(dir, MANIFEST_FILE))), dir, ownScript);
  verifyBundle(manifest, [], (p) => readInside(dir, p), dir);
  if (!manifest.model) throw new InputError(`${dir} holds no model: its project had none when it was exported. Train it, then export again.`);
  return predictorFromModelFile(readInside(dir, manifest.model.file)!, path.join(dir, manifest.model.file));
}

/** A regular file inside `dir` (never through a link out of it), or null. */
function readInside(dir: string, rel: string): Uint8Array | null {
  const file = path.join(dir, rel);
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile()) return null;
    const real = fs.realpathSync(file);
    if (!real.startsWith(fs.realpathSync(dir) + path.sep)) return null;
    return new Uint8Array(fs.readFileSync(real));
  } catch {
    return null;
  }
}
