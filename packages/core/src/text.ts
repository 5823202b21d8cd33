/**
 * Locale-free text helpers: `toLocaleString` and `localeCompare` load ICU data on first use, a
 * cost every Vitest worker would pay for one table (figures in docs/PERFORMANCE.md). These give
 * the same text (en-US digit grouping) and a stable code-unit order.
 */

/** An integer with comma thousands separators: 1234567 → "1,234,567" (rounds first). */
export function groupDigits(n: number): string {
  const r = Math.round(n);
  const digits = String(Math.abs(r));
  if (!Number.isFinite(r) || digits.length <= 3) return String(r);
  let out = digits.slice(0, digits.length % 3 || 3);
  for (let i = out.length; i < digits.length; i += 3) out += ',' + digits.slice(i, i + 3);
  return r < 0 ? '-' + out : out;
}

/** Code-unit order of two strings (Array.prototype.sort's default order), as a comparator. */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
