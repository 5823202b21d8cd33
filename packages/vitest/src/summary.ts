/**
 * The summary printed after a profiled run: one row per benchmark, then warnings and where the files are.
 *
 * Shared by the reporter and by anyone rendering an index.json. picocolors decides colour
 * (NO_COLOR, FORCE_COLOR, a terminal) unless the caller does.
 */
import path from 'node:path';
import pc from 'picocolors';
import { groupDigits } from '@perfprofile/core';
import type { IndexFile } from './output.js';
import type { BenchmarkRecord } from './protocol.js';
import { CENSUS_HEAVY_BYTES, CENSUS_MIN_PASS_MS } from './memprofile.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface SummaryOptions {
  readonly colors?: boolean;
  /** Shown as the output location (relative paths read better). */
  readonly outLabel?: string;
}

function fmtHz(hz: number | null): string {
  if (hz == null) return '-';
  if (hz >= 100) return groupDigits(hz);
  return hz.toPrecision(3);
}

function fmtOverhead(r: BenchmarkRecord): string {
  if (r.overheadPct == null) return '-';
  const pm = r.rme.baseline != null && r.rme.profiled != null ? Math.hypot(r.rme.baseline, r.rme.profiled) : undefined;
  const sign = r.overheadPct > 0 ? '+' : '';
  return `${sign}${r.overheadPct.toFixed(1)}%${pm !== undefined ? ` ±${pm.toFixed(1)}` : ''}`;
}

function fmtRate(r: BenchmarkRecord): string {
  return r.durationMs > 0 ? `${Math.round((r.samples / r.durationMs) * 1000)}/s` : '-';
}

/** `task-clock 12.3µs page-faults 0.01`: time counters (ns) as durations, the rest as numbers. */
export function fmtCounters(counters: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counters).map(([key, v]) => {
    const name = key.replace(/\/op$/, '');
    if (name === 'task-clock' || name === 'cpu-clock') return `${name} ${fmtNanos(v)}`;
    return `${name} ${v >= 1000 ? groupDigits(v) : Number(v.toPrecision(3))}`;
  });
  return parts.join(' ') || '-';
}

function fmtNanos(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toPrecision(3)}s`;
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)}ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(3)}µs`;
  return `${ns.toPrecision(3)}ns`;
}

/** Go's `-benchmem` columns: bytes per op as an integer, allocations per op to 3 significant digits. */
export function fmtMemory(memory: BenchmarkRecord['memory'] | undefined): { bytes: string; allocs: string } {
  const bytes = memory?.bytesPerOp;
  const allocs = memory?.allocsPerOp;
  return {
    bytes: bytes == null ? '-' : String(Math.round(bytes)),
    allocs:
      allocs == null
        ? '-'
        : allocs >= 100 || Number.isInteger(allocs)
          ? String(Math.round(allocs))
          : String(Number(allocs.toPrecision(3))),
  };
}

function truncateText(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * A benchmark with at least this share (%) of its samples wholly in Vitest/tinybench code is
 * named in the summary: a quarter of what Vitest timed is then the harness's own per-op work.
 */
export const HARNESS_NOTICE_PCT = 25;

/**
 * One line for every benchmark whose harness share reaches {@link HARNESS_NOTICE_PCT}: how many,
 * the three highest, where the rest are; undefined when none does.
 */
export function harnessLine(
  benchmarks: readonly { readonly fullName: string; readonly harnessPct: number }[],
): string | undefined {
  const high = benchmarks.filter((b) => b.harnessPct >= HARNESS_NOTICE_PCT).sort((a, b) => b.harnessPct - a.harnessPct);
  if (high.length === 0) return undefined;
  const named = high.slice(0, 3).map((b) => `${truncateText(b.fullName, 40)} ${b.harnessPct.toFixed(0)}%`);
  const more = high.length > named.length ? ` and ${high.length - named.length} more` : '';
  const of = `${high.length} of ${benchmarks.length} benchmark${benchmarks.length === 1 ? '' : 's'}`;
  return `harness: ${of} spent ≥${HARNESS_NOTICE_PCT}% of their samples in Vitest/tinybench code: ${named.join(', ')}${more} (index.json harnessPct; README "Harness share")`;
}

/** One line per reason some benchmarks have no census (memprofile.ts): which, and what to do. */
export function memoryLines(
  benchmarks: readonly { readonly fullName: string; readonly memory?: BenchmarkRecord['memory'] }[],
): string[] {
  const out: string[] = [];
  const of = (why: string) => benchmarks.filter((b) => b.memory?.censusSkipped === why);
  const names = (bs: readonly { fullName: string }[]) =>
    `${bs
      .slice(0, 3)
      .map((b) => truncateText(b.fullName, 40))
      .join(', ')}${bs.length > 3 ? ` and ${bs.length - 3} more` : ''}`;
  const short = of('short-pass');
  if (short.length)
    out.push(
      `memory: no B/op or allocs/op for ${short.length} of ${benchmarks.length} benchmarks (${names(short)}): their measured pass took under ${CENSUS_MIN_PASS_MS} ms, less than an allocation census costs; give them more \`time\` (README "Memory per op")`,
    );
  const heavy = of('heavy');
  if (heavy.length)
    out.push(
      `memory: ${names(heavy)} allocate${heavy.length === 1 ? 's' : ''} over ${Math.round(CENSUS_HEAVY_BYTES / 1e5) / 10} MB per op: B/op is V8's count of the measured pass, allocs/op not counted`,
    );
  return out;
}

/** The summary table as text lines (no trailing newline), shared by the reporter and tests. */
export function summaryTable(index: IndexFile, options: SummaryOptions = {}): string[] {
  const c: Colors = pc.createColors(options.colors ?? pc.isColorSupported);
  const includesProfiler = !index.config.baseline;
  const header = [
    'benchmark',
    'samples',
    'rate',
    'baseline ops/s',
    'profiled ops/s',
    'overhead',
    'counters/op',
    'B/op',
    'allocs/op',
    'top self function',
  ];
  const rows = index.benchmarks.map((b) => {
    const top = b.top[0];
    const mem = fmtMemory(b.memory);
    return [
      truncateText(b.fullName, 48) + (b.status === 'failed' ? ' ✗' : ''),
      String(b.samples),
      fmtRate(b as BenchmarkRecord),
      fmtHz(b.hz.baseline),
      fmtHz(b.hz.profiled),
      fmtOverhead(b as BenchmarkRecord),
      fmtCounters(b.counters),
      mem.bytes,
      mem.allocs,
      top ? `${truncateText(top.function, 32)} ${top.selfPct.toFixed(1)}%` : '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([1, 2, 3, 4, 5, 7, 8]);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  const cfg = index.config;
  // Clock events: rate is Hz and period its nanoseconds; count events: rate is the period.
  const rateText = Math.abs(cfg.period * cfg.rate - 1e9) < 1e7 ? `${cfg.rate} Hz` : `period ${cfg.period}`;
  // Why this source (event=auto's choice, a fallback) when it is not simply what was asked.
  const why = /as configured$/.test(cfg.reason) ? '' : ` — ${cfg.reason}`;
  out.push(
    c.bold(' perfprofile ') +
      c.dim(`event=${cfg.event} ${rateText} source=${cfg.source}${includesProfiler ? ' baseline=off' : ''}${why}`),
  );
  out.push(c.dim(line(header)));
  for (const [i, r] of rows.entries()) {
    const failed = index.benchmarks[i].status === 'failed';
    const text = line(r);
    out.push(failed ? c.red(text) : text);
  }
  if (includesProfiler)
    out.push(
      c.yellow('baseline=off: the ops/s above were measured with the profiler running (they include its overhead)'),
    );
  for (const w of cfg.warnings) out.push(c.yellow(`warning: ${w}`));
  const harness = harnessLine(index.benchmarks);
  if (harness !== undefined) out.push(c.yellow(harness));
  for (const line of memoryLines(index.benchmarks)) out.push(c.yellow(line));
  for (const m of index.missing ?? [])
    out.push(c.red(`no profile: ${m.fullName}${m.file ? ` (${m.file})` : ''}: ${m.reason}`));
  for (const e of index.errors ?? []) out.push(c.red(e));
  if (index.interrupted) out.push(c.red(`interrupted by ${index.interrupted}: the profiles above finished before it`));
  if (!index.complete) out.push(c.red('incomplete: not every selected benchmark finished (index.json complete=false)'));
  const where = options.outLabel ?? '.';
  // Something go tool pprof reads: the merged profile, else the first benchmark's.
  const example = index.merged ?? index.benchmarks[0]?.profile;
  const tryIt = example ? ` — try: go tool pprof -top ${path.join(where, example)}` : '';
  const allocs = index.benchmarks.filter((b) => b.allocProfile).length;
  const allocText = allocs ? `, ${allocs} .alloc.pb.gz${index.mergedAlloc ? ', merged.alloc.pb.gz' : ''}` : '';
  out.push(
    `profiles: ${c.cyan(where + path.sep)} (${index.benchmarks.length} per-benchmark .pb.gz${index.merged ? ', merged.pb.gz' : ''}${allocText}, index.json)${tryIt}`,
  );
  return out;
}
