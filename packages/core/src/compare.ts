/**
 * Comparing profiles: per-function self shares before and after (`perfprofile diff`), and the
 * CI gate over two vitest-perfprofile output directories (`perfprofile check`). Shares are
 * percentages of one sample column; functions are matched by name and file (lines move when
 * code is edited).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { functionTable, type AnalysisOptions } from './analysis.js';
import { ProfileError } from './errors.js';
import type { Profile } from './model.js';
import { decode, type DecodeOptions } from './wire.js';

export interface ShareRow {
  readonly name: string;
  readonly file: string;
  /** Self share (%) in the base and head profiles; 0 where the function is absent. */
  readonly before: number;
  readonly after: number;
  /** after − before, in percentage points. */
  readonly delta: number;
}

export interface ShareDiff {
  readonly valueType: string;
  /** Sample counts (the `samples` column when present) behind each side's shares. */
  readonly baseSamples: number;
  readonly headSamples: number;
  /** Sorted by |delta|, largest first. */
  readonly rows: readonly ShareRow[];
}

const fnKey = (name: string, file: string) => `${name}\u0000${file}`;

function sampleCount(profile: Profile): number {
  const i = profile.sampleTypes.findIndex((t) => t.type === 'samples');
  if (i < 0) return profile.samples.length;
  return profile.samples.reduce((a, s) => a + s.values[i], 0);
}

/** Self share per function in `base` and `head`, sorted by the size of the change. */
export function diffProfiles(base: Profile, head: Profile, options: AnalysisOptions = {}): ShareDiff {
  const a = functionTable(base, options);
  const b = functionTable(head, options);
  // Several functions may share a name and file (different start lines, or tiers): summed.
  const rows = new Map<string, { name: string; file: string; before: number; after: number }>();
  const add = (r: (typeof a.rows)[number], side: 'before' | 'after') => {
    if (r.flat === 0) return;
    const k = fnKey(r.name, r.file);
    let row = rows.get(k);
    if (!row) rows.set(k, (row = { name: r.name, file: r.file, before: 0, after: 0 }));
    row[side] += r.flatPct;
  };
  for (const r of a.rows) add(r, 'before');
  for (const r of b.rows) add(r, 'after');
  const out = [...rows.values()].map((r) => ({ ...r, delta: r.after - r.before }));
  out.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.name.localeCompare(y.name));
  return { valueType: b.valueType, baseSamples: sampleCount(base), headSamples: sampleCount(head), rows: out };
}

// ---- Output directories -------------------------------------------------------------------

/** One benchmark of an output directory's index.json, as far as comparing needs it. */
export interface RunBenchmark {
  readonly id: string;
  readonly fullName: string;
  readonly profile: string;
  readonly status?: string;
  readonly counters?: Readonly<Record<string, number>>;
  readonly rme?: { readonly baseline: number | null; readonly profiled: number | null };
}

export interface RunDir {
  readonly dir: string;
  readonly complete: boolean;
  readonly benchmarks: readonly RunBenchmark[];
  /** Decodes one benchmark's profile (relative to the directory). */
  load(b: RunBenchmark): Profile;
}

/** True when `p` is a directory holding an index.json. */
export function isRunDir(p: string): boolean {
  try {
    return statSync(p).isDirectory() && existsSync(path.join(p, 'index.json'));
  } catch {
    return false;
  }
}

/** Reads a vitest-perfprofile output directory; ERR_INPUT when it is not one. */
export function readRunDir(dir: string, options: DecodeOptions = {}): RunDir {
  const file = path.join(dir, 'index.json');
  let index: { schema?: number; complete?: boolean; benchmarks?: RunBenchmark[] };
  try {
    index = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileError('ERR_INPUT', code === 'ENOENT' ? `${dir} has no index.json` : `${file} is not valid JSON`, 'pass a directory written by vitest-perf bench --perfprofile <dir>');
  }
  if (index.schema !== 1 || !Array.isArray(index.benchmarks)) {
    throw new ProfileError('ERR_INPUT', `${file} is not a perfprofile index (schema ${JSON.stringify(index.schema)})`, 'pass a directory written by vitest-perf bench --perfprofile <dir>');
  }
  return {
    dir,
    complete: index.complete === true,
    benchmarks: index.benchmarks,
    load(b) {
      if (b.profile.includes('/') || b.profile.includes('\\')) throw new ProfileError('ERR_INPUT', `${file} names profile ${JSON.stringify(b.profile)} outside the directory`, 'the index is damaged; run the benchmarks again');
      const p = path.join(dir, b.profile);
      let bytes: Buffer;
      try {
        bytes = readFileSync(p);
      } catch {
        throw new ProfileError('ERR_INPUT', `${p} is missing (listed in index.json)`, 'the directory is incomplete; run the benchmarks again');
      }
      return decode(bytes, options, p);
    },
  };
}

/** Benchmarks of two runs matched by id, and those only one side has. */
export function matchBenchmarks(base: RunDir, head: RunDir): { pairs: [RunBenchmark, RunBenchmark][]; onlyBase: RunBenchmark[]; onlyHead: RunBenchmark[] } {
  const heads = new Map(head.benchmarks.map((b) => [b.id, b]));
  const pairs: [RunBenchmark, RunBenchmark][] = [];
  const onlyBase: RunBenchmark[] = [];
  for (const b of base.benchmarks) {
    const h = heads.get(b.id);
    if (h) {
      pairs.push([b, h]);
      heads.delete(b.id);
    } else onlyBase.push(b);
  }
  return { pairs, onlyBase, onlyHead: [...heads.values()] };
}

// ---- The gate -----------------------------------------------------------------------------

export interface CheckOptions {
  /** A function's self share may grow by at most this many percentage points. */
  readonly maxShareIncrease: number;
  /** A per-op counter may grow by at most this fraction (0.03 = 3%). */
  readonly maxCounterIncrease: number;
  /**
   * A share change counts only when it is also this many standard errors of the difference
   * of two proportions at the two profiles' sample counts (default 4): a few hundred samples
   * cannot tell 5 pp apart reliably, and a gate that cries wolf gets switched off. Samples are
   * not independent (a GC pause spans several), so 3 standard errors still tripped on
   * identical runs of the fixture (+8.4 pp at 150 samples); 4 did not.
   */
  readonly minZ?: number;
  /**
   * The per-op counters gated (index.json names, `instructions/op`). By default the PMU counts
   * of work done, which repeat run to run. Time counters (task-clock) include whatever the host
   * steals from a VM and moved by up to 40% between identical runs on the project machine;
   * page faults and context switches follow GC and the scheduler. Those are gated only when named.
   */
  readonly counters?: readonly string[];
}

export const DEFAULT_GATED_COUNTERS = ['instructions/op', 'cycles/op', 'ref-cycles/op', 'branch-instructions/op'];

export interface Finding {
  readonly kind: 'share' | 'counter';
  /** Function name, or counter name (`task-clock/op`). */
  readonly name: string;
  readonly file?: string;
  readonly before: number;
  readonly after: number;
  /** pp for shares, percent for counters. */
  readonly increase: number;
  readonly limit: number;
}

export interface BenchmarkCheck {
  readonly id: string;
  readonly fullName: string;
  readonly regressions: readonly Finding[];
  /** The largest share increase seen, regression or not (for the "no regressions" table). */
  readonly largestShareIncrease: Finding | undefined;
}

export interface CheckResult {
  readonly benchmarks: readonly BenchmarkCheck[];
  readonly onlyBase: readonly string[];
  readonly onlyHead: readonly string[];
  readonly regressions: number;
  readonly options: Required<CheckOptions>;
}

/** Two-proportion z statistic of a share change, at the two sample counts. */
function zOf(p1: number, n1: number, p2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const p = (p1 * n1 + p2 * n2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return se === 0 ? (p2 > p1 ? Infinity : 0) : (p2 - p1) / se;
}

/** The gate: every benchmark present in both runs, its shares and its per-op counters. */
export function checkRuns(base: RunDir, head: RunDir, options: CheckOptions): CheckResult {
  const opts: Required<CheckOptions> = { minZ: 4, counters: DEFAULT_GATED_COUNTERS, ...options };
  const gated = new Set(opts.counters);
  const { pairs, onlyBase, onlyHead } = matchBenchmarks(base, head);
  const benchmarks: BenchmarkCheck[] = [];
  for (const [b, h] of pairs) {
    const regressions: Finding[] = [];
    const diff = diffProfiles(base.load(b), head.load(h), { sampleIndex: 'samples' });
    let largest: Finding | undefined;
    for (const r of diff.rows) {
      if (r.delta <= 0) continue;
      const finding: Finding = { kind: 'share', name: r.name, file: r.file, before: r.before, after: r.after, increase: r.delta, limit: opts.maxShareIncrease };
      if (!largest || r.delta > largest.increase) largest = finding;
      const z = zOf(r.before / 100, diff.baseSamples, r.after / 100, diff.headSamples);
      if (r.delta > opts.maxShareIncrease && z >= opts.minZ) regressions.push(finding);
    }
    for (const [name, before] of Object.entries(b.counters ?? {})) {
      const after = h.counters?.[name];
      if (!gated.has(name) || after === undefined || !(before > 0)) continue;
      const increase = (after / before - 1) * 100;
      if (increase > opts.maxCounterIncrease * 100) regressions.push({ kind: 'counter', name, before, after, increase, limit: opts.maxCounterIncrease * 100 });
    }
    benchmarks.push({ id: b.id, fullName: b.fullName, regressions, largestShareIncrease: largest });
  }
  return {
    benchmarks,
    onlyBase: onlyBase.map((b) => b.id),
    onlyHead: onlyHead.map((b) => b.id),
    regressions: benchmarks.reduce((a, b) => a + b.regressions.length, 0),
    options: opts,
  };
}

const pct = (x: number) => `${x.toFixed(1)}%`;
const num = (x: number) => (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(4)).toString());

/** One line per finding: what grew, from what to what, and the limit it broke. */
export function describeFinding(f: Finding): string {
  if (f.kind === 'share') return `${f.name}${f.file ? ` (${f.file})` : ''}: self share ${pct(f.before)} → ${pct(f.after)} (+${f.increase.toFixed(1)} pp, limit ${f.limit} pp)`;
  return `${f.name}: ${num(f.before)} → ${num(f.after)} (+${f.increase.toFixed(1)}%, limit ${f.limit}%)`;
}

/** The markdown report `perfprofile check --markdown` and GITHUB_STEP_SUMMARY get. */
export function checkMarkdown(result: CheckResult): string {
  const o = result.options;
  const lines: string[] = [];
  if (result.regressions > 0) {
    lines.push(`### perfprofile check: ${result.regressions} regression${result.regressions === 1 ? '' : 's'}`, '');
    lines.push('| benchmark | what | before | after | change | limit |', '|---|---|---:|---:|---:|---:|');
    for (const b of result.benchmarks) {
      for (const f of b.regressions) {
        const what = f.kind === 'share' ? `\`${f.name}\` self share` : `\`${f.name}\``;
        const [before, after] = f.kind === 'share' ? [pct(f.before), pct(f.after)] : [num(f.before), num(f.after)];
        const change = f.kind === 'share' ? `+${f.increase.toFixed(1)} pp` : `+${f.increase.toFixed(1)}%`;
        lines.push(`| ${b.fullName} | ${what} | ${before} | ${after} | ${change} | ${f.kind === 'share' ? `${f.limit} pp` : `${f.limit}%`} |`);
      }
    }
  } else {
    lines.push('### perfprofile check: no regressions', '');
    lines.push('| benchmark | largest self-share increase |', '|---|---|');
    for (const b of result.benchmarks) {
      const f = b.largestShareIncrease;
      lines.push(`| ${b.fullName} | ${f ? `\`${f.name}\` +${f.increase.toFixed(1)} pp` : '–'} |`);
    }
  }
  lines.push('', `Limits: self share +${o.maxShareIncrease} pp (and ≥ ${o.minZ} standard errors), per-op counters +${o.maxCounterIncrease * 100}% (${o.counters.join(', ')}).`);
  if (result.onlyBase.length) lines.push(`Only in base: ${result.onlyBase.join(', ')}.`);
  if (result.onlyHead.length) lines.push(`Only in head: ${result.onlyHead.join(', ')}.`);
  return lines.join('\n') + '\n';
}
