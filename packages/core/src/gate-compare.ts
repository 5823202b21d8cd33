/**
 * One quantity (a benchmark's time per op, a function's, a counter, bytes per op) compared
 * between base and head runs under a noise model of run-to-run variance, on logarithms so a
 * change is a ratio. A regression must clear three bars: the effect-size floor, the noise model
 * (the change in standard errors of run-to-run noise) and, when the run counts allow it,
 * Mann–Whitney's test over runs.
 */
import { hodgesLehmann, mannWhitney, studentQuantile } from './stats.js';

/** Run-to-run noise of one kind of quantity: standard deviation of a run's log value. */
export interface Noise {
  readonly sd: number;
  /** Degrees of freedom behind sd; 0 when it is a floor or a suite-wide estimate from one run a side. */
  readonly df: number;
}

export interface Thresholds {
  /** Smallest change flagged: 0.1 = 10% more per op. */
  readonly minChange: number;
  /** One-sided level of Mann–Whitney's test over runs. */
  readonly alpha: number;
  /** Smallest change flagged, in standard errors of the noise model. */
  readonly minZ: number;
}

export interface Comparison {
  /** Medians over each side's runs. */
  readonly base: number;
  readonly head: number;
  /** Typical head / base − 1 (Hodges–Lehmann, on logarithms): 0.18 = 18% more. */
  readonly change: number;
  /** 90% confidence interval of change; null when the run counts allow none (fewer than 3 a side). */
  readonly low: number | null;
  readonly high: number | null;
  /** One-sided Mann–Whitney p-value; null when these run counts cannot reach alpha. */
  readonly p: number | null;
  /** The logarithmic change in standard errors of the noise model. */
  readonly z: number;
  /** Per-run noise (log standard deviation) the comparison used. */
  readonly noise: number;
  readonly regressed: boolean;
  /**
   * Past every bar with one run a side, where the noise is the spread across quantities: shown,
   * not failed (`regressed` false). Two processes of unchanged code can differ by several times
   * (V8's per-process decisions), which one run a side cannot tell from a regression.
   */
  readonly unconfirmed?: boolean;
}

/** How many independent values a prior from the whole suite is worth against one quantity's own runs. */
export const PRIOR_DF = 4;

const logs = (v: readonly number[], eps: number) => v.map((x) => Math.log(x + eps));
const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Pooled within-side standard deviation of the logs, and its degrees of freedom (0: one run a side). */
export function ownNoise(base: readonly number[], head: readonly number[], eps: number): Noise {
  let ss = 0;
  for (const side of [logs(base, eps), logs(head, eps)]) {
    const m = mean(side);
    for (const x of side) ss += (x - m) ** 2;
  }
  const df = base.length + head.length - 2;
  return { sd: df > 0 ? Math.sqrt(ss / df) : NaN, df };
}

/** Quantities a suite-wide spread is estimated from, at least. */
export const MIN_FOR_SPREAD = 8;

/**
 * The noise of one kind of quantity across the suite, the prior each comparison borrows from:
 * the median of their own within-side spreads when some side has two runs or more; with one run
 * a side, the spread of the log ratios across quantities (most of which did not change: a real
 * change only widens it) divided by √2, or `unknown` when there are too few to tell. Never
 * below `floor`. `fromSpread` marks the one-run-a-side estimate.
 */
export function suiteNoise(
  items: readonly { base: readonly number[]; head: readonly number[]; eps: number }[],
  floor: number,
  unknown: number,
): Noise & { fromSpread: boolean } {
  const own = items.map((i) => ownNoise(i.base, i.head, i.eps)).filter((n) => n.df > 0);
  if (own.length) return { sd: Math.max(floor, median(own.map((n) => n.sd))), df: PRIOR_DF, fromSpread: false };
  const ratios = items
    .map((i) => Math.log(median(i.head) + i.eps) - Math.log(median(i.base) + i.eps))
    .filter(Number.isFinite);
  if (ratios.length < MIN_FOR_SPREAD) return { sd: Math.max(floor, unknown), df: 0, fromSpread: false };
  const m = median(ratios);
  return {
    sd: Math.max(floor, (1.4826 * median(ratios.map((r) => Math.abs(r - m)))) / Math.SQRT2),
    df: 0,
    fromSpread: true,
  };
}

/**
 * The bar (in standard errors) for one run a side when the noise is the spread across `m`
 * quantities: changes between two processes have heavy tails (JIT decisions, a burst of load),
 * so the largest of m chance changes is read from a Laplace law with that spread: P(max > z) ≤
 * 0.001 at z = ln(m / 0.002): 10.4 for 63 benchmarks. Never below `minZ`.
 */
export function spreadBar(m: number, minZ: number): number {
  return Math.max(minZ, Math.log(m / 0.002));
}

/**
 * The bar for a noise estimated with `df` degrees of freedom: Student's t that chance passes once
 * in 1,000 comparisons, never below `minZ`. A noise read off few runs can be too small by luck
 * (two unchanged runs that happen to agree): 5.9 for two runs against one, 4.5 for three a side,
 * and `minZ` (4) from five a side on. Without degrees of freedom (an assumed or suite-spread
 * noise) the bar is `minZ` as given.
 */
export function noiseBar(df: number, minZ: number): number {
  return df > 0 ? Math.max(minZ, studentQuantile(0.001, df)) : minZ;
}

/** C(n, k), as a float. */
function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/** The smallest one-sided p Mann–Whitney can give for these run counts: 1 / C(nb + nh, nh). */
export const smallestP = (nb: number, nh: number): number => 1 / choose(nb + nh, nh);

/**
 * Compares head runs with base runs. `eps` is added before taking logarithms (half a sample's
 * worth for a function absent from a run); `relErr` is a stated relative standard error of each
 * run's value (allocations per op), which the noise never falls below.
 */
export function compareRuns(
  base: readonly number[],
  head: readonly number[],
  eps: number,
  prior: Noise,
  t: Thresholds,
  relErr = 0,
): Comparison {
  const x = logs(base, eps),
    y = logs(head, eps);
  const ci = hodgesLehmann(x, y);
  const own = ownNoise(base, head, eps);
  const df = prior.df + own.df;
  let sd = own.df > 0 && df > 0 ? Math.sqrt((prior.df * prior.sd ** 2 + own.df * own.sd ** 2) / df) : prior.sd;
  sd = Math.max(sd, relErr);
  const se = sd * Math.sqrt(1 / base.length + 1 / head.length);
  const z = se > 0 ? ci.estimate / se : ci.estimate > 0 ? Infinity : 0;
  const bar = noiseBar(df, t.minZ);
  const p = smallestP(base.length, head.length) <= t.alpha + 1e-12 ? mannWhitney(x, y).p : null;
  const change = Math.exp(ci.estimate) - 1;
  const bound = (b: number) => (Number.isFinite(b) ? Math.exp(b) - 1 : null);
  return {
    base: median(base),
    head: median(head),
    change,
    low: bound(ci.low),
    high: bound(ci.high),
    p,
    z,
    noise: sd,
    regressed: change >= t.minChange && z >= bar && (p === null || p <= t.alpha + 1e-12),
  };
}
