/**
 * The license rules of 002_…: permissive and attribution licenses pass; non-commercial ones
 * pass with a "research / demo only" warning that travels to the report and the export;
 * copyleft (GPL, AGPL, LGPL), no-derivatives, proprietary and unknown or unstated licenses do
 * not. Unknown is rejected on purpose: data whose terms nobody stated cannot be cleared.
 *
 * Licenses come spelled as the Hugging Face Hub tags them ("license:cc-by-4.0", "odc-by",
 * "cc0-1.0") and as Kaggle names them ("CC0: Public Domain", "Attribution 4.0 International
 * (CC BY 4.0)", "GPL 2", "Other (specified in description)"): each is read to one canonical
 * name first, so the rules are written once.
 */

export type LicenseDecision = "allowed" | "warning" | "rejected";

export interface LicenseVerdict {
  /** false only when rejected (a warning is allowed) */
  allowed: boolean;
  decision: LicenseDecision;
  /** the canonical name (SPDX where there is one), or the text as stated */
  license: string;
  /** why, in a few words a person reads in the candidates and the audit log */
  note: string;
  /** non-commercial: the report and the export say "research / demo only" */
  research_only: boolean;
}

const PERMISSIVE = new Map<string, string>([
  ["mit", "MIT"],
  ["apache-2.0", "Apache-2.0"],
  ["bsd-2-clause", "BSD-2-Clause"],
  ["bsd-3-clause", "BSD-3-Clause"],
  ["cc-by-4.0", "CC-BY-4.0"],
  ["cc-by-sa-4.0", "CC-BY-SA-4.0"],
  ["cc0-1.0", "CC0-1.0"],
  ["odc-by", "ODC-By-1.0"],
  ["pddl", "PDDL-1.0"],
]);

/**
 * A license as stated, to its canonical key (lowercase, SPDX-like), or null when it says
 * nothing (empty, "unknown", "other", "unspecified").
 */
export function canonicalLicense(stated: string | null | undefined): string | null {
  let t = (stated ?? "").trim().toLowerCase();
  t = t.replace(/^license:\s*/, "");
  if (!t || /^(unknown|other|none|n\/a|unspecified|not specified|no license)\b/.test(t)) return null;
  // Kaggle's names, and the long forms people write
  if (/\bcc0\b|public domain dedication|^cc-?zero/.test(t)) return "cc0-1.0";
  if (/open data commons public domain|\bpddl\b/.test(t)) return "pddl";
  if (/open data commons attribution|\bodc-?by\b/.test(t)) return "odc-by";
  if (/\bodbl\b|open database license|database: open database/.test(t)) return "odbl-1.0";
  if (/\bcc[\s-]*by\b|creative commons|attribution/.test(t)) {
    // "Attribution-NonCommercial-ShareAlike 4.0 International", "CC BY-NC-SA 4.0" → cc-by-nc-sa-4.0
    const parts = [
      /\bnc\b|noncommercial|non-commercial/.test(t) ? "nc" : "",
      /\bnd\b|noderiv|no-deriv/.test(t) ? "nd" : "",
      /\bsa\b|sharealike|share-alike/.test(t) ? "sa" : "",
    ].filter(Boolean);
    return ["cc-by", ...parts, /(\d\.\d)/.exec(t)?.[1] ?? "4.0"].join("-");
  }
  if (/\bmit\b/.test(t)) return "mit";
  if (/apache/.test(t)) return "apache-2.0";
  if (/bsd/.test(t)) return /2|simplified|freebsd/.test(t) ? "bsd-2-clause" : "bsd-3-clause";
  if (/\bagpl|affero/.test(t)) return "agpl";
  if (/\blgpl|lesser general public/.test(t)) return "lgpl";
  if (/\bgpl|general public license/.test(t)) return "gpl";
  if (/proprietary|all rights reserved|©|\(c\)|copyright|original authors|commercial license/.test(t)) return "proprietary";
  return t.replace(/[\s_]+/g, "-");
}

export function checkLicense(stated: string | null | undefined): LicenseVerdict {
  const key = canonicalLicense(stated);
  const shown = (stated ?? "").trim();
  const verdict = (decision: LicenseDecision, license: string, note: string): LicenseVerdict => ({
    allowed: decision !== "rejected",
    decision,
    license,
    note,
    research_only: decision === "warning",
  });
  if (key === null) return verdict("rejected", shown || "unknown", "no license stated: its terms cannot be cleared, so it is not used");
  const permissive = PERMISSIVE.get(key);
  if (permissive) return verdict("allowed", permissive, key.startsWith("cc-by") || key === "odc-by" ? "attribution: credit the source" : "permissive");
  if (/^cc-by(-[a-z]+)*-\d\.\d$/.test(key)) {
    const name = key.toUpperCase();
    if (key.includes("-nd")) return verdict("rejected", name, "no derivatives: a model trained on it is a derivative");
    if (key.includes("-nc")) return verdict("warning", name, "non-commercial: research / demo only");
    return verdict("allowed", name, "attribution: credit the source (an older version of an allowed license)");
  }
  if (key === "gpl" || key === "agpl" || key === "lgpl") return verdict("rejected", (shown || key).toUpperCase(), "copyleft (GPL family): rejected");
  if (key === "proprietary") return verdict("rejected", shown, "proprietary: no permission to use");
  if (key === "odbl-1.0") return verdict("rejected", "ODbL-1.0", "share-alike database license: not on the allowed list");
  return verdict("rejected", shown, "not on the allowed list (MIT, Apache-2.0, BSD, CC-BY, CC-BY-SA, CC0, ODC-By, PDDL): rejected");
}
