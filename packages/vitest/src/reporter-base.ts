/**
 * The reporter's work for every Vitest major: progress, then index.json, merged.pb.gz and the summary.
 *
 * Main process. While benchmarks run it shows a live line on a terminal (progress.ts) and
 * prints nothing: Vitest prints its tables as suites end, and a line of ours could only land
 * among them. At the end of the run it matches the records workers left against the
 * benchmarks Vitest ran (which ones a test ran is the subclass's to say: reporter-v4.ts,
 * reporter-v5.ts), writes the output and prints the summary after Vitest's own end of run; on
 * SIGINT/SIGTERM it writes what finished (interrupt.ts).
 */
import path from 'node:path';
import pc from 'picocolors';
import { byText } from '@perfprofile/core';
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import { interruptedReason, exitCodeOf, onInterrupt, stopWorkersAndExit } from './interrupt.js';
import {
  IndexWriteError,
  readRecords,
  readRunning,
  writeOutput,
  type IndexFile,
  type MissingBenchmark,
  type RunEnd,
} from './output.js';
import { LiveProgress } from './progress.js';
import { inPlaceSurface, windowSurface } from './live.js';
import type { BenchmarkRecord } from './protocol.js';
import type { ResolvedSettings } from './settings.js';
import { summaryTable } from './summary.js';
import { isWriteError, writeFailureReason, type ReportedWriteError } from './writefail.js';

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
  for (const e of test.result().errors ?? [])
    if (isWriteError(e) && typeof e.benchmark === 'string') names.push(e.benchmark);
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

export abstract class PerfprofileReporterBase implements Reporter {
  private vitest: Vitest | undefined;
  /** Set from onInit when this run profiles. */
  private active = false;
  /** The live line, on a terminal only. */
  private progress: LiveProgress | undefined;
  private finished = false;
  /** Removes the SIGINT/SIGTERM handlers. */
  private stopListening: (() => void) | undefined;

  constructor(private readonly settings: () => ResolvedSettings | undefined) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    const s = this.settings();
    if (!s) return;
    this.active = true;
    // A terminal gets the live line: in Vitest's summary window when it draws one, else kept
    // below the output on the terminal (stderr too, when it is the terminal). (Reporters before
    // this one, Vitest's own, have had their onInit.)
    if (process.stdout.isTTY) {
      const reporters = (vitest as unknown as { reporters?: readonly unknown[] }).reporters ?? [];
      const surface =
        windowSurface(reporters) ?? inPlaceSurface(process.stdout, process.stderr.isTTY ? [process.stderr] : []);
      this.progress = new LiveProgress(s.out, surface, () => process.stdout.columns || 80);
      this.progress.start();
    }
    this.stopListening = onInterrupt((sig) => this.onSignal(sig));
  }

  private log(text: string): void {
    this.vitest!.logger.log(text);
  }

  private relative(moduleId: string): string {
    return path.relative(this.vitest!.config.root, moduleId).split(path.sep).join('/');
  }

  private key(file: string, fullName: string): string {
    return `${file}\u0000${fullName}`;
  }

  async onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: string,
  ): Promise<void> {
    const s = this.settings();
    if (!s || !this.vitest || !this.active) return;
    if (this.finished) return;
    this.finished = true;
    this.stopListening?.();
    this.progress?.stop();
    const records = readRecords(s.out);
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
            missing.push({
              file,
              fullName,
              reason: `no profile was written: ${error ?? 'its worker ended before the benchmark finished'}`,
            });
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
      process.stderr.write(
        `perfprofile: ${first} (${unprofiled} benchmark${unprofiled === 1 ? '' : 's'} not profiled; index.json lists them under "missing")\n`,
      );
    }
  }

  /** Full names of the benchmarks `test` ran, as their records name them. */
  protected abstract benchmarksOf(test: TestCase): readonly string[];

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
    process.stderr.write(
      `perfprofile: could not write index.json: ${failure}${lost ? ` (${lost} benchmark${lost === 1 ? '' : 's'} left no profile)` : ''}\n`,
    );
    process.exitCode = 1;
    return false;
  }

  /** SIGINT/SIGTERM: keep what finished, say what did not, stop the workers. */
  private onSignal(sig: NodeJS.Signals): void {
    const s = this.settings();
    if (!s || !this.active || this.finished) process.exit(exitCodeOf(sig));
    this.finished = true;
    try {
      this.progress?.stop();
      const records = readRecords(s.out);
      const missing: MissingBenchmark[] = readRunning(s.out).map((b) => ({
        file: b.file,
        fullName: b.fullName,
        reason: interruptedReason(b, sig),
      }));
      this.log(
        pc.yellow(
          `perfprofile: ${sig}: writing the ${records.length} finished profile${records.length === 1 ? '' : 's'} and index.json (complete: false)`,
        ),
      );
      this.report(s, this.ordered(records, new Map()), { complete: false, missing, interrupted: sig });
    } catch (e) {
      process.stderr.write(`perfprofile: could not write index.json after ${sig}: ${writeFailureReason(s.out, e)}\n`);
    }
    stopWorkersAndExit(this.vitest, sig);
  }
}
