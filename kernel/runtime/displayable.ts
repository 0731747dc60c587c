/**
 * A value that shows itself richly in a notebook: our kernel sends its MIME bundle, and plain
 * Jupyter kernels (tslab) print its text through util.inspect.
 */
import { inspect } from "node:util";
import { VEGA_LITE_MIME } from "../../contract";

export { VEGA_LITE_MIME };

export class Displayable {
  constructor(private readonly bundle: Record<string, unknown> & { "text/plain": string }) {}

  toMimeBundle(): Record<string, unknown> {
    return this.bundle;
  }

  toString(): string {
    return this.bundle["text/plain"];
  }

  [inspect.custom](): string {
    return this.bundle["text/plain"];
  }
}

export function isDisplayable(value: unknown): value is Displayable {
  return typeof (value as Displayable | null)?.toMimeBundle === "function";
}

/** Rows of records as a text table and an HTML table. */
export function tableDisplay(rows: Array<Record<string, unknown>>, caption?: string): Displayable {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) =>
    v === null || v === undefined ? "" : typeof v === "number" ? formatNumber(v) : typeof v === "object" ? JSON.stringify(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join("  ");
  const text = [caption ?? "", line(cols), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))]
    .filter((l, i) => i > 0 || l)
    .join("\n");
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const html =
    `<table>${caption ? `<caption>${esc(caption)}</caption>` : ""}<thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(cell(r[c]))}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
  return new Displayable({ "text/plain": text, "text/html": html });
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(6);
}
