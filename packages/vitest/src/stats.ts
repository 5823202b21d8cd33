/** Throughput statistics of a pass, computed as tinybench does, for passes tinybench does not report. */

// Two-sided 95% Student t critical values by degrees of freedom (1–30); beyond 30, 1.96.
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export interface PassStats {
  /** Operations per second (1000 / mean ms). */
  readonly hz: number;
  /** Relative margin of error of the mean, in percent (95% confidence). */
  readonly rme: number;
  readonly runs: number;
}

/** Stats of per-op durations in milliseconds; undefined when there are none. */
export function passStats(durationsMs: readonly number[]): PassStats | undefined {
  const n = durationsMs.length;
  if (n === 0) return undefined;
  let sum = 0;
  for (const d of durationsMs) sum += d;
  const mean = sum / n;
  if (!(mean > 0)) return undefined;
  let sq = 0;
  for (const d of durationsMs) sq += (d - mean) ** 2;
  const variance = n > 1 ? sq / (n - 1) : 0;
  const sem = Math.sqrt(variance) / Math.sqrt(n);
  const critical = n - 1 >= 1 && n - 1 <= 30 ? T95[n - 2] : 1.96;
  return { hz: 1000 / mean, rme: ((sem * critical) / mean) * 100, runs: n };
}

/** Throughput lost to the profiler in percent of the baseline (positive = slower when profiled). */
export function overheadPct(baselineHz: number | null, profiledHz: number | null): number | null {
  if (baselineHz == null || profiledHz == null || !(baselineHz > 0)) return null;
  return Math.round(((baselineHz - profiledHz) / baselineHz) * 10000) / 100;
}
