/**
 * Progress while the benchmarks run (main process). Workers cannot report during a benchmark
 * (a synchronous loop holds their event loop), so this reads what they leave in
 * `<out>/.records/`: a marker per started benchmark, the sample count the native engine's
 * helper thread rewrites every 250 ms, and a record per finished profile. Same files in the
 * forks and threads pools. On a terminal: one live line, rewritten in place (live.ts), and a
 * line per written profile. On plain logs: one line when a benchmark's profiled pass starts
 * and one when its profile is written.
 */
import pc from 'picocolors';
import { readRecords, readRunning } from './output.js';
import type { BenchmarkRecord } from './protocol.js';
import type { LiveSurface } from './live.js';

/** How often the main process looks at the records directory (4 Hz). */
export const POLL_MS = 250;

/**
 * The live line: each benchmark in its profiled pass and its samples so far; undefined when
 * none is (warm-up and measured passes are Vitest's to show).
 */
export function liveLine(out: string): string | undefined {
  const parts = readRunning(out)
    .filter((b) => b.phase === 'profiled')
    .map((b) => `${b.fullName}: ${b.samples === undefined ? '…' : `${b.samples} samples so far`}`);
  return parts.length ? `perfprofile: profiling ${parts.join(', ')}` : undefined;
}

const key = (file: string, fullName: string) => `${file}\u0000${fullName}`;

export interface ProgressOptions {
  /** The output directory the workers write to. */
  readonly out: string;
  /** Where to keep the live line (a terminal); without one, start/end lines are printed. */
  readonly live?: LiveSurface;
  /** Prints one line. */
  readonly print: (text: string) => void;
}

export class Progress {
  private readonly announced = new Set<string>();
  private readonly done = new Set<string>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProgressOptions) {}

  /** Polls every {@link POLL_MS} until {@link stop}; does not keep the process alive. */
  start(): void {
    this.ticker ??= setInterval(() => this.poll(), POLL_MS).unref();
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.options.live?.show(undefined);
  }

  /** Prints `text` as a line of its own, never onto the live line. */
  log(text: string): void {
    this.options.live?.clear();
    this.options.print(text);
  }

  /**
   * A benchmark's profiled pass has begun: seen from its marker (or, for a pass shorter than a
   * poll, its record). Not from Vitest's result: a worker whose output directory failed runs
   * its later benchmarks unprofiled, and Vitest cannot tell those apart.
   */
  private profiling(file: string, fullName: string): void {
    const k = key(file, fullName);
    if (this.options.live || this.announced.has(k) || this.done.has(k)) return;
    this.announced.add(k);
    this.log(pc.dim(`perfprofile: profiling ${fullName} …`));
  }

  /** Shows what changed since the last look; returns every record written so far. */
  poll(): BenchmarkRecord[] {
    const { out, live } = this.options;
    if (!live) for (const b of readRunning(out)) if (b.phase === 'profiled') this.profiling(b.file, b.fullName);
    const records = readRecords(out);
    for (const r of records) {
      const k = key(r.file, r.fullName);
      if (this.done.has(k)) continue;
      // A pass shorter than a poll left no marker to see: its start line comes with its end.
      if (!live) this.profiling(r.file, r.fullName);
      this.done.add(k);
      const status = r.status === 'failed' ? pc.red(' (failed: partial profile)') : '';
      this.log(pc.dim(`perfprofile: ${r.fullName}: ${r.samples} samples in ${(r.durationMs / 1000).toFixed(2)} s${status}`));
    }
    if (live) {
      const line = liveLine(out);
      live.show(line === undefined ? undefined : pc.dim(line));
    }
    return records;
  }
}
