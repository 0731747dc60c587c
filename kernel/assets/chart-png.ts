/**
 * PNG renderings of the vega-lite charts in JSON assets: vega draws the SVG headless and resvg
 * rasterises it (with the system's fonts). Rendered on first request and kept beside the JSON,
 * so a run's charts cost nothing until someone looks at one (or the export includes it).
 */
import * as fs from "node:fs";
import type { AssetStore } from "./asset-store";
import { renderAsync } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile } from "vega-lite";

export async function renderChartPng(spec: Record<string, unknown>, width = 720): Promise<Uint8Array> {
  const full = { width: 560, height: 360, background: "white", ...spec };
  const view = new vega.View(vega.parse(compile(full as never).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  // rasterised on libuv's thread pool, not this event loop
  return (await renderAsync(svg, { fitTo: { mode: "width", value: width } })).asPng();
}

/** A run's charts (runs/RUN/*.json) as PNGs beside them, those not written yet. */
export async function ensureRunPngs(store: AssetStore, runId: string): Promise<void> {
  const dir = `runs/${runId}`;
  if (!store.exists(dir)) return;
  for (const f of fs.readdirSync(store.absolute(dir))) if (f.endsWith(".json")) await ensurePngFor(store.absolute(`${dir}/${f.replace(/\.json$/, ".png")}`));
}

/** Writes `x.png` from the vega-lite spec in `x.json` unless it exists; returns whether there is one now. */
export async function ensurePngFor(pngPath: string): Promise<boolean> {
  if (fs.existsSync(pngPath)) return true;
  const jsonPath = pngPath.replace(/\.png$/, ".json");
  if (!fs.existsSync(jsonPath)) return false;
  const spec = (JSON.parse(fs.readFileSync(jsonPath, "utf8")) as { vega_lite?: Record<string, unknown> }).vega_lite;
  if (!spec) return false;
  const png = await renderChartPng(spec);
  fs.writeFileSync(`${pngPath}.tmp`, png);
  fs.renameSync(`${pngPath}.tmp`, pngPath);
  return true;
}
