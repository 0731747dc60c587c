/**
 * The license rules of 002_…: permissive and CC-BY licenses pass, copyleft, no-derivatives,
 * proprietary and unknown licenses do not. Unknown is rejected on purpose.
 */
const ALLOWED = new Map<string, string>([
  ["mit", "MIT"],
  ["apache-2.0", "Apache-2.0"],
  ["bsd-2-clause", "BSD-2-Clause"],
  ["bsd-3-clause", "BSD-3-Clause"],
  ["cc-by-4.0", "CC-BY-4.0"],
  ["cc-by-sa-4.0", "CC-BY-SA-4.0"],
  ["cc0-1.0", "CC0-1.0"],
  ["cc-by-nc-4.0", "CC-BY-NC-4.0"],
]);
const RESEARCH_ONLY = new Set(["cc-by-nc-4.0"]);

export interface LicenseVerdict {
  allowed: boolean;
  license: string;
  note: string;
}

export function checkLicense(license: string | null | undefined): LicenseVerdict {
  const stated = (license ?? "").trim();
  const key = stated.toLowerCase();
  const known = ALLOWED.get(key);
  if (known && RESEARCH_ONLY.has(key)) return { allowed: true, license: known, note: "non-commercial: research and demo use only" };
  if (known) return { allowed: true, license: known, note: "permissive" };
  if (!key || key === "unknown" || key === "other") return { allowed: false, license: stated || "unknown", note: "no license stated: not used" };
  if (/\b(a?gpl|lgpl)/.test(key)) return { allowed: false, license: stated, note: "copyleft: rejected" };
  if (/-nd\b|nd-/.test(key)) return { allowed: false, license: stated, note: "no derivatives: rejected" };
  return { allowed: false, license: stated, note: "not on the allowed list: rejected" };
}
