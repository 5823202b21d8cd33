/**
 * Rank statistics for comparing two small sets of runs (the gate's test over runs): Mann–Whitney's
 * test, the Hodges–Lehmann shift and its distribution-free confidence interval. Exact, ties
 * included, for the few runs a CI job affords; a normal approximation past {@link EXACT_LIMIT}.
 * No assumption about the shape of run-to-run noise: JIT decisions make it bimodal.
 */

/** Runs per comparison (both sides) up to which the rank-sum distribution is computed exactly. */
export const EXACT_LIMIT = 60;

/** Mid-ranks (1-based) of `values`; tied values share the mean of their positions. */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/**
 * How many ways `k` of the given doubled ranks sum to each total, every choice equally likely
 * under "no difference" (the permutation distribution). Doubled ranks are whole numbers even
 * with ties, which keeps the count a table of sums.
 */
function rankSumWays(doubled: readonly number[], k: number): Float64Array {
  const max = doubled.reduce((a, b) => a + b, 0);
  // ways[j][s]: number of j-subsets of the ranks seen so far with sum s.
  const ways = Array.from({ length: k + 1 }, () => new Float64Array(max + 1));
  ways[0][0] = 1;
  for (const r of doubled) {
    for (let j = k; j >= 1; j--) {
      const to = ways[j],
        from = ways[j - 1];
      for (let s = max; s >= r; s--) to[s] += from[s - r];
    }
  }
  return ways[k];
}

/** P(sum ≥ atLeast) from a table of {@link rankSumWays}. */
function upperTail(ways: Float64Array, atLeast: number): number {
  let hit = 0,
    all = 0;
  ways.forEach((w, s) => {
    all += w;
    if (s >= atLeast) hit += w;
  });
  return hit / all;
}

/** Standard normal upper tail, P(Z ≥ z) (Abramowitz–Stegun 7.1.26 on erfc; error < 1.5e-7). */
export function normalUpper(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
function logGamma(x: number): number {
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.61503916999186,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized incomplete beta I_x(a, b), by its continued fraction (modified Lentz). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // The fraction converges fast below the mean; use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) above it.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x)) / a;
  const tiny = 1e-300;
  let f = 1,
    c = 1,
    d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = i >> 1;
    const num =
      i === 0
        ? 1
        : i % 2 === 0
          ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
          : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + num / c;
    c = Math.abs(c) < tiny ? tiny : c;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-14) break;
  }
  return front * (f - 1);
}

/** Student's t upper tail, P(T ≥ t) with `df` degrees of freedom (df may be fractional). */
export function studentUpper(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/** The t with P(T ≥ t) = p, for p < 0.5: bisection on {@link studentUpper}. */
export function studentQuantile(p: number, df: number): number {
  let lo = 0,
    hi = 1;
  while (studentUpper(hi, df) > p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-9 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentUpper(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface RankTest {
  /** Pairs (x, y) with y > x, ties counted half: 0 … nx·ny. */
  readonly u: number;
  /** One-sided p-value for "y tends to be larger than x"; 1 when a side is empty. */
  readonly p: number;
}

/**
 * Mann–Whitney's one-sided test that `y` (head runs) tends to exceed `x` (base runs). Exact
 * permutation p-value with ties up to {@link EXACT_LIMIT} values, else the normal approximation
 * with the tie correction. The smallest p a comparison can reach is 1 / C(nx+ny, nx): 0.5 for
 * one run a side, 0.05 for three, 0.004 for five.
 */
export function mannWhitney(x: readonly number[], y: readonly number[]): RankTest {
  const nx = x.length,
    ny = y.length;
  if (nx === 0 || ny === 0) return { u: 0, p: 1 };
  const ranks = midRanks([...x, ...y]);
  const w = ranks.slice(nx).reduce((a, b) => a + b, 0);
  const u = w - (ny * (ny + 1)) / 2;
  const n = nx + ny;
  if (n <= EXACT_LIMIT) {
    const doubled = ranks.map((r) => Math.round(2 * r));
    return { u, p: upperTail(rankSumWays(doubled, ny), Math.round(2 * w)) };
  }
  const ties = new Map<number, number>();
  for (const r of ranks) ties.set(r, (ties.get(r) ?? 0) + 1);
  const tieTerm = [...ties.values()].reduce((a, t) => a + t ** 3 - t, 0);
  const variance = ((nx * ny) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1 };
  return { u, p: normalUpper((u - (nx * ny) / 2 - 0.5) / Math.sqrt(variance)) };
}

/** Every difference y[j] − x[i], sorted ascending. */
function pairwiseDifferences(x: readonly number[], y: readonly number[]): number[] {
  const d: number[] = [];
  for (const a of x) for (const b of y) d.push(b - a);
  return d.sort((p, q) => p - q);
}

function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

export interface Shift {
  /** Hodges–Lehmann estimate: the median of all differences y − x. */
  readonly estimate: number;
  /**
   * Two-sided confidence interval at the level asked for (Moses: order statistics of the
   * differences at Mann–Whitney's critical value). ±Infinity when too few runs allow no bound:
   * one or two a side at 90%.
   */
  readonly low: number;
  readonly high: number;
}

/**
 * The shift of `y` against `x` and its confidence interval (`level` 0.9: each bound holds with
 * 95%). On logarithms the shift is a ratio: exp(estimate) is the typical head / base.
 */
export function hodgesLehmann(x: readonly number[], y: readonly number[], level = 0.9): Shift {
  if (x.length === 0 || y.length === 0) return { estimate: NaN, low: -Infinity, high: Infinity };
  const d = pairwiseDifferences(x, y);
  // c: the largest count with P(U ≤ c) ≤ (1 − level) / 2, from the rank distribution without ties.
  const alpha = (1 - level) / 2;
  const ways = rankSumWays(
    Array.from({ length: x.length + y.length }, (_, i) => 2 * (i + 1)),
    y.length,
  );
  const base = (y.length * (y.length + 1)) / 2;
  let c = -1;
  // P(U ≤ c) = P(U ≥ nx·ny − c) by symmetry: an upper tail of the rank sum (doubled).
  while (c + 1 < d.length && upperTail(ways, 2 * (base + d.length - (c + 1))) <= alpha + 1e-12) c++;
  return { estimate: median(d), low: c >= 0 ? d[c] : -Infinity, high: c >= 0 ? d[d.length - 1 - c] : Infinity };
}
