/**
 * The CI gate (`perfprofile check`) over two output directories: per benchmark, which share
 * increases and per-op counter increases count as regressions, with the statistics behind them.
 * Rendering the result is the CLI's.
 */
import { diffProfiles, type ShareRow } from './diff.js';
import { matchBenchmarks, type RunDir } from './rundir.js';

export interface CheckOptions {
  /**
   * A function's share may grow by at most this many percentage points. The growth counted is
   * the smaller of its self-share and total-share growth: time a function takes over from a
   * callee the JIT inlined into it raises its self share but not its total share.
   */
  readonly maxShareIncrease: number;
  /** A per-op counter may grow by at most this fraction (0.03 = 3%). */
  readonly maxCounterIncrease: number;
  /**
   * A share change counts only when it is also this many standard errors of the difference
   * of two proportions at the two profiles' sample counts (default 4): a hundred samples cannot
   * tell 5 pp apart reliably, and a gate that cries wolf gets switched off. Samples are not
   * independent (a GC pause spans several), so the bar sits above the textbook 2–3.
   */
  readonly minZ?: number;
  /**
   * The per-op counters gated (index.json names, `instructions/op`). By default the PMU counts
   * of work done, which repeat run to run. Time counters (task-clock) include whatever the host
   * steals from a VM and whatever other processes cost the caches; page faults and context
   * switches follow GC and the scheduler. Those are gated only when named.
   */
  readonly counters?: readonly string[];
}

export const DEFAULT_GATED_COUNTERS = ['instructions/op', 'cycles/op', 'ref-cycles/op', 'branch-instructions/op'];

export interface Finding {
  readonly kind: 'share' | 'counter';
  /** Function name, or counter name (`task-clock/op`). */
  readonly name: string;
  readonly file?: string;
  /** Self share (%) for shares, the per-op value for counters. */
  readonly before: number;
  readonly after: number;
  /** Shares only: the total (self + callees) share (%) before and after. */
  readonly cumBefore?: number;
  readonly cumAfter?: number;
  /** Shares: the smaller of the self and total increase, in pp. Counters: percent. */
  readonly increase: number;
  readonly limit: number;
  /**
   * Shares only: functions whose self share fell by at least half this increase while their
   * total share held (moved by less than half as much): the time moved from them into this
   * function, as it does when a callee gets slower, and when the JIT inlined it in one run only.
   */
  readonly from?: readonly { readonly name: string; readonly file: string; readonly selfDelta: number; readonly cumDelta: number }[];
}

export interface BenchmarkCheck {
  readonly id: string;
  readonly fullName: string;
  readonly regressions: readonly Finding[];
  /** The largest share increase seen, regression or not (for the "no regressions" table). */
  readonly largestShareIncrease: Finding | undefined;
  /**
   * Self-share increases past the limit that the function's total share does not show: time
   * moved in from its callees (JIT inlining), reported but not counted. The price: when the
   * benchmark's own function (total ≈ 100%) gets slower itself, only its callees' shares move.
   */
  readonly moved: readonly Finding[];
  /** Every per-op counter both runs have, gated or not: percent change, for context. */
  readonly counterChanges: Readonly<Record<string, number>>;
}

export interface CheckResult {
  readonly benchmarks: readonly BenchmarkCheck[];
  readonly onlyBase: readonly string[];
  readonly onlyHead: readonly string[];
  readonly regressions: number;
  /** Why the comparison may be partial: an incomplete run, a benchmark that failed. */
  readonly warnings: readonly string[];
  readonly options: Required<CheckOptions>;
}

/**
 * How many standard errors a share change is, for shares in percent out of `n1` and `n2`
 * samples: the two-proportion z statistic with Agresti and Caffo's adjustment (one sample added
 * to each side of each proportion, unpooled error). Without it a share at 100% has no error,
 * and a GC pause taking 3 of 50 samples in one run looks like a 4-sigma change. 0 when either
 * side has no samples.
 */
export function shareZ(beforePct: number, n1: number, afterPct: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const p1 = ((beforePct / 100) * n1 + 1) / (n1 + 2);
  const p2 = ((afterPct / 100) * n2 + 1) / (n2 + 2);
  const se = Math.sqrt((p1 * (1 - p1)) / (n1 + 2) + (p2 * (1 - p2)) / (n2 + 2));
  return (p2 - p1) / se;
}

/** A diff row as the gate weighs it: counted increase (pp) and its z, and the self-only z. */
export function shareGrowth(r: ShareRow, baseSamples: number, headSamples: number): { increase: number; z: number; selfZ: number } {
  const selfZ = shareZ(r.before, baseSamples, r.after, headSamples);
  const cumZ = shareZ(r.cumBefore, baseSamples, r.cumAfter, headSamples);
  return { increase: Math.min(r.delta, r.cumDelta), z: Math.min(selfZ, cumZ), selfZ };
}

/** The gate: every benchmark present in both runs, its shares and its per-op counters. */
export function checkRuns(base: RunDir, head: RunDir, options: CheckOptions): CheckResult {
  const opts: Required<CheckOptions> = { minZ: 4, counters: DEFAULT_GATED_COUNTERS, ...options };
  const gated = new Set(opts.counters);
  const { pairs, onlyBase, onlyHead } = matchBenchmarks(base, head);
  const warnings: string[] = [];
  for (const [run, side] of [[base, 'base'], [head, 'head']] as const) {
    if (!run.complete) warnings.push(`the ${side} run is incomplete (index.json has complete: false): it was interrupted or a worker died`);
  }
  const benchmarks: BenchmarkCheck[] = [];
  for (const [b, h] of pairs) {
    for (const [x, side] of [[b, 'base'], [h, 'head']] as const) {
      if (x.status === 'failed') warnings.push(`${x.fullName} failed in the ${side} run: its profile is partial`);
    }
    const regressions: Finding[] = [];
    const moved: Finding[] = [];
    const diff = diffProfiles(base.load(b), head.load(h), { sampleIndex: 'samples' });
    let largest: Finding | undefined;
    for (const r of diff.rows) {
      if (r.delta <= 0) continue;
      const g = shareGrowth(r, diff.baseSamples, diff.headSamples);
      const finding: Finding = { kind: 'share', name: r.name, file: r.file, before: r.before, after: r.after, cumBefore: r.cumBefore, cumAfter: r.cumAfter, increase: g.increase, limit: opts.maxShareIncrease };
      if (g.increase > 0 && (!largest || g.increase > largest.increase)) largest = finding;
      if (g.increase > opts.maxShareIncrease && g.z >= opts.minZ) {
        const from = diff.rows
          .filter((o) => o !== r && o.delta <= -g.increase / 2 && Math.abs(o.cumDelta) < -o.delta / 2)
          .map((o) => ({ name: o.name, file: o.file, selfDelta: o.delta, cumDelta: o.cumDelta }));
        regressions.push(from.length ? { ...finding, from } : finding);
      } else if (r.delta > opts.maxShareIncrease && g.selfZ >= opts.minZ) moved.push(finding);
    }
    const counterChanges: Record<string, number> = {};
    for (const [name, before] of Object.entries(b.counters ?? {})) {
      const after = h.counters?.[name];
      if (after === undefined || !(before > 0)) continue;
      const increase = (after / before - 1) * 100;
      counterChanges[name] = increase;
      if (gated.has(name) && increase > opts.maxCounterIncrease * 100) regressions.push({ kind: 'counter', name, before, after, increase, limit: opts.maxCounterIncrease * 100 });
    }
    benchmarks.push({ id: b.id, fullName: b.fullName, regressions, largestShareIncrease: largest, moved, counterChanges });
  }
  return {
    benchmarks,
    onlyBase: onlyBase.map((b) => b.id),
    onlyHead: onlyHead.map((b) => b.id),
    regressions: benchmarks.reduce((a, b) => a + b.regressions.length, 0),
    warnings,
    options: opts,
  };
}
