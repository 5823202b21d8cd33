/**
 * Comparing profiles: per-function shares before and after (`perfprofile diff`), and the CI
 * gate over two vitest-perfprofile output directories (`perfprofile check`). Shares are
 * percentages of one sample column; functions are matched by name and file (lines move when
 * code is edited).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { resolveSampleIndex, selectSamples, type AnalysisOptions } from './analysis.js';
import { ProfileError } from './errors.js';
import { byText, groupDigits } from './text.js';
import { ProfileIndex, type Profile } from './model.js';
import { decode } from './decode.js';
import type { DecodeOptions } from './inflate.js';

export interface ShareRow {
  readonly name: string;
  readonly file: string;
  /** Self share (%) in the base and head profiles; 0 where the function is absent. */
  readonly before: number;
  readonly after: number;
  /** after − before, in percentage points. */
  readonly delta: number;
  /** Total (cumulative, self + callees) share (%) in base and head. */
  readonly cumBefore: number;
  readonly cumAfter: number;
  /** cumAfter − cumBefore, in percentage points. */
  readonly cumDelta: number;
}

export interface ShareDiff {
  readonly valueType: string;
  /** Sample counts (the `samples` column when present) behind each side's shares. */
  readonly baseSamples: number;
  readonly headSamples: number;
  /** Functions with self time on either side, sorted by |delta|, largest first. */
  readonly rows: readonly ShareRow[];
}

const fnKey = (name: string, file: string) => `${name}\u0000${file}`;

function sampleCount(profile: Profile): number {
  const i = profile.sampleTypes.findIndex((t) => t.type === 'samples');
  if (i < 0) return profile.samples.length;
  return profile.samples.reduce((a, s) => a + s.values[i], 0);
}

interface Shares {
  readonly valueType: string;
  readonly byFunction: Map<string, { name: string; file: string; self: number; cum: number }>;
}

/**
 * Self and total share (%) per function name and file. Functions that share both (two closures
 * of one file, one function at two start lines) are one entry, counted once per sample in cum,
 * so a nested pair of anonymous callbacks does not add up to more than 100%.
 */
function sharesOf(profile: Profile, options: AnalysisOptions): Shares {
  const column = resolveSampleIndex(profile, options.sampleIndex);
  const index = new ProfileIndex(profile);
  const byFunction: Shares['byFunction'] = new Map();
  const seen = new Set<string>();
  let total = 0;
  for (const s of selectSamples(profile, options, index)) {
    const v = s.values[column];
    total += v;
    seen.clear();
    s.locationIds.forEach((id, depth) => {
      index.frames(id).forEach(({ fn }, inner) => {
        const k = fnKey(fn.name, fn.filename);
        let e = byFunction.get(k);
        if (!e) byFunction.set(k, (e = { name: fn.name, file: fn.filename, self: 0, cum: 0 }));
        if (depth === 0 && inner === 0) e.self += v;
        if (!seen.has(k)) {
          seen.add(k);
          e.cum += v;
        }
      });
    });
  }
  for (const e of byFunction.values()) {
    e.self = total ? (100 * e.self) / total : 0;
    e.cum = total ? (100 * e.cum) / total : 0;
  }
  const t = profile.sampleTypes[column];
  return { valueType: `${t.type}/${t.unit}`, byFunction };
}

/**
 * Self and total share per function in `base` and `head`, sorted by the size of the self-share
 * change. A function whose self share grew while its total share did not has taken time over
 * from its callees (typically the JIT inlined one into it): `cumDelta` tells the two apart.
 */
export function diffProfiles(base: Profile, head: Profile, options: AnalysisOptions = {}): ShareDiff {
  const baseShares = sharesOf(base, options);
  const a = baseShares.byFunction;
  const b = sharesOf(head, options);
  if (baseShares.valueType !== b.valueType) {
    // Shares of different quantities (CPU time vs wall time, or faults) are not comparable.
    const common = base.sampleTypes.map((t) => t.type).filter((t) => head.sampleTypes.some((u) => u.type === t));
    throw new ProfileError('ERR_INPUT', `base measures ${baseShares.valueType} but head measures ${b.valueType}`,
      common.length ? `pass --sample-index ${common.includes('samples') ? 'samples' : common[0]} to compare a column both have, or profile both with the same event` : 'profile both with the same event');
  }
  const rows: ShareRow[] = [];
  for (const k of new Set([...a.keys(), ...b.byFunction.keys()])) {
    const x = a.get(k), y = b.byFunction.get(k);
    const before = x?.self ?? 0, after = y?.self ?? 0;
    if (before === 0 && after === 0) continue;
    const cumBefore = x?.cum ?? 0, cumAfter = y?.cum ?? 0;
    const { name, file } = (x ?? y)!;
    rows.push({ name, file, before, after, delta: after - before, cumBefore, cumAfter, cumDelta: cumAfter - cumBefore });
  }
  rows.sort((p, q) => Math.abs(q.delta) - Math.abs(p.delta) || byText(p.name, q.name));
  return { valueType: b.valueType, baseSamples: sampleCount(base), headSamples: sampleCount(head), rows };
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

const pct = (x: number) => `${x.toFixed(1)}%`;
/** Text fit for a markdown table cell: pipes escaped, line breaks flattened. */
const cell = (x: string) => x.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const num = (x: number) => (Math.abs(x) >= 1000 ? groupDigits(x) : Number(x.toPrecision(4)).toString());

const signed = (x: number, unit: string) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}${unit}`;

/** One line per finding: what grew, from what to what, and the limit it broke. */
export function describeFinding(f: Finding): string {
  if (f.kind === 'counter') return `${f.name}: ${num(f.before)} → ${num(f.after)} (+${f.increase.toFixed(1)}%, limit ${f.limit}%)`;
  const line = `${f.name}${f.file ? ` (${f.file})` : ''}: self share ${pct(f.before)} → ${pct(f.after)}, total ${pct(f.cumBefore ?? 0)} → ${pct(f.cumAfter ?? 0)} (+${f.increase.toFixed(1)} pp, limit ${f.limit} pp)`;
  return f.from?.length ? `${line}; ${describeSource(f)}` : line;
}

/** Where a share increase came from, when it left callers whose total share held. */
function describeSource(f: Finding, code = (s: string) => s): string {
  const who = f.from!.map((o) => `${code(o.name)} (self ${signed(o.selfDelta, ' pp')}, total ${signed(o.cumDelta, ' pp')})`).join(', ');
  return `taken from ${who}: a slower callee, or the JIT inlining it in one run only`;
}

/** Per-op counter changes of a benchmark as one line ("task-clock/op +3.1%, ..."), or ''. */
export function describeCounterChanges(b: BenchmarkCheck): string {
  return Object.entries(b.counterChanges).map(([k, v]) => `${k} ${signed(v, '%')}`).join(', ');
}

/** One line for a self-share increase the total share does not show (not a regression). */
export function describeMoved(f: Finding, markdown = false): string {
  return `${markdown ? `\`${cell(f.name)}\`` : f.name}${f.file ? ` (${f.file})` : ''}: self share ${pct(f.before)} → ${pct(f.after)} but total ${pct(f.cumBefore ?? 0)} → ${pct(f.cumAfter ?? 0)}: time moved in from its callees (e.g. one the JIT inlined in one run only), not counted`;
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
        const what = f.kind === 'share' ? `\`${cell(f.name)}\` self / total share` : `\`${f.name}\``;
        const [before, after] = f.kind === 'share' ? [`${pct(f.before)} / ${pct(f.cumBefore ?? 0)}`, `${pct(f.after)} / ${pct(f.cumAfter ?? 0)}`] : [num(f.before), num(f.after)];
        const change = f.kind === 'share' ? `+${f.increase.toFixed(1)} pp` : `+${f.increase.toFixed(1)}%`;
        lines.push(`| ${cell(b.fullName)} | ${what} | ${before} | ${after} | ${change} | ${f.kind === 'share' ? `${f.limit} pp` : `${f.limit}%`} |`);
      }
    }
    const context = result.benchmarks.filter((b) => b.regressions.length).flatMap((b) => {
      const notes = b.regressions.filter((f) => f.from?.length).map((f) => `- ${cell(b.fullName)}: \`${f.name}\` ${describeSource(f, (s) => `\`${s}\``)}.`);
      const counters = describeCounterChanges(b);
      return counters ? [...notes, `- ${cell(b.fullName)}: per-op counters ${counters}.`] : notes;
    });
    if (context.length) lines.push('', ...context);
  } else {
    lines.push('### perfprofile check: no regressions', '');
    lines.push('| benchmark | largest share increase (self and total) |', '|---|---|');
    for (const b of result.benchmarks) {
      const f = b.largestShareIncrease;
      lines.push(`| ${cell(b.fullName)} | ${f ? `\`${cell(f.name)}\` +${f.increase.toFixed(1)} pp` : '–'} |`);
    }
  }
  const moved = result.benchmarks.flatMap((b) => b.moved.map((f) => `- ${b.fullName}: ${describeMoved(f, true)}`));
  if (moved.length) lines.push('', 'Not counted:', ...moved);
  if (result.warnings.length) lines.push('', ...result.warnings.map((w) => `> **Warning:** ${w}`));
  lines.push('', `Limits: a function's self and total share +${o.maxShareIncrease} pp (and ≥ ${o.minZ} standard errors), per-op counters +${o.maxCounterIncrease * 100}% (${o.counters.join(', ')}).`);
  if (result.onlyBase.length) lines.push(`Only in base: ${result.onlyBase.join(', ')}.`);
  if (result.onlyHead.length) lines.push(`Only in head: ${result.onlyHead.join(', ')}.`);
  return lines.join('\n') + '\n';
}
