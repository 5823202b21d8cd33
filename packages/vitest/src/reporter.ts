/**
 * The perfprofile reporter (main process): progress while benchmarks are profiled
 * (progress.ts), then index.json and merged.pb.gz, the summary table and where the files are.
 * On SIGINT/SIGTERM it writes what finished and stops the workers. picocolors decides color
 * (NO_COLOR, FORCE_COLOR, non-TTY).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import { byText, groupDigits } from '@perfprofile/core';
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import { IndexWriteError, readRunning, writeOutput, type IndexFile, type MissingBenchmark, type RunEnd, type RunningBenchmark } from './output.js';
import { Progress } from './progress.js';
import { inPlaceSurface, windowSurface } from './live.js';
import type { BenchmarkRecord } from './protocol.js';
import type { ResolvedSettings } from './settings.js';
import { isWriteError, writeFailureReason, type ReportedWriteError } from './writefail.js';

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
  // Why this source (event=auto's choice, a fallback) when it is not simply what was asked.
  const why = /as configured$/.test(cfg.reason) ? '' : ` — ${cfg.reason}`;
  out.push(c.bold(' perfprofile ') + c.dim(`event=${cfg.event} ${rateText} source=${cfg.source}${includesProfiler ? ' baseline=off' : ''}${why}`));
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
  for (const e of index.errors ?? []) out.push(c.red(e));
  if (index.interrupted) out.push(c.red(`interrupted by ${index.interrupted}: the profiles above finished before it`));
  if (!index.complete) out.push(c.red('incomplete: not every selected benchmark finished (index.json complete=false)'));
  const where = options.outLabel ?? '.';
  // Something go tool pprof reads: the merged profile, else the first benchmark's.
  const example = index.merged ?? index.benchmarks[0]?.profile;
  const tryIt = example ? ` — try: go tool pprof -top ${path.join(where, example)}` : '';
  out.push(`profiles: ${c.cyan(where + path.sep)} (${index.benchmarks.length} per-benchmark .pb.gz${index.merged ? ', merged.pb.gz' : ''}, index.json)${tryIt}`);
  return out;
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

/** Why a benchmark that was running when `sig` arrived left no profile. */
export function interruptedReason(b: RunningBenchmark, sig: string): string {
  if (b.phase !== 'profiled') return `interrupted by ${sig} in its ${b.phase} pass, before it was profiled`;
  return `interrupted by ${sig} while profiled${b.samples === undefined ? '' : ` (${b.samples} samples taken, profile not written)`}`;
}

/** The workers' write errors Vitest reported for a module, its suites and its tests, one per message. */
function writeErrorsOf(m: TestModule): ReportedWriteError[] {
  const errors = [...m.errors()];
  for (const suite of m.children.allSuites()) errors.push(...suite.errors());
  for (const test of m.children.allTests()) errors.push(...(test.result().errors ?? []));
  const byMessage = new Map<string, ReportedWriteError>();
  for (const e of errors) if (isWriteError(e) && !byMessage.has(e.message)) byMessage.set(e.message, e);
  return [...byMessage.values()];
}

/** The reason line of a write error, e.g. `no space left on <dir> (ENOSPC): ...`. */
function reasonOf(e: ReportedWriteError): string {
  return e.reason ?? e.message;
}

/**
 * The benchmarks whose files a test's own write errors were for: under Vitest 5 a test whose
 * provider run threw reports no benchmark, so without these the benchmark whose write failed
 * would be in neither `benchmarks` nor `missing`.
 */
function writeFailedBenchmarks(test: TestCase): string[] {
  const names: string[] = [];
  for (const e of test.result().errors ?? []) if (isWriteError(e) && typeof e.benchmark === 'string') names.push(e.benchmark);
  return names;
}

/**
 * Why `fullName` left no profile, if a write in its worker failed: its own write (marker,
 * profile or record), else one before it, after which the worker profiled nothing more.
 */
function failedWrite(failed: readonly ReportedWriteError[], fullName: string): string | undefined {
  const own = failed.find((e) => e.benchmark === fullName);
  if (own !== undefined) return `profile not written: ${reasonOf(own)}`;
  if (failed.length) return `not profiled after an earlier write failed: ${reasonOf(failed[0])}`;
  return undefined;
}

export class PerfprofileReporter implements Reporter {
  private vitest: Vitest | undefined;
  private progress: Progress | undefined;
  private finished = false;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();

  constructor(private readonly settings: () => ResolvedSettings | undefined) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    const s = this.settings();
    if (!s) return;
    // On a terminal, a live line in Vitest's summary window or rewritten in place; plain logs
    // get start/end lines. (Reporters before this one, Vitest's own, have had their onInit.)
    const reporters = (vitest as unknown as { reporters?: readonly unknown[] }).reporters ?? [];
    const live = process.stdout.isTTY ? (windowSurface(reporters) ?? inPlaceSurface(process.stdout)) : undefined;
    this.progress = new Progress({ out: s.out, live, print: (text) => vitest.logger.log(text) });
    this.progress.start();
    this.installSignalHandlers();
  }

  private log(text: string): void {
    if (this.progress) this.progress.log(text);
    else process.stdout.write(`${text}\n`);
  }

  private relative(moduleId: string): string {
    return path.relative(this.vitest!.config.root, moduleId).split(path.sep).join('/');
  }

  private key(file: string, fullName: string): string {
    return `${file}\u0000${fullName}`;
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: string): Promise<void> {
    const s = this.settings();
    if (!s || !this.vitest || !this.progress) return;
    if (this.finished) return;
    this.finished = true;
    this.removeSignalHandlers();
    const records = this.progress.poll();
    this.progress.stop();
    // Order as Vitest ran them; every selected benchmark must have a passed record.
    const order = new Map<string, number>();
    const missing: MissingBenchmark[] = [];
    let complete = reason === 'passed' && unhandledErrors.length === 0;
    // Writes to the output directory that failed in the workers (full disk...): one per worker at most.
    const writeFailures: ReportedWriteError[] = [];
    let unprofiled = 0;
    for (const m of testModules) {
      const file = this.relative(m.moduleId);
      const failed = writeErrorsOf(m);
      writeFailures.push(...failed);
      for (const t of m.children.allTests()) {
        if (t.options.mode !== 'run') continue;
        for (const fullName of new Set([...this.benchmarksOf(t), ...writeFailedBenchmarks(t)])) {
          const key = this.key(file, fullName);
          order.set(key, order.size);
          const r = records.find((x) => this.key(x.file, x.fullName) === key);
          if (!r) {
            const writeReason = failedWrite(failed, fullName);
            if (writeReason !== undefined) {
              unprofiled++;
              missing.push({ file, fullName, reason: writeReason });
              complete = false;
              continue;
            }
            const error = t.result().errors?.[0]?.message ?? (unhandledErrors[0] as Error | undefined)?.message;
            missing.push({ file, fullName, reason: `no profile was written: ${error ?? 'its worker ended before the benchmark finished'}` });
          }
          if (!r || r.status !== 'passed') complete = false;
        }
      }
    }
    if (records.some((r) => r.status !== 'passed')) complete = false;
    const written = this.report(s, this.ordered(records, order), { complete, missing });
    // One line on stderr for the condition (Vitest has shown each worker's error with its benchmark).
    const first = writeFailures.map(reasonOf)[0];
    if (first !== undefined && written) {
      process.stderr.write(`perfprofile: ${first} (${unprofiled} benchmark${unprofiled === 1 ? '' : 's'} not profiled; index.json lists them under "missing")\n`);
    }
  }

  /** Full names of the benchmarks `test` ran, as their records name them (Vitest 4: the test itself is one). */
  protected benchmarksOf(test: TestCase): readonly string[] {
    return [test.fullName];
  }

  /** Records in the order Vitest ran their benchmarks (unknown ones last, by id). */
  private ordered(records: readonly BenchmarkRecord[], order: ReadonlyMap<string, number>): BenchmarkRecord[] {
    const rank = (r: BenchmarkRecord) => order.get(this.key(r.file, r.fullName)) ?? Number.MAX_SAFE_INTEGER;
    return [...records].sort((a, b) => rank(a) - rank(b) || byText(a.id, b.id));
  }

  /**
   * Writes index.json and merged.pb.gz and prints the summary. Returns false when index.json
   * could not be written: that is said in one line on stderr and the exit code made non-zero.
   */
  private report(s: ResolvedSettings, records: readonly BenchmarkRecord[], end: RunEnd): boolean {
    let index: IndexFile;
    let failure: string | undefined;
    try {
      index = writeOutput(s, records, end, this.vitest?.version ?? '');
    } catch (e) {
      if (!(e instanceof IndexWriteError)) throw e;
      index = e.index;
      failure = e.reason;
    }
    const rel = path.relative(process.cwd(), s.out) || '.';
    this.log('');
    for (const l of summaryTable(index, { outLabel: rel.startsWith('..') ? s.out : rel })) this.log(l);
    if (failure === undefined) return true;
    const lost = index.missing.length;
    process.stderr.write(`perfprofile: could not write index.json: ${failure}${lost ? ` (${lost} benchmark${lost === 1 ? '' : 's'} left no profile)` : ''}\n`);
    process.exitCode = 1;
    return false;
  }

  // ---- SIGINT / SIGTERM: keep what finished, say what did not, stop the workers ----------------

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
    if (!s || !this.progress || this.finished) process.exit(code);
    this.finished = true;
    try {
      const records = this.progress.poll();
      this.progress.stop();
      const missing: MissingBenchmark[] = readRunning(s.out).map((b) => ({ file: b.file, fullName: b.fullName, reason: interruptedReason(b, sig) }));
      this.log(pc.yellow(`perfprofile: ${sig}: writing the ${records.length} finished profile${records.length === 1 ? '' : 's'} and index.json (complete: false)`));
      this.report(s, this.ordered(records, new Map()), { complete: false, missing, interrupted: sig });
    } catch (e) {
      process.stderr.write(`perfprofile: could not write index.json after ${sig}: ${writeFailureReason(s.out, e)}\n`);
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
