/**
 * The Vitest 5 worker side: a benchmark provider that adds perfprofile's passes around the project's own.
 *
 * A benchmark provider (`benchmark.provider`, Vitest's experimental API) that wraps the
 * project's own provider, or, when the project has none, one that runs tinybench as Vitest's
 * built-in provider does. For every provider run — `bench(...).run()` and `bench.compare(...)`
 * alike — it adds perfprofile's passes around the wrapped provider:
 *
 *   baseline=on:  the wrapped provider runs the group as usual (warm-up, then the measured
 *                 phase that Vitest reports, unprofiled; per-op counters are read in each
 *                 registration's measured phase), then each registration runs once more through
 *                 the same provider without warm-up, profiled.
 *   baseline=off: each registration runs on its own through the wrapped provider, profiled from
 *                 its measured phase on; Vitest reports these (profiled) results.
 *
 * Phases are told apart by the registration hooks the provider calls (`beforeAll(mode)` /
 * `afterAll(mode)`, mode `warmup` or `run`, as tinybench calls them). A provider that never
 * calls them still gets profiles (from the start of its run) but no per-op counters.
 *
 * Nothing here imports `vitest`: the module is loaded by Vitest's module runner, and the
 * settings come from the worker state (worker-setup.ts, as `inject()` reads them).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { CPUProfile } from '@perfprofile/core';
import { BenchmarkProfiler, perOp } from './benchprofile.js';
import type { Census, CensusKind, Censuses, MeasuredMemory } from './memprofile.js';
import { registrationPath } from './names-v5.js';
import type { WorkerSettings } from './protocol.js';
import type { PassStats } from './stats.js';
import {
  benchmarkIdentity,
  codeLookup,
  providedSettings,
  sourceMapLookup,
  workerModules,
  type BenchmarkIdentity,
} from './worker-setup.js';

/** tinybench's task hook: `mode` is the phase (`warmup` or `run`). */
type Hook = (this: unknown, mode?: string) => unknown;

/** A registration as Vitest 5 hands it to a provider (`BenchRegistrationInput`). */
export interface Registration {
  readonly name: string;
  readonly fn: (...args: unknown[]) => unknown;
  readonly fnOpts?: { beforeAll?: Hook; afterAll?: Hook; [key: string]: unknown };
}

/** The part of Vitest 5's `BenchmarkGroup` this provider uses. */
export interface Group {
  readonly test: {
    readonly fullTestName: string;
    readonly file: { readonly filepath: string };
    readonly context?: { readonly signal?: AbortSignal };
  };
  readonly config?: { readonly retainSamples?: boolean; readonly [key: string]: unknown };
  readonly registrations: readonly Registration[];
  readonly options?: Record<string, unknown>;
}

/** The part of Vitest 5's `BenchResult` (tinybench task statistics) this provider reads. */
export interface Result {
  readonly name: string;
  readonly latency?: { readonly rme?: number; readonly samplesCount?: number };
  readonly throughput?: { readonly mean?: number };
}

/** Vitest 5's `BenchmarkProvider`. */
export interface Provider {
  run(group: Group): Promise<Result[]>;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/**
 * The registration with its `beforeAll`/`afterAll` hooks wrapped: `onRun` runs after the user's
 * `beforeAll` of the measured phase, `onRunEnd` before the user's `afterAll` of it. Everything
 * else (fn, other options, `this`) is passed through, so the provider measures the same thing.
 */
function withPhaseHooks(reg: Registration, onRun: () => void, onRunEnd: () => void): Registration {
  const user = reg.fnOpts ?? {};
  const measured = (mode: string | undefined) => mode === undefined || mode === 'run';
  return {
    ...reg,
    fnOpts: {
      ...user,
      beforeAll(this: unknown, mode?: string) {
        const r = user.beforeAll?.call(this, mode);
        if (!measured(mode)) return r;
        if (isPromise(r)) return r.then(onRun);
        onRun();
        return r;
      },
      afterAll(this: unknown, mode?: string) {
        if (measured(mode)) onRunEnd();
        return user.afterAll?.call(this, mode);
      },
    },
  };
}

/** A provider's result as the stats of its pass; undefined without a throughput. */
function statsOfResult(r: Result | undefined): PassStats | undefined {
  const hz = r?.throughput?.mean;
  if (!r || !(hz !== undefined && hz > 0)) return undefined;
  return { hz, rme: r.latency?.rme ?? 0, runs: r.latency?.samplesCount ?? 0 };
}

/**
 * A provider equivalent to Vitest 5's built-in one: one tinybench `Bench` per group, with the
 * test's abort signal, the project's `retainSamples`, the caller's run options and
 * `performance.now`; errors thrown as Vitest throws them. tinybench is Vitest's own copy.
 */
export function tinybenchProvider(): Provider {
  let bench: Promise<{ Bench: new (options: Record<string, unknown>) => TinyBench }> | undefined;
  return {
    async run(group) {
      bench ??= import(pathToFileURL(tinybenchEntry(group.test.file.filepath)).href);
      const { Bench } = await bench;
      const b = new Bench({
        signal: group.test.context?.signal,
        name: group.test.fullTestName,
        retainSamples: group.config?.retainSamples,
        ...group.options,
        now: () => performance.now(),
      });
      for (const reg of group.registrations) b.add(reg.name, reg.fn, reg.fnOpts);
      await b.run();
      const errors = b.tasks.filter((t) => t.result.state === 'errored').map((t) => t.result.error);
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'Some benchmarks failed');
      return b.tasks.map((t) => {
        if (t.result.state !== 'completed')
          throw new Error(`task "${t.name}" did not complete: received "${t.result.state}"`);
        return { ...(t.result as object), name: t.name } as Result;
      });
    },
  };
}

interface TinyBench {
  add(name: string, fn: Registration['fn'], opts?: Registration['fnOpts']): void;
  run(): Promise<unknown>;
  tasks: { name: string; result: { state: string; error?: unknown } }[];
}

/** tinybench as the Vitest of the project that `file` belongs to resolves it. */
function tinybenchEntry(file: string): string {
  const vitestPkg = createRequire(file).resolve('vitest/package.json');
  return createRequire(vitestPkg).resolve('tinybench');
}

interface Host {
  readonly settings: WorkerSettings;
  readonly profiler: BenchmarkProfiler;
  readonly taken: Set<string>;
}

let host: Host | null | undefined;

function ensureHost(): Host | undefined {
  if (host !== undefined) return host ?? undefined;
  const settings = providedSettings();
  if (!settings) {
    host = null;
    return undefined;
  }
  // Before the first warm-up (the profiler starts following code events as it is constructed).
  host = {
    settings,
    profiler: new BenchmarkProfiler(settings, sourceMapLookup(workerModules), codeLookup(workerModules)),
    taken: new Set(),
  };
  return host;
}

/**
 * The censuses of one registration after its measured phase (memprofile.ts): per kind, a few
 * more ops through the same provider, every allocation taken between its `beforeAll('run')` and
 * `afterAll('run')`. As many warm-up ops go first, outside the window: the hooked registration
 * is a new shape to tinybench's loop, and ops that run the benchmark's code unoptimized
 * allocate more (an allocation memento per object literal). A census that does not complete
 * (or a provider that reports no phases) is left out; its errors are not the benchmark's.
 */
async function censuses(
  h: Host,
  inner: Provider,
  group: Group,
  reg: Registration,
  stats: PassStats | undefined,
  measured: MeasuredMemory | undefined,
): Promise<Censuses> {
  const t0 = performance.now();
  const out: { -readonly [K in CensusKind]?: Census } = {};
  const plan = h.profiler.censusPlan(measured, stats?.hz, stats?.runs);
  const iterations = plan.ops;
  for (const kind of iterations > 0 ? h.profiler.censusKinds() : []) {
    let close: ReturnType<BenchmarkProfiler['startCensus']> | undefined;
    let closed: ((ops: number) => Census) | undefined;
    const hooked = withPhaseHooks(
      reg,
      () => {
        close = h.profiler.startCensus(kind);
      },
      () => {
        closed = close?.();
      },
    );
    try {
      const options = {
        ...group.options,
        warmup: true,
        warmupTime: 0,
        warmupIterations: iterations,
        time: 0,
        iterations,
      };
      const ops =
        (await inner.run({ ...group, registrations: [hooked], options })).find((r) => r.name === reg.name)?.latency
          ?.samplesCount ?? 0;
      if (closed && ops > 0) out[kind] = closed(ops);
    } catch {
      // Left out (above).
    } finally {
      close?.(); // a run that threw before afterAll leaves the sampler running
    }
  }
  return { ...out, ms: performance.now() - t0, ...(plan.skipped ? { skipped: plan.skipped } : {}) };
}

function identify(h: Host, group: Group, reg: Registration): BenchmarkIdentity {
  return benchmarkIdentity(
    h.settings.root,
    group.test.file.filepath,
    registrationPath(group.test.fullTestName, reg.name),
    h.taken,
    reg.fn,
  );
}

/**
 * baseline=on: the group as the wrapped provider runs it (Vitest's results), counters per
 * registration; then a profiled pass of each registration, even when the group failed, so a
 * failing benchmark still leaves its partial profile.
 */
async function measureThenProfile(h: Host, inner: Provider, group: Group): Promise<Result[]> {
  const totals = new Map<string, Record<string, number>>();
  const counting = new Map<string, () => Record<string, number>>();
  const memory = new Map<string, ReturnType<BenchmarkProfiler['measureMemory']>>();
  // Registrations whose measured phase ended (a throwing benchmark never reaches afterAll).
  const completed = new Set<string>();
  const registrations = group.registrations.map((reg) =>
    withPhaseHooks(
      reg,
      () => {
        memory.set(reg.name, h.profiler.measureMemory());
        counting.set(reg.name, h.profiler.countTotals());
      },
      () => {
        completed.add(reg.name);
        const stop = counting.get(reg.name);
        counting.delete(reg.name);
        if (stop) totals.set(reg.name, stop());
        memory.get(reg.name)?.(); // closed here; divided by the ops once the result is in
      },
    ),
  );
  let measured: Result[] | undefined;
  let measuredError: unknown;
  try {
    measured = await inner.run({ ...group, registrations });
  } catch (e) {
    measuredError = e ?? new Error('benchmark failed');
  } finally {
    for (const stop of counting.values()) stop(); // a phase that threw before its afterAll
    for (const close of memory.values()) close();
  }
  // A write to the output directory that failed (full disk...): thrown after the group, as its
  // error; the registrations after it are not profiled (Vitest's results stand).
  let writeError: unknown;
  for (const reg of group.registrations) {
    if (h.profiler.failure) break;
    const bench = identify(h, group, reg);
    const base = measured?.find((r) => r.name === reg.name);
    const ops = base?.latency?.samplesCount;
    const measuredMemory = ops ? memory.get(reg.name)?.()(ops) : undefined;
    const allocs =
      base && completed.has(reg.name)
        ? await censuses(h, inner, group, reg, statsOfResult(base), measuredMemory)
        : undefined;
    let profile: CPUProfile;
    try {
      profile = h.profiler.start(bench);
    } catch (e) {
      h.profiler.abandon(bench);
      writeError = e;
      break;
    }
    let profiled: Result | undefined;
    let error: unknown;
    let count: (() => Record<string, number>) | undefined;
    let profiledTotals: Record<string, number> | undefined;
    const counted = withPhaseHooks(
      reg,
      () => {
        count = h.profiler.countTotals();
      },
      () => {
        profiledTotals = count?.();
        count = undefined;
      },
    );
    try {
      profiled = (
        await inner.run({ ...group, registrations: [counted], options: { ...group.options, warmup: false } })
      ).find((r) => r.name === reg.name);
    } catch (e) {
      error = e ?? new Error('benchmark failed');
    } finally {
      count?.(); // a phase that threw before its afterAll
    }
    // The group's error belongs to the registrations that did not finish their measured phase.
    if (error === undefined && !base && !completed.has(reg.name) && measuredError !== undefined) error = measuredError;
    try {
      h.profiler.finish(
        bench,
        profile,
        {
          baseline: statsOfResult(base),
          profiled: statsOfResult(profiled),
          counters: perOp(totals.get(reg.name), ops),
          profiledCounters: perOp(profiledTotals, profiled?.latency?.samplesCount),
          measured: measuredMemory,
          census: allocs,
        },
        error,
      );
    } catch (e) {
      writeError = e;
      break;
    }
  }
  if (measuredError !== undefined) throw measuredError;
  if (writeError !== undefined) throw writeError;
  return measured!;
}

/**
 * baseline=off: each registration on its own through the wrapped provider, profiled from its
 * measured phase (a profile started at the provider run's start is restarted there, so the
 * warm-up is left out when the provider reports phases).
 */
async function profileMeasured(h: Host, inner: Provider, group: Group): Promise<Result[]> {
  const out: Result[] = [];
  let firstError: unknown;
  for (const reg of group.registrations) {
    if (h.profiler.failure) {
      // A write to the output directory failed (full disk...): the rest runs unprofiled.
      try {
        const result = (await inner.run({ ...group, registrations: [reg] })).find((r) => r.name === reg.name);
        if (result) out.push(result);
      } catch (e) {
        firstError ??= e ?? new Error('benchmark failed');
      }
      continue;
    }
    const bench = identify(h, group, reg);
    let profile: CPUProfile = h.profiler.start(bench);
    let count: (() => Record<string, number>) | undefined;
    let totals: Record<string, number> | undefined;
    let memory: ReturnType<BenchmarkProfiler['measureMemory']> | undefined;
    const hooked = withPhaseHooks(
      reg,
      () => {
        profile.stop(); // the warm-up part is dropped
        profile = h.profiler.start(bench);
        memory = h.profiler.measureMemory();
        count = h.profiler.countTotals();
      },
      () => {
        totals = count?.();
        count = undefined;
        memory?.();
      },
    );
    let result: Result | undefined;
    let error: unknown;
    try {
      result = (await inner.run({ ...group, registrations: [hooked] })).find((r) => r.name === reg.name);
    } catch (e) {
      error = e ?? new Error('benchmark failed');
      firstError ??= error;
    } finally {
      count?.();
      memory?.(); // a phase that threw before its afterAll
    }
    const ops = result?.latency?.samplesCount;
    const measured = ops ? memory?.()(ops) : undefined;
    let allocs: Censuses | undefined;
    if (result && error === undefined) {
      h.profiler.settle(profile);
      allocs = await censuses(h, inner, group, reg, statsOfResult(result), measured);
    }
    // One pass: its counters are the profiled pass's too.
    const counters = perOp(totals, ops);
    try {
      h.profiler.finish(
        bench,
        profile,
        { profiled: statsOfResult(result), counters, profiledCounters: counters, measured, census: allocs },
        error,
      );
    } catch (e) {
      firstError ??= e;
    }
    if (result) out.push(result);
  }
  if (firstError !== undefined) throw firstError;
  return out;
}

/**
 * The profiling provider around `inner` (the project's own provider, or tinybench as Vitest
 * runs it). Outside a perfprofile run (no settings provided) it is `inner` unchanged.
 */
export function wrapProvider(inner: Provider = tinybenchProvider()): Provider {
  if (typeof inner?.run !== 'function')
    throw new Error("vitest-perfprofile: the project's benchmark.provider has no run() to wrap");
  return {
    run(group) {
      const h = ensureHost();
      if (!h) return inner.run(group);
      return h.settings.baseline ? measureThenProfile(h, inner, group) : profileMeasured(h, inner, group);
    },
  };
}

/** What `benchmark.provider` names when the project has no provider of its own. */
export default wrapProvider();
