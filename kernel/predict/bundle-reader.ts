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
import { openIfRegular } from "../files/regular-file";
import { BUNDLED_MODEL, MANIFEST_FILE, parseManifest, verifyBundle } from "./bundle-manifest";
import { predictorFromModelFile, type Predictor } from "./model-predictor";
import { forecasterFromModelFile, type SeriesForecaster } from "./series-forecast";

/** An export zip: every entry checked against the manifest before the model is read. */
export function predictorFromBundleZip(bytes: Uint8Array, source: string): Predictor {
  const model = modelOfBundleZip(bytes, source);
  return predictorFromModelFile(model.bytes, model.shownAs);
}

/** An export zip's model file, after every entry was checked against the manifest. */
export function modelOfBundleZip(bytes: Uint8Array, source: string): { bytes: Uint8Array; shownAs: string } {
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
  return { bytes: files[manifest.model.file]!, shownAs: `${source}:${manifest.model.file}` };
}

/**
 * An unzipped bundle: the files its manifest lists are checked (files a person added beside
 * them, such as new data, are left alone), and the model is read from the bytes checked.
 * `ownScript`: read by the bundle's own predict.mjs.
 */
export function predictorFromBundleFolder(dir: string, ownScript = false): Predictor {
  const model = modelOfBundleFolder(dir, ownScript);
  return predictorFromModelFile(model.bytes, model.shownAs);
}

/** An unzipped bundle's model file, after the files its manifest lists were checked. */
export function modelOfBundleFolder(dir: string, ownScript = false): { bytes: Uint8Array; shownAs: string } {
  const manifest = parseManifest(new Uint8Array(fs.readFileSync(path.join(dir, MANIFEST_FILE))), dir, ownScript);
  const realDir = fs.realpathSync(dir);
  let model: Uint8Array | null = null;
  verifyBundle(
    manifest,
    [],
    (p) => {
      const bytes = readInside(realDir, p);
      if (p === manifest.model?.file) model = bytes;
      return bytes;
    },
    dir,
  );
  if (!manifest.model || !model) throw new InputError(`${dir} holds no model: its project had none when it was exported. Train it, then export again.`);
  return { bytes: model, shownAs: path.join(dir, manifest.model.file) };
}

/** A regular file inside the folder `realDir` (its real path: a link leading out of it is refused), or null. */
function readInside(realDir: string, rel: string): Uint8Array | null {
  let real: string;
  try {
    real = fs.realpathSync(path.join(realDir, rel));
  } catch {
    return null;
  }
  if (!real.startsWith(realDir + path.sep)) return null;
  // checked on the descriptor itself: a FIFO swapped in is never waited on
  const opened = openIfRegular(real);
  if ("refused" in opened) return null;
  try {
    return new Uint8Array(fs.readFileSync(opened.fd));
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** Whether an unzipped bundle's manifest says its model forecasts (read before anything is checked: only to choose the usage). */
export function isForecastBundle(dir: string): boolean {
  try {
    const manifest = parseManifest(new Uint8Array(fs.readFileSync(path.join(dir, MANIFEST_FILE))), dir, true);
    return manifest.model?.task === "time_series_forecasting";
  } catch {
    return false;
  }
}

/** An unzipped bundle's forecaster, after the files its manifest lists were checked. */
export function forecasterOfBundleFolder(dir: string): SeriesForecaster {
  const model = modelOfBundleFolder(dir, true);
  return forecasterFromModelFile(model.bytes, model.shownAs);
}
