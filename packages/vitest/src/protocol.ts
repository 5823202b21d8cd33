/**
 * What the main process hands to workers and what workers leave behind for it.
 *
 * Workers write each benchmark's profile and a small record file next to it; the main process
 * (reporter) gathers the records into index.json and merged.pb.gz. Files, not messages: they
 * work the same in the forks and threads pools and survive a worker that dies.
 */

import type { IndexBenchmark, MemoryFigures } from '@perfprofile/core';

/** The resolved settings every worker receives (through Vitest's `provide`). */
export interface WorkerSettings {
  /** Absolute output directory. */
  readonly out: string;
  /** Canonical config text (formatConfig of the parsed config). */
  readonly config: string;
  readonly baseline: boolean;
  /** Project root: profile paths are written relative to it. */
  readonly root: string;
  readonly vitestVersion: string;
  /** Perf events counted per op during the measured pass (already probed; may be empty). */
  readonly counters: readonly string[];
}

/** The key under which {@link WorkerSettings} are provided to workers. */
export const PROVIDE_KEY = '__perfprofile';

/** The directory (under `out`) where workers leave one record per benchmark. */
export const RECORDS_DIR = '.records';

/** The sample count of a benchmark being profiled, rewritten by the native engine (250 ms). */
export function progressFile(out: string, id: string): string {
  return `${out}/${RECORDS_DIR}/${id}.progress`;
}

/** The {@link RunningMarker} of a benchmark that has started and not finished (removed when it ends). */
export function runningFile(out: string, id: string): string {
  return `${out}/${RECORDS_DIR}/${id}.running`;
}

/** Where a benchmark is: Vitest's warm-up, Vitest's measured pass, or the profiled pass. */
export type BenchmarkPhase = 'warm-up' | 'measured' | 'profiled';

/** The content of a running file. */
export interface RunningMarker {
  readonly file: string;
  readonly fullName: string;
  readonly phase: BenchmarkPhase;
}

/** One benchmark as index.json lists it, plus what the main process needs from its worker. */
export interface BenchmarkRecord extends IndexBenchmark {
  /** Memory per op: the measured pass's GCs, the census's bytes and objects (always written here). */
  readonly memory: MemoryFigures;
  /** The resolved run, repeated per record so the main process needs no probe of its own. */
  readonly run: {
    event: string;
    rate: number;
    period: number;
    source: string;
    reason: string;
    warnings: readonly string[];
    sampleType: string;
  };
}
