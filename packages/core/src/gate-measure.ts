/**
 * What the gate measures in one run of one benchmark: CPU time per op, and the profile's split
 * of it among functions (each function's total and self time per op). A function's cost per op
 * is its share of the benchmark's samples times the benchmark's time per op, so a share that
 * rises only because other code got faster does not read as a slowdown.
 */
import { countColumn, functionTotals } from './analysis.js';
import { ProfileIndex } from './model.js';
import type { IndexBenchmark, RunDir } from './rundir.js';

/** The frame vitest-perf folds Vitest's and tinybench's own per-op work into; never gated. */
export const HARNESS_FRAME = '(harness)';

/** A function as the gate keys it: name and file (lines move when code is edited). */
export const functionKey = (name: string, file: string): string => `${name}\u0000${file}`;

export interface FunctionCost {
  readonly name: string;
  readonly file: string;
  /** Samples with the function anywhere on the stack (counted once), and as the leaf. */
  readonly total: number;
  readonly self: number;
  /** Samples whose outermost frame it is: the benchmark's own function (its callback) has them all. */
  readonly root: number;
  /** Sum over its samples of its outermost frame's distance from the root: callers have less. */
  readonly depth: number;
}

/** One run of one benchmark. */
export interface RunMeasure {
  /** CPU time per op from the profiled pass's task-clock counter; undefined without it. */
  readonly profiledCpuNsPerOp?: number;
  /** CPU time per op from the measured pass's task-clock counter; undefined without counters. */
  readonly cpuNsPerOp?: number;
  /** Wall time per op of the measured pass (1e9 / ops/s); undefined without a measured rate. */
  readonly wallNsPerOp?: number;
  /** Profile samples, and those wholly in the harness. */
  readonly samples: number;
  readonly harnessSamples: number;
  /** By {@link functionKey}; the harness frame is left out. */
  readonly functions: ReadonlyMap<string, FunctionCost>;
  /** Per-op counters of the measured pass, and of the profiled pass when the run counted it. */
  readonly counters: Readonly<Record<string, number>>;
  readonly profiledCounters?: Readonly<Record<string, number>>;
  readonly memory?: IndexBenchmark['memory'];
}

/**
 * Which per-op time a comparison uses, the first that every run has: the profiled pass's CPU
 * time (`profiled`), the measured pass's (`task-clock`), wall time.
 */
export type TimeSource = 'profiled' | 'task-clock' | 'wall';

/** The source a comparison of these runs uses: the first of {@link TimeSource}'s that every run has. */
export function timeSource(runs: readonly RunMeasure[]): TimeSource {
  if (runs.every((m) => m.profiledCpuNsPerOp !== undefined)) return 'profiled';
  return runs.every((m) => m.cpuNsPerOp !== undefined) ? 'task-clock' : 'wall';
}

/** The time per op of a run from the chosen source (NaN when the run lacks it). */
export function nsPerOp(m: RunMeasure, source: TimeSource): number {
  const ns = { profiled: m.profiledCpuNsPerOp, 'task-clock': m.cpuNsPerOp, wall: m.wallNsPerOp }[source];
  return ns ?? NaN;
}

/** The part of a run's time per op spent outside the harness. */
export function codeNsPerOp(m: RunMeasure, source: TimeSource): number {
  return m.samples > 0 ? (nsPerOp(m, source) * (m.samples - m.harnessSamples)) / m.samples : NaN;
}

/** A function's total (or self) time per op in a run: its share of all samples × time per op; 0 when absent. */
export function functionNsPerOp(
  m: RunMeasure,
  source: TimeSource,
  key: string,
  which: 'total' | 'self' = 'total',
): number {
  const f = m.functions.get(key);
  return f && m.samples > 0 ? (nsPerOp(m, source) * f[which]) / m.samples : 0;
}

/** Reads one benchmark of one run: its index.json entry and its profile's function totals. */
export function measureRun(run: RunDir, b: IndexBenchmark): RunMeasure {
  const profile = run.load(b);
  const column = countColumn(profile, undefined);
  const { total, byKey } = functionTotals(profile, { sampleIndex: column }, (fn) => functionKey(fn.name, fn.filename));
  // Where each function sits in the stacks: outermost (the benchmark's entry) or how deep.
  const roots = new Map<string, number>();
  const depths = new Map<string, number>();
  const index = new ProfileIndex(profile);
  for (const s of profile.samples) {
    const frames = s.locationIds.flatMap((id) => index.frames(id)).reverse();
    const seen = new Set<string>();
    frames.forEach(({ fn }, depth) => {
      const key = functionKey(fn.name, fn.filename);
      if (seen.has(key)) return;
      seen.add(key);
      depths.set(key, (depths.get(key) ?? 0) + depth * s.values[column]);
      if (depth === 0) roots.set(key, (roots.get(key) ?? 0) + s.values[column]);
    });
  }
  const functions = new Map<string, FunctionCost>();
  let harnessSamples = 0;
  for (const [key, { fn, self, cum }] of byKey) {
    if (fn.name === HARNESS_FRAME) harnessSamples += self;
    else
      functions.set(key, {
        name: fn.name,
        file: fn.filename,
        total: cum,
        self,
        root: roots.get(key) ?? 0,
        depth: depths.get(key) ?? 0,
      });
  }
  const positive = (n: number | null | undefined) => (n != null && n > 0 ? n : undefined);
  const hz = positive(b.hz?.baseline ?? b.hz?.profiled);
  return {
    profiledCpuNsPerOp: positive(b.profiledCounters?.['task-clock/op']),
    cpuNsPerOp: positive(b.counters?.['task-clock/op']),
    wallNsPerOp: hz === undefined ? undefined : 1e9 / hz,
    samples: total,
    harnessSamples,
    functions,
    counters: b.counters ?? {},
    profiledCounters: b.profiledCounters,
    memory: b.memory,
  };
}
