/**
 * Worker setup shared by the Vitest 4 runner and the Vitest 5 provider: V8 flag, settings, source maps, identities.
 *
 * runner.ts and provider-v5.ts import this as a worker loads them, before any benchmark module
 * is compiled. It imports nothing of core, so a worker of a run that does not profile never
 * loads the profiler. The profiler itself (benchprofile.ts) starts following code events when it
 * is constructed, once per worker.
 */
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { callbackSite, type CallbackSite, type CodeLookup } from './names.js';
import { PROVIDE_KEY, type WorkerSettings } from './protocol.js';
import { benchId } from './slug.js';
import type { MapLookup, RawSourceMap } from './sourcemaps.js';

// Optimized code compiled before a profile starts (after warm-up, always) carries no inlining
// positions unless V8 records them from the start: without this, samples in inlined functions
// land on their caller.
setFlagsFromString('--detailed-line-info');

/** A benchmark as the worker knows it. */
export interface BenchmarkIdentity {
  readonly id: string;
  /** Relative to the project root. */
  readonly file: string;
  readonly name: string;
  readonly fullName: string;
  /** Where its callback is, when it is anonymous: its frame is named after the benchmark. */
  readonly callback?: CallbackSite;
}

/** Vitest's graph of the modules a worker evaluated, as far as source maps are read from it. */
export interface EvaluatedModulesLike {
  getModulesByFile(file: string): Set<{ id: string; meta?: { code?: string } }> | undefined;
  getModuleSourceMapById(id: string): { map?: RawSourceMap } | null;
}

/** Vitest's worker state (`globalThis.__vitest_worker__`, Vitest 4 and 5), as far as this reads it. */
interface WorkerStateLike {
  providedContext?: Record<string, unknown>;
  evaluatedModules?: EvaluatedModulesLike;
}

function workerState(): WorkerStateLike | undefined {
  return (globalThis as { __vitest_worker__?: WorkerStateLike }).__vitest_worker__;
}

/**
 * The settings the plugin provided to this worker (what Vitest's `inject()` returns, read
 * without importing `vitest`); undefined when this run does not profile.
 */
export function providedSettings(): WorkerSettings | undefined {
  return workerState()?.providedContext?.[PROVIDE_KEY] as WorkerSettings | undefined;
}

/** The worker state's module graph. */
export function workerModules(): EvaluatedModulesLike | undefined {
  return workerState()?.evaluatedModules;
}

/** Looks a transformed module's source map up in the graph `modules()` returns at the time of the lookup. */
export function sourceMapLookup(modules: () => EvaluatedModulesLike | undefined): MapLookup {
  return (file) => {
    const graph = modules();
    for (const node of graph?.getModulesByFile(file) ?? []) {
      const decoded = graph!.getModuleSourceMapById(node.id);
      if (decoded?.map) return decoded.map;
    }
    return undefined;
  };
}

/** Looks a transformed module's code up in the graph `modules()` returns at the time of the lookup. */
export function codeLookup(modules: () => EvaluatedModulesLike | undefined): CodeLookup {
  return (file) => {
    for (const node of modules()?.getModulesByFile(file) ?? [])
      if (typeof node.meta?.code === 'string') return node.meta.code;
    return undefined;
  };
}

/**
 * The identity of the benchmark named `names` (suite path first, its own name last) in the test
 * file `filepath`; `taken` holds the ids already given in this worker and receives this one;
 * `fn` is its callback.
 */
export function benchmarkIdentity(
  root: string,
  filepath: string,
  names: readonly string[],
  taken: Set<string>,
  fn?: unknown,
): BenchmarkIdentity {
  const file = path.relative(root, filepath).split(path.sep).join('/');
  const name = names[names.length - 1];
  const callback = callbackSite(fn, name);
  return {
    id: benchId(file, names, taken),
    file,
    name,
    fullName: names.join(' > '),
    ...(callback ? { callback } : {}),
  };
}
