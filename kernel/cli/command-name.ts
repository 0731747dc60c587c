/**
 * How to name this CLI in advice ("continue it with: … run --project ID"): a command the
 * person can type where they are, not one that works only in the source tree.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export function cliCommand(): string {
  const script = process.argv[1] ?? "";
  // `npx automl-builder …` puts the bin on PATH only while npx runs
  if (process.env["npm_command"] === "exec") return "npx automl-builder";
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return null;
    }
  };
  const self = real(script);
  const onPath = (process.env["PATH"] ?? "").split(path.delimiter).some((dir) => dir && self !== null && real(path.join(dir, "automl")) === self);
  return onPath ? "automl" : `node ${JSON.stringify(script)}`;
}
