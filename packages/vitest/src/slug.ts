/**
 * Bench ids: readable, filesystem-safe and unique names for per-benchmark files.
 *
 * Built from the test file, the suite path and the benchmark name.
 */
import { createHash } from 'node:crypto';

const MAX_SLUG = 120;

function slugPart(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+|[-.]+$/g, '')
    .toLowerCase();
}

/**
 * `bench/sort.bench.ts` + `["sorting", "quadratic", "bubble 400"]` →
 * `sort.bench--sorting--quadratic--bubble-400-1a2b3c`. The six hex digits hash the exact file
 * and names, so two benchmarks whose names slug alike still get different ids; `taken` (ids
 * already used in this run) disambiguates exact duplicates with `-2`, `-3`...
 */
export function benchId(file: string, names: readonly string[], taken?: Set<string>): string {
  const base = file
    .replace(/\\/g, '/')
    .split('/')
    .pop()!
    .replace(/\.[cm]?[jt]sx?$/, '');
  const readable = [base, ...names]
    .map(slugPart)
    .filter((p) => p !== '')
    .join('--')
    .slice(0, MAX_SLUG)
    .replace(/-+$/, '');
  const hash = createHash('sha256')
    .update(JSON.stringify([file.replace(/\\/g, '/'), ...names]))
    .digest('hex')
    .slice(0, 6);
  let id = `${readable || 'bench'}-${hash}`;
  if (taken) {
    for (let n = 2; taken.has(id); n++) id = `${readable || 'bench'}-${hash}-${n}`;
    taken.add(id);
  }
  return id;
}
