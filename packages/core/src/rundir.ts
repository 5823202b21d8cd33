/**
 * The output directory of `vitest-perf bench --perfprofile <dir>`: index.json's schema (written
 * by the Vitest plugin, read by the CLI), and its reader. Fields are only ever added; a reader
 * ignores the ones it does not know.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { decode } from './decode.js';
import { ProfileError } from './errors.js';
import type { DecodeOptions } from './inflate.js';
import type { Profile } from './model.js';

/** One benchmark as index.json lists it. */
export interface IndexBenchmark {
  readonly id: string;
  /** Test file, relative to the project root. */
  readonly file: string;
  readonly name: string;
  /** Suite path and name joined with " > ", as Vitest prints it. */
  readonly fullName: string;
  /** Profile file name, relative to the output directory. */
  readonly profile: string;
  readonly samples: number;
  readonly lost: number;
  readonly durationMs: number;
  readonly hz: { readonly baseline: number | null; readonly profiled: number | null };
  /** Relative margins of error (%) of the two passes, for the ± of overheadPct. */
  readonly rme: { readonly baseline: number | null; readonly profiled: number | null };
  /** Throughput lost to the profiler, in percent of the baseline; null without a baseline. */
  readonly overheadPct: number | null;
  /** Per-op counters by name (`task-clock/op`), over the measured pass. */
  readonly counters: Record<string, number>;
  /**
   * The same counters over the profiled pass, which runs after the measured pass and the census
   * (absent in runs written before it existed).
   */
  readonly profiledCounters?: Record<string, number>;
  readonly top: readonly { function: string; file: string; line: number; selfPct: number }[];
  /** Share of samples (%) wholly in Vitest/tinybench code, folded into one `(harness)` frame. */
  readonly harnessPct: number;
  readonly status: 'passed' | 'failed';
  readonly error?: string;
  /** Memory per op (absent in runs written before it existed). */
  readonly memory?: MemoryFigures;
  /** Allocation profile file name, relative to the output directory (alloc=on). */
  readonly allocProfile?: string;
}

/**
 * A benchmark's memory per op, as `go test -benchmem` reports it and more. A figure that could
 * not be measured (no op ran, the pass failed) is null.
 */
export interface MemoryFigures {
  /** JS heap bytes the benchmark's own code allocated per op: every allocation of the census's ops, harness excluded. */
  readonly bytesPerOp: number | null;
  /** External bytes allocated per op (ArrayBuffer backing stores, external strings), census ops. */
  readonly externalBytesPerOp: number | null;
  /** Objects the benchmark's own code allocated per op (V8 allocations; folded allocations count once). */
  readonly allocsPerOp: number | null;
  /** Standard error of allocsPerOp: the heap sampler's own plus the census count's as a Poisson count. */
  readonly allocsPerOpStdErr: number | null;
  /** Main-thread GC pause time per op of the measured pass. */
  readonly gcNanosPerOp: number | null;
  /** Collections (scavenges, mark-compacts) per op of the measured pass. */
  readonly gcCountPerOp: number | null;
  /** JS heap per op of the measured pass as V8 counts it: the harness's allocations and page-end filler included. */
  readonly heapBytesPerOp?: number | null;
  /**
   * Ops of the allocation census behind bytesPerOp, externalBytesPerOp and allocsPerOp; 0 when
   * there was none (then a heavy benchmark's bytesPerOp is heapBytesPerOp).
   */
  readonly censusOps?: number;
  /** Wall time the census (and with alloc=on the in-use census) took, GC at its stop included. */
  readonly censusMs?: number;
  /**
   * Why there was no census: `short-pass` (Vitest's measured pass took under 100 ms, less than
   * the census's GC) or `heavy` (over ~9.6 MB of heap per op).
   */
  readonly censusSkipped?: string;
}

/** A selected benchmark that left no profile (worker killed, run interrupted), and why. */
export interface MissingBenchmark {
  readonly file: string;
  readonly fullName: string;
  readonly reason: string;
}

/** index.json, schema 1 (DESIGN.md "Vitest integration"). */
export interface IndexFile {
  readonly schema: 1;
  readonly config: {
    readonly text: string;
    readonly event: string;
    readonly events: readonly string[];
    readonly rate: number;
    readonly period: number;
    readonly source: string;
    readonly reason: string;
    readonly baseline: boolean;
    readonly warnings: readonly string[];
    /** alloc=on: an allocation profile per benchmark. */
    readonly alloc?: boolean;
    /** How heapBytesPerOp is counted on this Node: V8's own counter or GC accounting. */
    readonly heapCounter?: string;
  };
  readonly node: string;
  readonly vitest: string;
  readonly complete: boolean;
  /** Set when the run was cut short by a signal: `SIGINT` or `SIGTERM`. */
  readonly interrupted?: string;
  readonly benchmarks: readonly IndexBenchmark[];
  readonly missing: readonly MissingBenchmark[];
  readonly merged: string | null;
  /** All allocation profiles merged (alloc=on), each sample labeled with its benchmark; absent otherwise. */
  readonly mergedAlloc?: string | null;
  /** Output files that could not be written (merged.pb.gz on a full disk), one line each; absent when none. */
  readonly errors?: readonly string[];
  /**
   * More runs of the same benchmarks in fresh processes (`vitest-perf --perfprofile-runs N`):
   * sub-directories of this one, each an output directory itself (`run-2`, … `run-N`); absent
   * for a single run. Directories not listed here are not part of the set.
   */
  readonly repeats?: readonly string[];
}

export interface RunDir {
  readonly dir: string;
  readonly complete: boolean;
  /** The resolved profiler settings of the run (older indexes may lack some). */
  readonly config?: IndexFile['config'];
  readonly benchmarks: readonly IndexBenchmark[];
  /** index.json's `repeats`: sub-directories holding more runs of the same suite. */
  readonly repeats: readonly string[];
  /** Decodes one benchmark's profile (relative to the directory). */
  load(b: IndexBenchmark): Profile;
  /** Decodes one benchmark's allocation profile; ERR_INPUT when it has none (a run without alloc=on). */
  loadAlloc(b: IndexBenchmark): Profile;
}

const REMEDY = 'pass a directory written by vitest-perf bench --perfprofile <dir>';

/** True when `p` is a directory holding an index.json. */
export function isRunDir(p: string): boolean {
  try {
    return statSync(p).isDirectory() && existsSync(path.join(p, 'index.json'));
  } catch {
    return false;
  }
}

/**
 * A directory's index.json; ERR_INPUT when it is missing, not JSON, or not schema 1 with a
 * benchmark list. Nothing else is checked: older runs may lack fields added since.
 */
export function readIndex(dir: string): IndexFile {
  const file = path.join(dir, 'index.json');
  let index: Partial<IndexFile>;
  try {
    index = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileError(
      'ERR_INPUT',
      code === 'ENOENT' ? `${dir} has no index.json` : `${file} is not valid JSON`,
      REMEDY,
    );
  }
  if (index.schema !== 1 || !Array.isArray(index.benchmarks)) {
    throw new ProfileError(
      'ERR_INPUT',
      `${file} is not a perfprofile index (schema ${JSON.stringify(index.schema)})`,
      REMEDY,
    );
  }
  return index as IndexFile;
}

/** Reads a vitest-perfprofile output directory; ERR_INPUT when it is not one. */
export function readRunDir(dir: string, options: DecodeOptions = {}): RunDir {
  const index = readIndex(dir);
  const file = path.join(dir, 'index.json');
  return {
    dir,
    complete: index.complete === true,
    config: index.config,
    benchmarks: index.benchmarks,
    repeats: Array.isArray(index.repeats) ? index.repeats.filter((r) => typeof r === 'string') : [],
    load(b) {
      return loadListed(b.profile);
    },
    loadAlloc(b) {
      if (typeof b.allocProfile !== 'string')
        throw new ProfileError(
          'ERR_INPUT',
          `${file} lists no allocation profile for ${JSON.stringify(b.fullName)}`,
          'run the benchmarks with --perfprofileconfig alloc=on',
        );
      return loadListed(b.allocProfile);
    },
  };

  function loadListed(name: string): Profile {
    if (name.includes('/') || name.includes('\\'))
      throw new ProfileError(
        'ERR_INPUT',
        `${file} names profile ${JSON.stringify(name)} outside the directory`,
        'the index is damaged; run the benchmarks again',
      );
    const p = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(p);
    } catch {
      throw new ProfileError(
        'ERR_INPUT',
        `${p} is missing (listed in index.json)`,
        'the directory is incomplete; run the benchmarks again',
      );
    }
    return decode(bytes, options, p);
  }
}

/** Benchmarks of two runs matched by id, and those only one side has. */
export function matchBenchmarks(
  base: RunDir,
  head: RunDir,
): { pairs: [IndexBenchmark, IndexBenchmark][]; onlyBase: IndexBenchmark[]; onlyHead: IndexBenchmark[] } {
  const heads = new Map(head.benchmarks.map((b) => [b.id, b]));
  const pairs: [IndexBenchmark, IndexBenchmark][] = [];
  const onlyBase: IndexBenchmark[] = [];
  for (const b of base.benchmarks) {
    const h = heads.get(b.id);
    if (h) {
      pairs.push([b, h]);
      heads.delete(b.id);
    } else onlyBase.push(b);
  }
  return { pairs, onlyBase, onlyHead: [...heads.values()] };
}

/**
 * A directory and the repeats its index.json lists (`--perfprofile-runs`): every run of the set,
 * the directory itself first. ERR_INPUT when a listed repeat is missing or not a sub-directory.
 */
export function readRunSet(dir: string, options: DecodeOptions = {}): RunDir[] {
  const first = readRunDir(dir, options);
  return [
    first,
    ...first.repeats.map((r) => {
      if (!/^[\w.-]+$/.test(r) || r === '.' || r === '..')
        throw new ProfileError(
          'ERR_INPUT',
          `${path.join(dir, 'index.json')} lists repeat ${JSON.stringify(r)}, not a sub-directory`,
          'the index is damaged; run the benchmarks again',
        );
      const sub = path.join(dir, r);
      if (!isRunDir(sub))
        throw new ProfileError(
          'ERR_INPUT',
          `${sub} is missing (listed in ${path.join(dir, 'index.json')} as a repeat)`,
          'the directory is incomplete; run the benchmarks again',
        );
      return readRunDir(sub, options);
    }),
  ];
}
