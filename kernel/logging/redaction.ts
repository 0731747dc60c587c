/**
 * What must never leave this machine in a prompt to a model, nor reach the audit log (issue
 * 16): personal data (e-mail addresses, phone numbers, card numbers) and secrets (API keys and
 * tokens in their known shapes, credentials in URLs, `password=`-style assignments, long random
 * strings). Each is replaced by a marker that says what was there ("[email]", "[secret]"), so
 * the model and a reader still see the shape of the text. Data is never instructions: this
 * only removes; it does not interpret.
 */

export interface Redacted {
  text: string;
  /** what was replaced, by kind, with how many of each ("email" → 3) */
  counts: Record<string, number>;
}

interface Rule {
  kind: string;
  pattern: RegExp;
  /** a further check on a match (card numbers: the Luhn sum) */
  accept?: (match: string) => boolean;
}

// order matters: whole credentials in URLs and known key shapes before the generic ones
const RULES: Rule[] = [
  { kind: "secret", pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/gi },
  { kind: "secret", pattern: /\b(?:hf|sk|pk|rk|ghp|gho|ghu|ghs|github_pat|xox[abpr]|glpat)[-_][A-Za-z0-9_-]{16,}/g },
  { kind: "secret", pattern: /\bAKIA[0-9A-Z]{16}\b/g },
  { kind: "secret", pattern: /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g },
  { kind: "secret", pattern: /\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)\s*[:=]\s*["']?[^\s"',;]{4,}/gi },
  { kind: "email", pattern: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/g },
  { kind: "card", pattern: /\b(?:\d[ -]?){12,18}\d\b/g, accept: (m) => luhn(m.replace(/\D/g, "")) },
  // not part of a longer run of digit groups (an id, a card number that failed its check)
  { kind: "phone", pattern: /(?<![\w.]|\d[ .-])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w.]|[ .-]\d)/g },
  // a long run of letters and digits mixed, as keys are (not a word, not a number)
  { kind: "secret", pattern: /\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b/g },
];

export function redact(text: string): Redacted {
  const counts: Record<string, number> = {};
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (m) => {
      if (rule.accept && !rule.accept(m)) return m;
      counts[rule.kind] = (counts[rule.kind] ?? 0) + 1;
      return `[${rule.kind}]`;
    });
  }
  return { text: out, counts };
}

/** A value of any JSON shape with every string redacted (keys kept). */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redact(value).text as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  return value;
}

function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
