/**
 * The Vitest 4 worker side: a NodeBenchmarkRunner that adds a profiled pass to each benchmark.
 *
 * Its tinybench Task runs, per benchmark, Vitest's warm-up and measured pass as usual
 * (unprofiled when baseline=on) and then a profiled pass with the same time/iterations options.
 * baseline=off profiles the measured pass instead. Set as `test.runner` by the plugin only in
 * benchmark mode; default export as Vitest requires.
 */
import { BenchmarkRunner as NodeBenchmarkRunner, TestRunner } from 'vitest';
import type { RunnerTestCase, RunnerTestFile, RunnerTestSuite } from 'vitest';
import type { CPUProfile } from '@perfprofile/core';
import type { BenchmarkProfiler } from './benchprofile.js';
import type { Census, CensusKind, Censuses, MeasuredMemory } from './memprofile.js';
import { passStats, type PassStats } from './stats.js';
import {
  benchmarkIdentity,
  codeLookup,
  providedSettings,
  sourceMapLookup,
  workerModules,
  type BenchmarkIdentity,
  type EvaluatedModulesLike,
} from './worker-setup.js';

type Tinybench = Awaited<ReturnType<NodeBenchmarkRunner['importTinybench']>>;
type TinyTask = InstanceType<Tinybench['Task']>;
type LoopResult = { samples?: number[]; error?: unknown };
/** tinybench's Task.loop (private in its types): the timed iterations of one pass. */
type Loop = (time: number, iterations: number) => Promise<LoopResult>;
/** tinybench 2's task hooks, as far as the census wraps them. */
type TaskHooks = {
  beforeAll?: (this: unknown) => unknown;
  afterAll?: (this: unknown) => unknown;
  [key: string]: unknown;
};

const AsyncFunction = (async () => {}).constructor;

/** What the Task subclass needs from the runner. */
interface TaskHost {
  readonly profiler: BenchmarkProfiler;
  readonly baseline: boolean;
  identify(fn: unknown, name: string): BenchmarkIdentity | undefined;
}

function resultStats(task: TinyTask): PassStats | undefined {
  const r = task.result;
  if (!r || r.error || !(r.hz > 0)) return undefined;
  return { hz: r.hz, rme: r.rme, runs: task.runs };
}

/** Tinybench's Task with the profiled pass added; built per tinybench instance. */
function profilingTask(Task: Tinybench['Task'], host: TaskHost): Tinybench['Task'] {
  return class ProfilingTask extends Task {
    private readonly identity: BenchmarkIdentity | undefined;
    /** tinybench's own loop, unwrapped. */
    private readonly timedLoop: Loop;
    /**
     * Which pass the next loop is: measured (per-op counters and GCs counted) or profiled (per-op
     * counters only); undefined for a loop that is not counted.
     */
    private countNextLoop: 'measured' | 'profiled' | undefined;
    private counted: Record<string, number> = {};
    private measuredMemory: MeasuredMemory | undefined;

    constructor(...args: ConstructorParameters<Tinybench['Task']>) {
      super(...args);
      this.identity = host.identify(args[2], args[1]);
      const self = this as unknown as { loop: Loop };
      this.timedLoop = self.loop.bind(this);
      // tinybench's run() calls this.loop between its setup and teardown hooks; the counters
      // are opened and closed around that loop only, once per pass, not per iteration.
      self.loop = (time, iterations) =>
        this.countNextLoop ? this.countedLoop(time, iterations) : this.timedLoop(time, iterations);
    }

    private async countedLoop(time: number, iterations: number): Promise<LoopResult> {
      const pass = this.countNextLoop;
      this.countNextLoop = undefined;
      const memory = pass === 'measured' ? host.profiler.measureMemory() : undefined;
      const count = host.profiler.countPerOp();
      let ops = 0;
      try {
        const result = await this.timedLoop(time, iterations);
        ops = result.samples?.length ?? 0;
        return result;
      } finally {
        this.counted = count(ops);
        if (memory) this.measuredMemory = memory()(ops);
      }
    }

    /**
     * The censuses after the measured pass (memprofile.ts): per kind, a few more ops through
     * tinybench's own loop and hooks, every allocation taken between the user's beforeAll and
     * afterAll. tinybench calls a function that is not `async` once more, inside that window,
     * to see whether it returns a promise: those calls are ops + 1. A census that does not
     * complete is left out; its errors are not the benchmark's (its measured pass had none).
     */
    private async censuses(stats: PassStats | undefined): Promise<Censuses> {
      const t0 = performance.now();
      const out: { -readonly [K in CensusKind]?: Census } = {};
      const plan = host.profiler.censusPlan(this.measuredMemory, stats?.hz, stats?.runs);
      for (const kind of plan.ops > 0 ? host.profiler.censusKinds() : []) {
        const census = await this.census(kind, plan.ops);
        if (census) out[kind] = census;
      }
      return { ...out, ms: performance.now() - t0, ...(plan.skipped ? { skipped: plan.skipped } : {}) };
    }

    private async census(kind: CensusKind, iterations: number): Promise<Census | undefined> {
      const self = this as unknown as { opts: TaskHooks; fn: unknown };
      const user = self.opts;
      let close: ReturnType<BenchmarkProfiler['startCensus']> | undefined;
      let closed: ((ops: number, calls?: number) => Census) | undefined;
      self.opts = {
        ...user,
        async beforeAll(this: unknown) {
          await user.beforeAll?.call(this);
          close = host.profiler.startCensus(kind);
        },
        async afterAll(this: unknown) {
          closed = close?.();
          await user.afterAll?.call(this);
        },
      };
      try {
        await this.bench.setup(this, 'run');
        const outcome = await this.timedLoop(0, iterations);
        this.bench.teardown(this, 'run');
        const ops = outcome.samples?.length ?? 0;
        if (outcome.error !== undefined || !closed || ops === 0) return undefined;
        return closed(ops, ops + ((self.fn as { constructor?: unknown })?.constructor === AsyncFunction ? 0 : 1));
      } catch {
        return undefined;
      } finally {
        close?.(); // a loop that threw before afterAll leaves the sampler running
        self.opts = user;
      }
    }

    /**
     * Whether this benchmark is profiled: decided at its warm-up. Not once a write to the output
     * directory has failed in this worker (a full disk stays full): it then runs as in plain Vitest.
     */
    private profiling: boolean | undefined;

    override async warmup(): Promise<void> {
      this.profiling ??= this.identity !== undefined && host.profiler.failure === undefined;
      if (this.identity && this.profiling) {
        try {
          host.profiler.enter(this.identity, 'warm-up');
        } catch {
          // Kept as host.profiler.failure; run() reports it as this benchmark's error.
        }
      }
      await super.warmup();
    }

    /** Vitest's measured pass (tinybench's run()), with its loop counted. */
    private async measuredRun(): Promise<Record<string, number>> {
      this.countNextLoop = 'measured';
      this.counted = {};
      this.measuredMemory = undefined;
      try {
        await super.run();
      } finally {
        this.countNextLoop = undefined;
      }
      return this.counted;
    }

    override async run(): Promise<this> {
      const bench = this.identity;
      this.profiling ??= bench !== undefined && host.profiler.failure === undefined;
      if (!bench || !this.profiling) return super.run();
      // Never reject: Vitest 4 awaits run() inside a timer callback, where a rejection is lost
      // and the suite waits for this benchmark forever. Any failure of the profiler's own (a
      // write to the output directory) becomes this benchmark's error, as tinybench reports one.
      try {
        await this.profiledRun(bench);
      } catch (e) {
        host.profiler.abandon(bench);
        this.reportError(e);
      }
      return this;
    }

    /** Vitest's measured pass and the profiled one (the same pass with baseline=off); throws what the profiler could not write. */
    private async profiledRun(bench: BenchmarkIdentity): Promise<void> {
      // The warm-up's marker could not be written: Vitest's pass only, then its error.
      const failure = host.profiler.failure;
      if (failure) {
        await super.run();
        throw failure;
      }
      // tinybench keeps a warm-up error in the result and then skips run() without an 'error'
      // event, so plain Vitest 4 shows such a benchmark as NaN and exits 0. Here it is profiled
      // like any failure (its profiled pass usually fails too, leaving a partial profile) and
      // reported to Vitest below, so the run fails as it should.
      const warmupError = this.result?.error;
      if (!host.baseline) {
        // The measured pass is the profiled one: Vitest's table includes the profiler.
        let profile: CPUProfile;
        try {
          profile = host.profiler.start(bench);
        } catch (e) {
          await super.run();
          throw e;
        }
        let counters: Record<string, number> = {};
        let census: Censuses | undefined;
        try {
          counters = await this.measuredRun();
          // tinybench's run() did nothing after a failed warm-up: profile one pass here (the
          // warm-up error is the one reported).
          if (warmupError !== undefined) await this.extraPass();
          else if (this.result?.error === undefined) {
            host.profiler.settle(profile);
            census = await this.censuses(resultStats(this));
          }
        } finally {
          host.profiler.finish(
            bench,
            profile,
            {
              profiled: resultStats(this),
              counters,
              profiledCounters: counters,
              measured: this.measuredMemory,
              census,
            },
            this.result?.error,
          );
        }
        if (warmupError !== undefined) this.reportError(warmupError);
        return;
      }
      // The measured pass, unprofiled; the per-op counters are read here.
      let markerError: unknown;
      try {
        host.profiler.enter(bench, 'measured');
      } catch (e) {
        markerError = e;
      }
      const counters = await this.measuredRun();
      if (markerError !== undefined) throw markerError;
      const baseline = resultStats(this);
      const measuredError = this.result?.error;
      const measured = this.measuredMemory;
      const census =
        measuredError === undefined && warmupError === undefined ? await this.censuses(baseline) : undefined;
      // The profiled pass.
      let outcome: LoopResult = {};
      const profile = host.profiler.start(bench);
      try {
        this.countNextLoop = 'profiled';
        this.counted = {};
        outcome = await this.extraPass();
      } finally {
        this.countNextLoop = undefined;
        const error = measuredError ?? outcome.error;
        host.profiler.finish(
          bench,
          profile,
          {
            baseline,
            counters,
            measured,
            census,
            profiled: outcome.samples ? passStats(outcome.samples) : undefined,
            profiledCounters: this.counted,
          },
          error,
        );
      }
      if (warmupError !== undefined) this.reportError(warmupError);
      else if (outcome.error !== undefined && measuredError === undefined) this.reportError(outcome.error);
    }

    /**
     * One pass with the measured pass's options, outside tinybench's run(): its hooks and loop,
     * never throwing (an error in a hook or the loop comes back in the result). Vitest's result
     * and events stay those of the measured pass.
     */
    private async extraPass(): Promise<LoopResult> {
      try {
        await this.bench.setup(this, 'run');
        // Through the wrapped loop: counted when countNextLoop says so.
        const outcome = await (this as unknown as { loop: Loop }).loop(this.bench.time, this.bench.iterations);
        this.bench.teardown(this, 'run');
        return outcome;
      } catch (e) {
        return { error: e };
      }
    }

    /** Vitest's error for this benchmark, the way tinybench reports one from its run(). */
    private reportError(error: unknown): void {
      if (this.result?.error !== error) this.setResult({ error });
      this.dispatchEvent(Object.assign(new Event('error'), { task: this }));
    }
  };
}

export default class PerfprofileBenchmarkRunner extends NodeBenchmarkRunner {
  private host: (TaskHost & { pending: Map<unknown, BenchmarkIdentity[]> }) | undefined;
  private readonly taken = new Set<string>();

  private readonly settings = providedSettings;

  /**
   * The profiler's module (core and the native addon with it), imported on first need rather
   * than with this runner: see importFile.
   */
  private profilerModule: Promise<typeof import('./benchprofile.js')> | undefined;
  private loaded: typeof import('./benchprofile.js') | undefined;

  /** Loads the profiler's module when this run profiles (settings were provided); else undefined. */
  private async loadProfiler(): Promise<void> {
    if (this.loaded || !this.settings()) return;
    this.profilerModule ??= import('./benchprofile.js');
    this.loaded = await this.profilerModule;
  }

  /** The worker's profiler, set up once; undefined when this run does not profile. Needs loadProfiler() first. */
  private ensureHost(): NonNullable<PerfprofileBenchmarkRunner['host']> | undefined {
    if (this.host) return this.host;
    const settings = this.settings();
    if (!settings || !this.loaded) return undefined;
    const modules = () =>
      (this as unknown as { moduleRunner?: { evaluatedModules?: EvaluatedModulesLike } }).moduleRunner
        ?.evaluatedModules ?? workerModules();
    const pending = new Map<unknown, BenchmarkIdentity[]>();
    this.host = {
      profiler: new this.loaded.BenchmarkProfiler(settings, sourceMapLookup(modules), codeLookup(modules)),
      baseline: settings.baseline,
      pending,
      identify(fn, name) {
        const queue = pending.get(fn);
        const i = queue?.findIndex((b) => b.name === name) ?? -1;
        return i >= 0 ? queue!.splice(i, 1)[0] : undefined;
      },
    };
    return this.host;
  }

  /**
   * Loads and sets up the profiler (core, the addon, following code events) while the main
   * process transforms the benchmark file this worker waits for, rather than before or after:
   * the worker would be idle then (figures: docs/PERFORMANCE.md). The file's request is out
   * before the first setImmediate. A setup error here is left to runSuite/importTinybench, which
   * report it as before.
   */
  override importFile(filepath: string, source: Parameters<NodeBenchmarkRunner['importFile']>[1]): Promise<unknown> {
    const imported = Promise.resolve(super.importFile(filepath, source));
    if (this.host || source !== 'collect' || !this.settings()) return imported;
    // Handled here too: its rejection may come while the setup below runs, before the caller awaits it.
    imported.catch(() => {});
    return new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.loadProfiler())
      .then(
        () => {
          try {
            this.ensureHost();
          } catch {
            // Thrown again, and reported, where the host is first needed.
          }
        },
        () => {
          // The import failing is reported by loadProfiler's next caller.
        },
      )
      .then(() => imported);
  }

  override async importTinybench(): Promise<Tinybench> {
    const tinybench = await super.importTinybench();
    await this.loadProfiler();
    const host = this.ensureHost();
    if (!host) return tinybench;
    return { ...tinybench, Task: profilingTask(tinybench.Task, host) };
  }

  override async runSuite(suite: RunnerTestSuite): Promise<void> {
    await this.loadProfiler();
    const host = this.ensureHost();
    if (host) this.register(suite, host);
    await super.runSuite(suite);
  }

  /** Maps each benchmark function to its identity, so the Task tinybench builds can find it. */
  private register(suite: RunnerTestSuite, host: NonNullable<PerfprofileBenchmarkRunner['host']>): void {
    const root = host.profiler.settings.root;
    const walk = (s: RunnerTestSuite, names: string[]) => {
      for (const t of s.tasks) {
        if (t.type === 'suite') walk(t, [...names, t.name]);
        else if (t.meta?.benchmark && (t.mode === 'run' || t.mode === 'queued')) {
          const fn = TestRunner.getBenchFn(t as RunnerTestCase);
          const identity = benchmarkIdentity(
            root,
            (t.file as RunnerTestFile).filepath,
            [...names, t.name],
            this.taken,
            fn,
          );
          const q = host.pending.get(fn) ?? [];
          q.push(identity);
          host.pending.set(fn, q);
        }
      }
    };
    walk(suite, suite.type === 'suite' && 'filepath' in suite ? [] : [suite.name]);
  }
}
