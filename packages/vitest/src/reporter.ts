/**
 * The perfprofile reporter (main process): a line when each benchmark's profiled pass starts
 * and when its profile is written, then the summary table and where the files are. Writes
 * index.json and merged.pb.gz at the end of the run. picocolors decides color (NO_COLOR,
 * FORCE_COLOR, non-TTY).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import { readRecords, readRunning, writeOutput, type IndexFile, type MissingBenchmark, type RunEnd } from './output.js';
import type { BenchmarkRecord } from './protocol.js';
import type { ResolvedSettings } from './settings.js';

type Colors = ReturnType<typeof pc.createColors>;

export interface SummaryOptions {
  readonly colors?: boolean;
  /** Shown as the output location (relative paths read better). */
  readonly outLabel?: string;
}

function fmtHz(hz: number | null): string {
  if (hz == null) return '-';
  if (hz >= 100) return Math.round(hz).toLocaleString('en-US');
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
    return `${name} ${v >= 1000 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3))}`;
  });
  return parts.join(' ') || '-';
}

function fmtNanos(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toPrecision(3)}s`;
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)}ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(3)}µs`;
  return `${ns.toPrecision(3)}ns`;
}

function truncateText(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** The summary table as text lines (no trailing newline), shared by the reporter and tests. */
export function summaryTable(index: IndexFile, options: SummaryOptions = {}): string[] {
  const c: Colors = pc.createColors(options.colors ?? pc.isColorSupported);
  const includesProfiler = !index.config.baseline;
  const header = ['benchmark', 'samples', 'rate', 'baseline ops/s', 'profiled ops/s', 'overhead', 'counters/op', 'top self function'];
  const rows = index.benchmarks.map((b) => {
    const top = b.top[0];
    return [
      truncateText(b.fullName, 48) + (b.status === 'failed' ? ' ✗' : ''),
      String(b.samples),
      fmtRate(b as BenchmarkRecord),
      fmtHz(b.hz.baseline),
      fmtHz(b.hz.profiled),
      fmtOverhead(b as BenchmarkRecord),
      fmtCounters(b.counters),
      top ? `${truncateText(top.function, 32)} ${top.selfPct.toFixed(1)}%` : '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([1, 2, 3, 4, 5]);
  const line = (cells: string[]) => cells.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const out: string[] = [];
  const cfg = index.config;
  // Clock events: rate is Hz and period its nanoseconds; count events: rate is the period.
  const rateText = Math.abs(cfg.period * cfg.rate - 1e9) < 1e7 ? `${cfg.rate} Hz` : `period ${cfg.period}`;
  out.push(c.bold(' perfprofile ') + c.dim(`event=${cfg.event} ${rateText} source=${cfg.source}${includesProfiler ? ' baseline=off' : ''}`));
  out.push(c.dim(line(header)));
  for (const [i, r] of rows.entries()) {
    const failed = index.benchmarks[i].status === 'failed';
    const text = line(r);
    out.push(failed ? c.red(text) : text);
  }
  if (includesProfiler) out.push(c.yellow('baseline=off: the ops/s above were measured with the profiler running (they include its overhead)'));
  for (const w of cfg.warnings) out.push(c.yellow(`warning: ${w}`));
  const harness = index.benchmarks.filter((b) => b.harnessPct >= 5);
  for (const b of harness) out.push(c.dim(`${b.fullName}: ${b.harnessPct.toFixed(1)}% of samples in the harness (Vitest/tinybench)`));
  for (const m of index.missing ?? []) out.push(c.red(`no profile: ${m.fullName}${m.file ? ` (${m.file})` : ''}: ${m.reason}`));
  if (index.interrupted) out.push(c.red(`interrupted by ${index.interrupted}: the profiles above finished before it`));
  if (!index.complete) out.push(c.red('incomplete: not every selected benchmark finished (index.json complete=false)'));
  const where = options.outLabel ?? '.';
  out.push(`profiles: ${c.cyan(where + path.sep)} (${index.benchmarks.length} per-benchmark .pb.gz${index.merged ? ', merged.pb.gz' : ''}, index.json) — try: go tool pprof -top ${path.join(where, index.merged ?? 'index.json')}`);
  return out;
}

/**
 * The live line: each benchmark being profiled right now and its samples so far (the native
 * engine rewrites the count every 250 ms); undefined when none is running.
 */
export function liveLine(out: string): string | undefined {
  const parts = readRunning(out).map((b) => `${b.fullName}: ${b.samples === undefined ? '…' : `${b.samples} samples so far`}`);
  return parts.length ? `perfprofile: profiling ${parts.join(', ')}` : undefined;
}

/** Sends `sig` to this process's child processes (Linux: /proc/<pid>/task/<tid>/children). */
function signalChildren(sig: NodeJS.Signals): void {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${process.pid}/task`);
  } catch {
    return; // not Linux: Vitest's own close has to do
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const pid of children.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), sig);
      } catch {
        // Already gone.
      }
    }
  }
}

export class PerfprofileReporter implements Reporter {
  private vitest: Vitest | undefined;
  private readonly profiling = new Map<string, { name: string; since: number }>();
  private readonly done = new Set<string>();
  private ticker: NodeJS.Timeout | undefined;
  /** In-place progress on a terminal (or when PERFPROFILE_LIVE=1); never on plain logs. */
  private readonly live = process.stdout.isTTY === true || process.env.PERFPROFILE_LIVE === '1';
  private liveShown = '';

  constructor(private readonly settings: () => ResolvedSettings | undefined) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    if (!this.settings()) return;
    if (this.live) this.ticker = setInterval(() => this.poll(), 200).unref();
    this.installSignalHandlers();
  }

  private log(text: string): void {
    this.clearLive();
    if (this.vitest) this.vitest.logger.log(text);
    else process.stdout.write(`${text}\n`);
  }

  private clearLive(): void {
    if (!this.liveShown) return;
    process.stdout.write(process.stdout.isTTY ? '\r\x1b[K' : '\n');
    this.liveShown = '';
  }

  private showLive(out: string): void {
    const line = liveLine(out);
    if (!line || line === this.liveShown) return;
    const width = process.stdout.columns ?? 120;
    this.clearLive();
    process.stdout.write(pc.dim(line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line));
    this.liveShown = line;
  }

  private key(file: string, fullName: string): string {
    return `${file}\u0000${fullName}`;
  }

  onTestCaseResult(testCase: TestCase): void {
    const s = this.settings();
    if (!s || !this.vitest || !s.config.baseline) return;
    const file = path.relative(this.vitest.config.root, testCase.module.moduleId).split(path.sep).join('/');
    const key = this.key(file, testCase.fullName);
    if (this.done.has(key)) return;
    this.profiling.set(key, { name: testCase.fullName, since: Date.now() });
    this.log(pc.dim(`perfprofile: profiling ${testCase.fullName} …`));
    this.ticker ??= setInterval(() => this.poll(), 200).unref();
  }

  /** Reports benchmarks whose records appeared since the last look. */
  private poll(): BenchmarkRecord[] {
    const s = this.settings();
    if (!s) return [];
    const records = readRecords(s.out);
    if (this.live) this.showLive(s.out);
    for (const r of records) {
      const key = this.key(r.file, r.fullName);
      if (this.done.has(key)) continue;
      this.done.add(key);
      this.profiling.delete(key);
      const status = r.status === 'failed' ? pc.red(' (failed: partial profile)') : '';
      this.log(pc.dim(`perfprofile: ${r.fullName}: ${r.samples} samples in ${(r.durationMs / 1000).toFixed(2)} s${status}`));
    }
    return records;
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: string): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.clearLive();
    const s = this.settings();
    if (!s || !this.vitest) return;
    if (this.finished) return;
    this.finished = true;
    this.removeSignalHandlers();
    const records = this.poll();
    const root = this.vitest.config.root;
    // Order as Vitest ran them; every selected benchmark must have a passed record.
    const order = new Map<string, number>();
    const missing: MissingBenchmark[] = [];
    let complete = reason === 'passed' && unhandledErrors.length === 0;
    for (const m of testModules) {
      const file = path.relative(root, m.moduleId).split(path.sep).join('/');
      for (const t of m.children.allTests()) {
        if (t.options.mode !== 'run') continue;
        for (const fullName of this.benchmarksOf(t)) {
          const key = this.key(file, fullName);
          order.set(key, order.size);
          const r = records.find((x) => this.key(x.file, x.fullName) === key);
          if (!r) {
            const error = t.result().errors?.[0]?.message ?? (unhandledErrors[0] as Error | undefined)?.message;
            missing.push({ file, fullName, reason: `no profile was written: ${error ?? 'its worker ended before the benchmark finished'}` });
          }
          if (!r || r.status !== 'passed') complete = false;
        }
      }
    }
    if (records.some((r) => r.status !== 'passed')) complete = false;
    this.report(s, this.ordered(records, order), { complete, missing });
  }

  /** Full names of the benchmarks `test` ran, as their records name them (Vitest 4: the test itself is one). */
  protected benchmarksOf(test: TestCase): readonly string[] {
    return [test.fullName];
  }

  /** Records in the order Vitest ran their benchmarks (unknown ones last, by id). */
  private ordered(records: readonly BenchmarkRecord[], order: ReadonlyMap<string, number>): BenchmarkRecord[] {
    const rank = (r: BenchmarkRecord) => order.get(this.key(r.file, r.fullName)) ?? Number.MAX_SAFE_INTEGER;
    return [...records].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
  }

  private report(s: ResolvedSettings, records: readonly BenchmarkRecord[], end: RunEnd): void {
    const index = writeOutput(s, records, end, this.vitest?.version ?? '');
    const rel = path.relative(process.cwd(), s.out) || '.';
    this.log('');
    for (const l of summaryTable(index, { outLabel: rel.startsWith('..') ? s.out : rel })) this.log(l);
  }

  // ---- SIGINT / SIGTERM: keep what finished, say what did not, stop the workers ----------------

  private finished = false;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();

  private installSignalHandlers(): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => this.onSignal(sig);
      this.signalHandlers.set(sig, handler);
      process.once(sig, handler);
    }
  }

  private removeSignalHandlers(): void {
    for (const [sig, handler] of this.signalHandlers) process.off(sig, handler);
    this.signalHandlers.clear();
  }

  private onSignal(sig: NodeJS.Signals): void {
    this.removeSignalHandlers();
    const s = this.settings();
    const code = 128 + (sig === 'SIGINT' ? 2 : 15);
    if (!s || this.finished) process.exit(code);
    this.finished = true;
    if (this.ticker) clearInterval(this.ticker);
    this.clearLive();
    try {
      const records = this.poll();
      const missing: MissingBenchmark[] = readRunning(s.out).map((b) => ({ file: b.file, fullName: b.fullName, reason: `interrupted by ${sig} while profiled${b.samples === undefined ? '' : ` (${b.samples} samples taken, profile not written)`}` }));
      this.log(pc.yellow(`perfprofile: ${sig}: writing the ${records.length} finished profile${records.length === 1 ? '' : 's'} and index.json (complete: false)`));
      this.report(s, this.ordered(records, new Map()), { complete: false, missing, interrupted: sig });
    } catch (e) {
      process.stderr.write(`perfprofile: could not write index.json after ${sig}: ${(e as Error).message}\n`);
    }
    // Stop the pool, then leave. A forks worker inside a synchronous benchmark loop never reads
    // Vitest's close message (nor notices its parent is gone) and would keep running and
    // sampling: it gets the same signal, then SIGKILL if it is still there.
    signalChildren(sig);
    const exit = () => {
      signalChildren('SIGKILL');
      process.exit(code);
    };
    setTimeout(exit, 2000).unref();
    (this.vitest?.close() ?? Promise.resolve()).then(exit, exit);
  }
}
