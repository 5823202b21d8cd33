/**
 * Profiles one benchmark pass in a worker and writes its pprof and its record, for either Vitest major.
 *
 * Starts a CPUProfile with the harness-cutting, source-mapping transform; stops it whatever
 * happens; writes the benchmark's profile and the record the main process gathers.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  CPUProfile,
  createCounters,
  DEFAULT_DEPTH,
  encode,
  isProfileError,
  lookupEvent,
  parseConfig,
  topSelf,
  trackCode,
  writeAtomic,
  type EventSpec,
  type StopResult,
} from '@perfprofile/core';
import { benchmarkTransform, harnessMatcher, harnessShare } from './harness.js';
import { FrameNamer, type CodeLookup } from './names.js';
import {
  allocProfile,
  censusPlan,
  measureMemory,
  memoryFigures,
  startCensus,
  type CensusKind,
  type Censuses,
  type MeasuredMemory,
} from './memprofile.js';
import { SourceMapper, type MapLookup } from './sourcemaps.js';
import {
  progressFile,
  RECORDS_DIR,
  runningFile,
  type BenchmarkPhase,
  type BenchmarkRecord,
  type RunningMarker,
  type WorkerSettings,
} from './protocol.js';
import { overheadPct, type PassStats } from './stats.js';
import type { BenchmarkIdentity } from './worker-setup.js';
import { OutputWriteError, writeFailureReason } from './writefail.js';

export class BenchmarkProfiler {
  private readonly isHarness = harnessMatcher();
  private readonly mapper: SourceMapper;
  private readonly counterEvents: readonly EventSpec[];
  /**
   * The first write to the output directory that failed. From then on this worker profiles
   * nothing more (a full disk stays full): its later benchmarks run as in plain Vitest.
   */
  failure: OutputWriteError | undefined;
  /** alloc=on: an allocation profile per benchmark. */
  readonly alloc: boolean;
  private readonly depth: number;
  /** Profiles stopped before their record is written ({@link settle}). */
  private readonly settled = new WeakMap<CPUProfile, StopResult | undefined>();

  constructor(
    readonly settings: WorkerSettings,
    lookup: MapLookup,
    private readonly code: CodeLookup = () => undefined,
  ) {
    this.mapper = new SourceMapper(lookup);
    const config = parseConfig(settings.config);
    this.alloc = !isProfileError(config) && config.alloc;
    this.depth = isProfileError(config) ? DEFAULT_DEPTH : config.depth;
    this.counterEvents = settings.counters
      .map((name) => lookupEvent(name))
      .filter((e): e is EventSpec => e !== undefined);
    mkdirSync(path.join(settings.out, RECORDS_DIR), { recursive: true });
    // Before any warm-up: warm-up compiles the benchmark's hot code, OSR code among it, which V8
    // does not list when sampling starts; a native source that has followed code events since
    // now names it, rather than leaving its samples on the caller (often the anonymous
    // benchmark callback). No-op for event=v8.
    trackCode(settings.config);
  }

  /**
   * Marks `bench` as in `phase` (`<out>/.records/<id>.running`, removed by {@link finish}), so
   * the main process can show it live and, if the run is cut short, say where it was.
   */
  enter(bench: BenchmarkIdentity, phase: BenchmarkPhase): void {
    const marker: RunningMarker = { file: bench.file, fullName: bench.fullName, phase };
    this.write(runningFile(this.settings.out, bench.id), JSON.stringify(marker), 'the progress marker', bench);
  }

  /**
   * writeAtomic (no temp file left when it fails) of `bench`'s file `what`; a failure is kept in
   * {@link failure} and thrown as an {@link OutputWriteError} naming the directory and the errno.
   */
  private write(file: string, data: Uint8Array | string, what: string, bench: BenchmarkIdentity): void {
    try {
      writeAtomic(file, data);
    } catch (e) {
      const error = new OutputWriteError(
        `${what} of "${bench.fullName}"`,
        writeFailureReason(this.settings.out, e),
        e,
        bench.fullName,
      );
      this.failure ??= error;
      throw error;
    }
  }

  /** Best effort after a failure: the benchmark's marker and progress files, so the main process does not show it as running. */
  abandon(bench: BenchmarkIdentity): void {
    for (const f of [progressFile(this.settings.out, bench.id), runningFile(this.settings.out, bench.id)]) {
      try {
        rmSync(f, { force: true });
      } catch {
        // Nothing more to do.
      }
    }
  }

  /** A started profile for one benchmark's pass; stop it with {@link finish}. */
  start(bench: BenchmarkIdentity): CPUProfile {
    if (this.failure) throw this.failure;
    this.enter(bench, 'profiled');
    const profile = new CPUProfile(this.settings.config, {
      transform: benchmarkTransform(this.isHarness, this.mapper, new FrameNamer(this.code, bench.callback)),
      pathRoot: this.settings.root,
      labels: [{ key: 'benchmark', str: bench.fullName }],
      comments: [`vitest ${this.settings.vitestVersion}`, `benchmark ${bench.fullName} (${bench.file})`],
      progressFile: progressFile(this.settings.out, bench.id),
    });
    profile.start();
    return profile;
  }

  /** The stack transform of profiles: harness cut, source-mapped (allocation stacks too). */
  transform(): ReturnType<typeof benchmarkTransform> {
    return benchmarkTransform(this.isHarness, this.mapper);
  }

  /**
   * Stops `profile` now, ahead of {@link finish} (which then writes what it took): the census
   * that follows a profiled measured pass (baseline=off) must not be in it.
   */
  settle(profile: CPUProfile): void {
    if (!this.settled.has(profile)) this.settled.set(profile, profile.stop());
  }

  /**
   * Starts counting the per-op counters' events on this thread (the main process probed them);
   * the returned function stops and returns the totals by event name, or `{}` when nothing can
   * be counted here (no native engine, `counters=none`).
   */
  countTotals(): () => Record<string, number> {
    const counters = createCounters(this.counterEvents);
    if (!counters) return () => ({});
    counters.start();
    return () => counters.stop();
  }

  /** Opens the measured pass's GC window (memory figures); the returned function closes it with the pass's ops. */
  measureMemory(): ReturnType<typeof measureMemory> {
    return measureMemory();
  }

  /** How many ops an allocation census runs after a measured pass (memprofile.ts); 0 and why when none. */
  censusPlan(
    measured: MeasuredMemory | undefined,
    hz: number | undefined,
    ops: number | undefined,
  ): ReturnType<typeof censusPlan> {
    return censusPlan(
      { hz, ops, heapBytesPerOp: measured && measured.ops > 0 ? measured.totals.heapBytes / measured.ops : undefined },
      this.alloc,
    );
  }

  /** The censuses a benchmark gets: every allocation, and with alloc=on what stays in use. */
  censusKinds(): readonly CensusKind[] {
    return this.alloc ? ['alloc', 'inuse'] : ['alloc'];
  }

  /** Opens a census window (memprofile.ts `startCensus`). */
  startCensus(kind: CensusKind): ReturnType<typeof startCensus> {
    return startCensus(kind);
  }

  /** {@link countTotals} for a pass whose ops are known when it stops: the returned function divides by them ({@link perOp}). */
  countPerOp(): (ops: number) => Record<string, number> {
    const stop = this.countTotals();
    return (ops) => perOp(stop(), ops);
  }

  /**
   * Stops the profile (a no-op when already stopped), writes `<out>/<id>.pb.gz` and the record.
   * Called on success and on failure alike, so a failing benchmark still leaves its partial profile.
   * The profile is stopped first, whatever happens after; a failed write throws an
   * {@link OutputWriteError} and leaves neither a temp file nor a profile without its record.
   */
  finish(
    bench: BenchmarkIdentity,
    profile: CPUProfile,
    passes: {
      baseline?: PassStats;
      profiled?: PassStats;
      counters?: Record<string, number>;
      /** The same counters over the profiled pass (with baseline=off, the measured pass). */
      profiledCounters?: Record<string, number>;
      measured?: MeasuredMemory;
      census?: Censuses;
    },
    error?: unknown,
  ): BenchmarkRecord | undefined {
    this.settle(profile);
    const result = this.settled.get(profile);
    this.abandon(bench);
    if (!result) return undefined;
    const { stats } = result;
    const file = `${bench.id}.pb.gz`;
    const allocFile = this.alloc ? `${bench.id}.alloc.pb.gz` : undefined;
    const transform = this.transform();
    this.write(path.join(this.settings.out, file), encode(result.profile), 'the profile', bench);
    if (allocFile) {
      const labels = [{ key: 'benchmark', str: bench.fullName }];
      const comments = [
        `vitest ${this.settings.vitestVersion}`,
        `benchmark ${bench.fullName} (${bench.file})`,
        `node ${process.version}`,
      ];
      const alloc = allocProfile(passes.census?.alloc, passes.census?.inuse, {
        transform,
        root: this.settings.root,
        labels,
        comments,
        depth: this.depth,
      });
      try {
        this.write(path.join(this.settings.out, allocFile), encode(alloc), 'the allocation profile', bench);
      } catch (e) {
        rmSync(path.join(this.settings.out, file), { force: true });
        throw e;
      }
    }
    const hzBaseline = passes.baseline ? round(passes.baseline.hz) : null;
    const hzProfiled = passes.profiled ? round(passes.profiled.hz) : null;
    const sampleType = result.profile.sampleTypes[1] ?? result.profile.sampleTypes[0];
    const record: BenchmarkRecord = {
      id: bench.id,
      file: bench.file,
      name: bench.name,
      fullName: bench.fullName,
      profile: file,
      samples: stats.samples,
      lost: stats.lost,
      durationMs: round(stats.durationNanos / 1e6),
      hz: { baseline: hzBaseline, profiled: hzProfiled },
      rme: {
        baseline: passes.baseline ? round(passes.baseline.rme) : null,
        profiled: passes.profiled ? round(passes.profiled.rme) : null,
      },
      overheadPct: overheadPct(hzBaseline, hzProfiled),
      counters: passes.counters ?? {},
      profiledCounters: passes.profiledCounters ?? {},
      memory: memoryFigures(transform, passes.measured, passes.census),
      ...(allocFile ? { allocProfile: allocFile } : {}),
      top: topSelf(result.profile, 5),
      harnessPct: harnessShare(result.profile),
      status: error === undefined ? 'passed' : 'failed',
      ...(error === undefined ? {} : { error: errorText(error) }),
      run: {
        event: stats.event,
        rate: stats.rate,
        period: stats.period,
        source: stats.source,
        reason: stats.reason,
        warnings: stats.warnings,
        sampleType: `${sampleType.type}/${sampleType.unit}`,
      },
    };
    try {
      this.write(
        path.join(this.settings.out, RECORDS_DIR, `${bench.id}.json`),
        JSON.stringify(record),
        'the record',
        bench,
      );
    } catch (e) {
      // Without its record the main process cannot list the profile: remove it (and free its space).
      rmSync(path.join(this.settings.out, file), { force: true });
      if (allocFile) rmSync(path.join(this.settings.out, allocFile), { force: true });
      throw e;
    }
    return record;
  }
}

/**
 * Per-op counters from event totals over `ops` operations: `{ "task-clock/op": ns, ... }`, or
 * `{}` when there are no totals or no op ran.
 */
export function perOp(
  totals: Readonly<Record<string, number>> | undefined,
  ops: number | undefined,
): Record<string, number> {
  if (!totals || !(ops !== undefined && ops > 0)) return {};
  return Object.fromEntries(Object.entries(totals).map(([name, total]) => [`${name}/op`, significant(total / ops)]));
}

/** Four significant digits: per-op counters span ns to billions. */
function significant(n: number): number {
  return n === 0 ? 0 : Number(n.toPrecision(4));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
