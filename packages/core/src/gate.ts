/**
 * The CI gate (`perfprofile check`) over two sets of runs: per benchmark, whether a function's
 * cost per op (its share of the samples × the benchmark's CPU time per op, `(harness)` left out)
 * grew beyond run-to-run noise, and likewise gated per-op counters and memory per op. Each side
 * may hold several runs of the same suite (fresh processes: the JIT decides anew in each), which
 * turns on Mann–Whitney's test over runs. Rendering the result is the CLI's.
 */
import {
  compareRuns,
  median,
  noiseBar,
  spreadBar,
  suiteNoise,
  smallestP,
  type Comparison,
  type Noise,
  type Thresholds,
} from './gate-compare.js';
import {
  codeNsPerOp,
  functionNsPerOp,
  measureRun,
  nsPerOp,
  timeSource,
  type RunMeasure,
  type TimeSource,
} from './gate-measure.js';
import type { IndexBenchmark, RunDir } from './rundir.js';

export interface CheckOptions {
  /** Smallest change flagged (0.1: 10% more per op). Default 0.1. */
  readonly minChange?: number;
  /** One-sided level of Mann–Whitney's test, used when both sides have enough runs (3+). Default 0.05. */
  readonly alpha?: number;
  /** Smallest change flagged in standard errors of run-to-run noise. Default 4. */
  readonly minZ?: number;
  /** Functions below this share of a benchmark's samples (harness left out) on both sides are not gated. Default 0.05. */
  readonly minShare?: number;
  /** Per-op counters gated (index.json names). Default: the PMU's counts of work, {@link DEFAULT_GATED_COUNTERS}. */
  readonly counters?: readonly string[];
}

export const DEFAULT_CHECK_OPTIONS: Required<CheckOptions> = {
  minChange: 0.1,
  alpha: 0.05,
  minZ: 4,
  minShare: 0.05,
  counters: ['instructions/op', 'cycles/op', 'ref-cycles/op', 'branch-instructions/op'],
};
export const DEFAULT_GATED_COUNTERS = DEFAULT_CHECK_OPTIONS.counters;

/** The memory fields of index.json gated when both sides have them. */
export const GATED_MEMORY = ['bytesPerOp', 'allocsPerOp'] as const;

/**
 * Run-to-run noise (log standard deviation) per kind of quantity: the least ever assumed, and
 * what is assumed with one run a side and too few benchmarks to measure it.
 */
export const NOISE = {
  time: { floor: 0.02, unknown: 0.15 },
  counter: { floor: 0.005, unknown: 0.05 },
  memory: { floor: 0.005, unknown: 0.05 },
} as const;

export interface FunctionChange extends Comparison {
  readonly name: string;
  readonly file: string;
  /** The benchmark's own function: the outermost frame of most of its samples. */
  readonly entry: boolean;
  /** Its mean distance from the root of the stacks it is on: callers have less. */
  readonly depth: number;
  /** Median self time per op (ns) of each side. */
  readonly selfBase: number;
  readonly selfHead: number;
}

export interface Finding extends Comparison {
  readonly kind: 'function' | 'time' | 'counter' | 'memory';
  /** Function name, counter (`instructions/op`) or memory field (`bytesPerOp`). */
  readonly name: string;
  readonly file?: string;
}

export interface BenchmarkCheck {
  readonly id: string;
  readonly fullName: string;
  /** Runs compared on each side. */
  readonly runs: { readonly base: number; readonly head: number };
  /** The benchmark's time per op outside the harness, in ns. */
  readonly time: Comparison;
  /** Median share (%) of samples in the harness, each side. */
  readonly harnessPct: { readonly base: number; readonly head: number };
  /** Gated functions (share ≥ minShare on a side), by ns/op change, largest first. */
  readonly functions: readonly FunctionChange[];
  /** What failed: the benchmark's time per op, functions, counters, memory. */
  readonly regressions: readonly Finding[];
  /** For a regression: the most specific function whose total time per op carries the increase. */
  readonly culprit?: { readonly name: string; readonly file: string };
  /** For a regression: every function (not the entry) whose total time per op grew with it, outermost first; the culprit is the last. */
  readonly carriers: readonly { readonly name: string; readonly file: string }[];
  /** Every function by the change of its self time per op (ns), largest |change| first, at most 8. */
  readonly movers: readonly {
    readonly name: string;
    readonly file: string;
    readonly selfBase: number;
    readonly selfHead: number;
    readonly totalBase: number;
    readonly totalHead: number;
  }[];
  readonly counters: Readonly<Record<string, Comparison>>;
  readonly memory: Readonly<Record<string, Comparison>>;
}

export interface CheckResult {
  readonly benchmarks: readonly BenchmarkCheck[];
  readonly onlyBase: readonly string[];
  readonly onlyHead: readonly string[];
  /** Benchmarks with at least one regression. */
  readonly regressions: number;
  readonly warnings: readonly string[];
  readonly options: Required<CheckOptions>;
  /** What the comparison could see: runs, time source, noise, whether the rank test applied, the smallest change it can flag. */
  readonly limits: {
    readonly runs: { readonly base: number; readonly head: number };
    readonly source: TimeSource;
    readonly rankTest: boolean;
    /** Per-run noise of benchmark times (log standard deviation); a function's adds its sample count's. */
    readonly noise: number;
    /** The bar in standard errors the benchmarks' times had to clear (higher with one run a side). */
    readonly minZ: number;
    /** Smallest increase of a benchmark's time that can be flagged at this noise. */
    readonly detectable: number;
    /** False with one run a side and a suite-spread noise: changes past the bars are unconfirmed, never failed. */
    readonly fails: boolean;
  };
}

interface Side {
  readonly runs: { run: RunDir; b: IndexBenchmark; m: RunMeasure }[];
}

/** One quantity across a benchmark's runs: per-run values of each side and the ε added before logs. */
interface Series {
  readonly base: number[];
  readonly head: number[];
  readonly eps: number;
}

const values = (s: Side, f: (m: RunMeasure) => number) => s.runs.map((r) => f(r.m));

/** Benchmarks by id over the runs of each side, measured; failed runs of a benchmark left out with a warning. */
function collect(sides: readonly (readonly RunDir[])[], warnings: string[]): Map<string, Side[]> {
  const byId = new Map<string, Side[]>();
  sides.forEach((runs, s) => {
    runs.forEach((run, i) => {
      const where = `${s === 0 ? 'base' : 'head'}${runs.length > 1 ? ` run ${i + 1}` : ''}`;
      if (!run.complete)
        warnings.push(
          `the ${where} (${run.dir}) is incomplete (index.json has complete: false): it was interrupted or a worker died`,
        );
      for (const b of run.benchmarks) {
        if (b.status === 'failed') {
          warnings.push(`${b.fullName} failed in the ${where}: that run of it is left out`);
          continue;
        }
        let entry = byId.get(b.id);
        if (!entry) byId.set(b.id, (entry = [{ runs: [] }, { runs: [] }]));
        entry[s].runs.push({ run, b, m: measureRun(run, b) });
      }
    });
  });
  return byId;
}

/** Function keys with at least `minShare` of a side's non-harness samples, pooled over its runs. */
function candidates(sides: readonly Side[], minShare: number): Set<string> {
  const out = new Set<string>();
  for (const side of sides) {
    const code = side.runs.reduce((a, r) => a + r.m.samples - r.m.harnessSamples, 0);
    const totals = new Map<string, number>();
    for (const r of side.runs) for (const [k, f] of r.m.functions) totals.set(k, (totals.get(k) ?? 0) + f.total);
    for (const [k, t] of totals) if (code > 0 && t / code >= minShare) out.add(k);
  }
  return out;
}

/** A benchmark's memory and counter changes past the bars that one run a side cannot confirm. */
export function unconfirmedFindings(b: BenchmarkCheck): Finding[] {
  const found = (kind: 'memory' | 'counter', m: Readonly<Record<string, Comparison>>) =>
    Object.entries(m)
      .filter(([, c]) => c.unconfirmed)
      .map(([name, c]): Finding => ({ ...c, kind, name }));
  return [...found('memory', b.memory), ...found('counter', b.counters)];
}

/** A regression that one run a side cannot confirm: shown, never failed. */
const unconfirm = (r: Comparison): Comparison => (r.regressed ? { ...r, regressed: false, unconfirmed: true } : r);

/**
 * Runs a comparison per quantity of a kind, with that kind's suite-wide noise as the prior; with
 * one run a side, against the spread across quantities and its higher bar ({@link spreadBar}).
 */
function compareAll(
  items: Series[],
  kind: keyof typeof NOISE,
  t: Thresholds,
  relErr: (i: number) => number = () => 0,
): { results: Comparison[]; noise: Noise & { fromSpread: boolean }; bar: number } {
  const noise = suiteNoise(items, NOISE[kind].floor, NOISE[kind].unknown);
  const bar = noise.fromSpread ? spreadBar(items.length, t.minZ) : t.minZ;
  const results = items.map((s, i) => compareRuns(s.base, s.head, s.eps, noise, { ...t, minZ: bar }, relErr(i)));
  return {
    // One run a side: unchanged benchmarks of the proving ground moved by up to +461% between two
    // processes on a quiet machine (docs/CI.md), past any bar that leaves the gate of use.
    results: noise.fromSpread ? results.map(unconfirm) : results,
    noise,
    bar,
  };
}

/**
 * The gate: every benchmark present on both sides, its functions' cost per op, its gated
 * counters and memory per op. `base` and `head` are one run each, or several runs of the same
 * suite each.
 */
export function checkRuns(
  base: RunDir | readonly RunDir[],
  head: RunDir | readonly RunDir[],
  options: CheckOptions = {},
): CheckResult {
  const opts: Required<CheckOptions> = { ...DEFAULT_CHECK_OPTIONS, ...options };
  const t: Thresholds = opts;
  const sides = [Array.isArray(base) ? base : [base], Array.isArray(head) ? head : [head]] as const;
  const warnings: string[] = [];
  const all = collect(sides, warnings);
  const paired = [...all].filter(([, s]) => s[0].runs.length && s[1].runs.length);
  const onlyBase = [...all].filter(([, s]) => !s[1].runs.length && s[0].runs.length).map(([id]) => id);
  const onlyHead = [...all].filter(([, s]) => !s[0].runs.length && s[1].runs.length).map(([id]) => id);
  const every = paired.flatMap(([, s]) => [...s[0].runs, ...s[1].runs]);
  // CPU time when every run has it: wall time includes whatever else ran on the machine. The
  // profiled pass's rather than the measured pass's: it runs warmer, and the measured pass's CPU
  // time per op moved several times more between processes (docs/CI.md, "Which pass").
  const source = timeSource(every.map((r) => r.m));
  if (source === 'task-clock' && every.length)
    warnings.push(
      "some runs have no task-clock/op of their profiled pass (written before vitest-perf counted it): comparing the measured pass's CPU time per op, which moves more between processes",
    );
  if (source === 'wall' && every.length)
    warnings.push(
      'some runs have no task-clock/op counter (no native engine, or counters=none): comparing wall time per op, which also counts time the benchmark waited for the CPU',
    );
  const configs = new Set(sides.flat().map((r) => (r.config ? `event=${r.config.event} rate=${r.config.rate}` : '')));
  if (configs.size > 1)
    warnings.push(
      `the runs were profiled with different settings (${[...configs].filter(Boolean).join('; ')}): profiles of different events or rates split time differently`,
    );

  // Benchmark times.
  const timeSeries: Series[] = paired.map(([, [b, h]]) => {
    const ns = (m: RunMeasure) => codeNsPerOp(m, source);
    return { base: values(b, ns), head: values(h, ns), eps: 0 };
  });
  const time = compareAll(timeSeries, 'time', t);

  // Function costs: a function's share of the samples is a count, so its noise is the
  // benchmark times' run-to-run noise plus the count's own (Poisson: 1/samples on the log scale).
  const fnKeys = paired.map(([, s]) => [...candidates(s, opts.minShare)]);
  const fnResults: Comparison[] = [];
  paired.forEach(([, [b, h]], i) => {
    const both = [...b.runs, ...h.runs];
    const perSample = median(both.map((r) => nsPerOp(r.m, source) / Math.max(1, r.m.samples)));
    for (const k of fnKeys[i]) {
      const count = both.reduce((a, r) => a + (r.m.functions.get(k)?.total ?? 0), 0) / both.length;
      const prior: Noise = { sd: Math.sqrt(time.noise.sd ** 2 + 1 / (count + 0.5)), df: time.noise.df };
      fnResults.push(
        compareRuns(
          values(b, (m) => functionNsPerOp(m, source, k)),
          values(h, (m) => functionNsPerOp(m, source, k)),
          perSample / 2,
          prior,
          t,
        ),
      );
    }
  });

  // Counters and memory: per name, over the benchmarks where every run of both sides has it.
  const named = (
    kind: 'counter' | 'memory',
    names: readonly string[],
    get: (m: RunMeasure, n: string) => number | null | undefined,
  ) => {
    const out = new Map<string, { at: number[]; results: Comparison[] }>();
    for (const n of names) {
      const at: number[] = [];
      const series: Series[] = [];
      paired.forEach(([, [b, h]], i) => {
        const v = (s: Side) => s.runs.map((r) => get(r.m, n));
        const xb = v(b),
          xh = v(h);
        if ([...xb, ...xh].some((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0)) return;
        at.push(i);
        series.push({
          base: xb as number[],
          head: xh as number[],
          eps: kind === 'memory' ? (n === 'bytesPerOp' ? 8 : 0.5) : 1e-9,
        });
      });
      const relErr = (j: number) => {
        if (n !== 'allocsPerOp') return 0;
        const [, [b, h]] = paired[at[j]];
        const rel = [...b.runs, ...h.runs].map(
          (r) => (r.m.memory?.allocsPerOpStdErr ?? 0) / Math.max(0.5, r.m.memory?.allocsPerOp ?? 0),
        );
        return Math.sqrt(rel.reduce((a, x) => a + x * x, 0) / rel.length);
      };
      if (!series.length) continue;
      const all = compareAll(series, kind, t, relErr);
      // One run a side (no noise of its own): allocations per op moved ×1.4 to ×2 between two
      // processes of unchanged code on fixtures/vitest4 (an async benchmark and a sort), as
      // V8 decided differently; the count's own standard error cannot see that.
      const alone = n === 'allocsPerOp' && all.noise.df === 0;
      out.set(n, { at, results: alone ? all.results.map(unconfirm) : all.results });
    }
    return out;
  };
  // The counters of the pass the time is read from: the measured pass's warm-up inflates
  // counts of work (instructions/op) as it does CPU time.
  const passCounters = (m: RunMeasure) => (source === 'profiled' ? m.profiledCounters : undefined) ?? m.counters;
  const counterNames = [...new Set(every.flatMap((r) => Object.keys(passCounters(r.m))))].sort();
  const counters = named('counter', counterNames, (m, n) => passCounters(m)[n]);
  const memory = named('memory', GATED_MEMORY, (m, n) => m.memory?.[n as (typeof GATED_MEMORY)[number]]);
  const gatedCounters = new Set(opts.counters);

  let fi = 0;
  const benchmarks: BenchmarkCheck[] = paired.map(([id, [b, h]], i) => {
    const first = b.runs[0].b;
    const functions: FunctionChange[] = fnKeys[i].map((k) => {
      const c = fnResults[fi++];
      const f = [...b.runs, ...h.runs].map((r) => r.m.functions.get(k)).find(Boolean)!;
      const self = (s: Side) => median(values(s, (m) => functionNsPerOp(m, source, k, 'self')));
      const sum = (which: 'root' | 'total' | 'depth') =>
        [...b.runs, ...h.runs].reduce((a, r) => a + (r.m.functions.get(k)?.[which] ?? 0), 0);
      return {
        ...c,
        name: f.name,
        file: f.file,
        entry: sum('root') * 2 >= sum('total'),
        depth: sum('depth') / Math.max(1, sum('total')),
        selfBase: self(b),
        selfHead: self(h),
      };
    });
    functions.sort((x, y) => y.head - y.base - (x.head - x.base));
    const bt = time.results[i];
    const regressions: Finding[] = bt.regressed ? [{ ...bt, kind: 'time', name: 'time per op' }] : [];
    const carriers = bt.regressed ? carriersOf(functions, bt.head - bt.base) : [];
    const culprit = carriers.at(-1);
    const pick = (m: Map<string, { at: number[]; results: Comparison[] }>) => {
      const out: Record<string, Comparison> = {};
      for (const [n, { at, results }] of m) if (at.includes(i)) out[n] = results[at.indexOf(i)];
      return out;
    };
    const counterChanges = pick(counters);
    const memoryChanges = pick(memory);
    for (const [n, c] of Object.entries(counterChanges))
      if (gatedCounters.has(n) && c.regressed) regressions.push({ ...c, kind: 'counter', name: n });
    for (const [n, c] of Object.entries(memoryChanges))
      if (c.regressed) regressions.push({ ...c, kind: 'memory', name: n });
    const harness = (s: Side) => median(values(s, (m) => (m.samples ? (100 * m.harnessSamples) / m.samples : 0)));
    return {
      id,
      fullName: first.fullName,
      runs: { base: b.runs.length, head: h.runs.length },
      time: time.results[i],
      harnessPct: { base: harness(b), head: harness(h) },
      functions,
      regressions,
      ...(culprit ? { culprit: { name: culprit.name, file: culprit.file } } : {}),
      carriers: carriers.map((f) => ({ name: f.name, file: f.file })),
      movers: movers(b, h, source),
      counters: counterChanges,
      memory: memoryChanges,
    };
  });

  const unconfirmed = benchmarks.filter((b) => b.time.unconfirmed || unconfirmedFindings(b).length);
  if (unconfirmed.length)
    warnings.push(
      `${unconfirmed.length} ${unconfirmed.length === 1 ? 'benchmark' : 'benchmarks'} changed past the bars, unconfirmed with one run a side (${unconfirmed
        .slice(0, 5)
        .map((b) => {
          const f = unconfirmedFindings(b)[0];
          const [what, c] = b.time.unconfirmed ? ['', b.time] : [`${f.name} `, f];
          return `${b.fullName} ${what}${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%`;
        })
        .join(
          ', ',
        )}${unconfirmed.length > 5 ? ', …' : ''}): record several runs a side (vitest-perf bench --perfprofile <dir> --perfprofile-runs 5) to gate them`,
    );

  const runs = { base: sides[0].length, head: sides[1].length };
  const tn = time.noise.sd;
  // The bar a benchmark with every run met: its own runs' degrees of freedom added to the prior's.
  const bar = time.noise.df > 0 ? noiseBar(time.noise.df + runs.base + runs.head - 2, time.bar) : time.bar;
  return {
    benchmarks,
    onlyBase,
    onlyHead,
    regressions: benchmarks.filter((x) => x.regressions.length).length,
    warnings,
    options: opts,
    limits: {
      runs,
      source,
      rankTest: smallestP(runs.base, runs.head) <= opts.alpha + 1e-12,
      noise: tn,
      minZ: bar,
      detectable: Math.max(opts.minChange, Math.exp(bar * tn * Math.sqrt(1 / runs.base + 1 / runs.head)) - 1),
      fails: !time.noise.fromSpread,
    },
  };
}

/**
 * The functions that carry an increase of `grew` ns/op: those whose median total time grew by
 * half to 1.5 times that (more is time moved in from elsewhere), callers before callees (by
 * depth in the stacks), so the last is the most specific. The benchmark's own function carries
 * every increase, so it is left out.
 */
function carriersOf(functions: readonly FunctionChange[], grew: number): FunctionChange[] {
  if (!(grew > 0)) return [];
  return functions
    .filter((f) => !f.entry && f.head - f.base >= grew / 2 && f.head - f.base <= grew * 1.5)
    .sort((x, y) => x.depth - y.depth || y.base - x.base);
}

/** Functions by the change of their median self time per op, largest |change| first. */
function movers(b: Side, h: Side, source: TimeSource): BenchmarkCheck['movers'] {
  const keys = new Set([...b.runs, ...h.runs].flatMap((r) => [...r.m.functions.keys()]));
  const rows = [...keys].map((k) => {
    const f = [...b.runs, ...h.runs].map((r) => r.m.functions.get(k)).find(Boolean)!;
    const med = (s: Side, which: 'self' | 'total') => median(values(s, (m) => functionNsPerOp(m, source, k, which)));
    return {
      name: f.name,
      file: f.file,
      selfBase: med(b, 'self'),
      selfHead: med(h, 'self'),
      totalBase: med(b, 'total'),
      totalHead: med(h, 'total'),
    };
  });
  return rows.sort((x, y) => Math.abs(y.selfHead - y.selfBase) - Math.abs(x.selfHead - x.selfBase)).slice(0, 8);
}
