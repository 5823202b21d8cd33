/**
 * A benchmark's memory, in a worker, for either Vitest major: GC callbacks around Vitest's
 * measured pass, then an allocation census; the figures per op and, with alloc=on, the
 * allocation profile (a second census, of what stays in use).
 *
 * Why a census: V8's counts of the measured pass (its own counter, or GC accounting) include
 * the harness's allocations (tinybench allocates ~500–600 B per op itself: promises, its
 * sample array, clock readings) and the filler V8 leaves at new-space page ends (+1–3% for
 * 8 KiB objects, +30% for 64 KiB ones). And V8's sampling heap profiler, at any interval larger
 * than the objects, records each sample's size as roughly the interval, not the object's: its
 * own scaled estimates then read ~1.5× high (docs/PERFORMANCE.md, "Memory per benchmark"). At interval 1 B
 * it takes every allocation at its true size. So the benchmark's own bytes and objects come
 * from a few more ops run the same way, through the same harness, with every allocation taken
 * and its stack telling the benchmark's from the harness's. The measured pass itself only
 * carries GC callbacks, which allocate nothing on the JS heap.
 */
import {
  allocTotals,
  buildAllocProfile,
  heapSamples,
  startHeapSampling,
  startMemoryWindow,
  type HeapSample,
  type HeapSampling,
  type MemoryFigures,
  type MemoryTotals,
  type Profile,
  type SourceFrame,
} from '@perfprofile/core';
import { HARNESS_FRAME } from './harness.js';

/** Census length: at most this many ops, and about this many seconds of the measured pass's ops. */
export const CENSUS_MAX_OPS = 200;
export const CENSUS_SECONDS = 0.02;
/** Samples a census aims to stay under (~5–10 µs each here), counting ≥ 48 B per object. */
export const CENSUS_MAX_SAMPLES = 50_000;
const MIN_OBJECT_BYTES = 48;
/**
 * Beyond this many heap bytes per op even one op exceeds the census's budget fourfold: the
 * census is skipped (unless alloc=on asks for the profile) and bytesPerOp is V8's count of the
 * measured pass, where the harness's ~0.5 KB per op is below 0.01%.
 */
export const CENSUS_HEAVY_BYTES = 4 * CENSUS_MAX_SAMPLES * MIN_OBJECT_BYTES;
/**
 * A census ends in a full GC (see startCensus): tens of ms. Below this measured pass, that would
 * cost more than the pass itself; such a benchmark gets no census (unless alloc=on).
 */
export const CENSUS_MIN_PASS_MS = 100;

/** Why a benchmark got no census: its measured pass was too short to pay for one, or it allocates too much per op. */
export type CensusSkipped = 'short-pass' | 'heavy';

type Transform = (frames: readonly SourceFrame[]) => readonly SourceFrame[] | null;

/** The measured pass's GC window, closed: its totals and ops. */
export interface MeasuredMemory {
  readonly totals: MemoryTotals;
  readonly ops: number;
}

/** A finished census: what was sampled, the external bytes, and how many calls of the benchmark it covered. */
export interface Census {
  readonly sampling: HeapSampling;
  readonly totals: MemoryTotals;
  /** Ops the harness reported. */
  readonly ops: number;
  /** Calls of the benchmark function in the window: ops, plus any the harness makes on its own (tinybench 2's async probe). */
  readonly calls: number;
}

/** A census's kind: every allocation (`alloc`), or what of it is still in use after a full GC (`inuse`, alloc=on). */
export type CensusKind = 'alloc' | 'inuse';

/** A benchmark's censuses, and the wall time they took (their ops, hooks, and the GC each stop runs). */
export interface Censuses {
  readonly alloc?: Census;
  readonly inuse?: Census;
  readonly ms: number;
  readonly skipped?: CensusSkipped;
}

/** How many ops a census runs, from the measured pass (its ops/s, ops and heap bytes per op); 0 and why when none. */
export function censusPlan(
  measured: { hz: number | undefined; ops: number | undefined; heapBytesPerOp: number | undefined },
  alloc: boolean,
): { ops: number; skipped?: CensusSkipped } {
  const hz = measured.hz !== undefined && measured.hz > 0 ? measured.hz : 1;
  const bytes = measured.heapBytesPerOp ?? 0;
  if (!alloc && measured.ops !== undefined && (measured.ops / hz) * 1000 < CENSUS_MIN_PASS_MS)
    return { ops: 0, skipped: 'short-pass' };
  if (!alloc && bytes > CENSUS_HEAVY_BYTES) return { ops: 0, skipped: 'heavy' };
  const bySamples = bytes > 0 ? Math.floor((CENSUS_MAX_SAMPLES * MIN_OBJECT_BYTES) / bytes) : CENSUS_MAX_OPS;
  return { ops: Math.max(1, Math.min(CENSUS_MAX_OPS, Math.floor(hz * CENSUS_SECONDS), bySamples)) };
}

/** True for a census sample the benchmark's own code allocated: a JS frame left once the harness is cut. */
export function isBenchmarkSample(transform: Transform, s: HeapSample): boolean {
  const kept = transform(s.frames);
  if (!kept || kept.length === 0) return false;
  if (kept.length === 1 && kept[0].name === HARNESS_FRAME) return false;
  return kept.some((f) => f.kind === 'js');
}

/**
 * Opens the measured pass's GC window. Close it where the pass ends (`close()`), then give the
 * pass's ops (known only once the harness reports them); undefined without GC callbacks.
 */
export function measureMemory(): () => (ops: number) => MeasuredMemory | undefined {
  const stop = startMemoryWindow();
  let totals: MemoryTotals | undefined;
  let closed = false;
  return () => {
    if (!closed) {
      closed = true;
      totals = stop?.();
    }
    return (ops) => (totals ? { totals, ops } : undefined);
  };
}

const NO_TOTALS: MemoryTotals = {
  heapBytes: 0,
  externalBytes: 0,
  gcCount: 0,
  gcNanos: 0,
  heapCounter: 'gc-accounting',
};

/**
 * Opens a census window: V8's heap sampler takes every allocation (interval 1 B); an `alloc`
 * census keeps collected objects and counts external memory exactly, an `inuse` one keeps only
 * what the full GC at its close leaves. Close it where the measured phase ends (`close()`), then
 * give the ops the harness reported and the calls of the benchmark in the window (more when
 * the harness calls it once more on its own). Closing twice is harmless.
 */
export function startCensus(kind: CensusKind): () => (ops: number, calls?: number) => Census {
  const stopWindow = kind === 'alloc' ? startMemoryWindow({ exactExternal: true }) : undefined;
  let stopSampling: () => HeapSampling;
  try {
    stopSampling = startHeapSampling(1, kind === 'alloc');
  } catch (e) {
    stopWindow?.();
    throw e;
  }
  let closed: { sampling: HeapSampling; totals: MemoryTotals } | undefined;
  return () => {
    // Stopping an inuse census runs two full GCs (core startHeapSampling): what it keeps is live.
    closed ??= { sampling: stopSampling(), totals: stopWindow?.() ?? NO_TOTALS };
    const done = closed;
    return (ops, calls = ops) => ({ ...done, ops, calls });
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const significant = (n: number, digits: number) => (n === 0 ? 0 : Number(n.toPrecision(digits)));

/**
 * Standard error of a census's object count: the heap sampler's own (its variance; 0 when it
 * took every allocation) plus the count's as a Poisson count (√N): N allocations in a few ops
 * stand for all the benchmark's ops, and one-off allocations (feedback, a deopt) land in some
 * ops and not others.
 */
export function allocsStdErr(objects: number, samplingVariance: number): number {
  return Math.sqrt(objects + samplingVariance);
}

/**
 * A benchmark's memory per op from its measured pass and its census; null where either is
 * missing. Without a census, a heavy benchmark's bytesPerOp is V8's count of the measured pass.
 */
export function memoryFigures(
  transform: Transform,
  measured: MeasuredMemory | undefined,
  censuses: Censuses | undefined,
): MemoryFigures {
  const m = measured && measured.ops > 0 ? measured : undefined;
  const census = censuses?.alloc;
  const c = census && census.calls > 0 ? census : undefined;
  const own = c ? allocTotals(heapSamples(c.sampling), (s) => isBenchmarkSample(transform, s)) : undefined;
  const heapBytesPerOp = m ? round1(m.totals.heapBytes / m.ops) : null;
  const heavy = !c && censuses?.skipped === 'heavy' && heapBytesPerOp !== null;
  return {
    bytesPerOp: own ? round1(own.bytes / c!.calls) : heavy ? heapBytesPerOp : null,
    externalBytesPerOp: c ? round1(c.totals.externalBytes / c.calls) : null,
    allocsPerOp: own ? significant(own.objects / c!.calls, 4) : null,
    allocsPerOpStdErr: own ? significant(allocsStdErr(own.objects, own.variance) / c!.calls, 2) : null,
    gcNanosPerOp: m ? significant(m.totals.gcNanos / m.ops, 4) : null,
    gcCountPerOp: m ? significant(m.totals.gcCount / m.ops, 4) : null,
    heapBytesPerOp,
    censusOps: c ? c.ops : 0,
    ...(censuses ? { censusMs: Math.round(censuses.ms * 10) / 10 } : {}),
    ...(censuses?.skipped ? { censusSkipped: censuses.skipped } : {}),
  };
}

/** The allocation profile (alloc=on): alloc_* from the census, inuse_* from the in-use census (either may be missing). */
export function allocProfile(
  census: Census | undefined,
  inuse: Census | undefined,
  options: {
    transform: Transform;
    root: string;
    labels: { key: string; str: string }[];
    comments: string[];
    depth: number;
  },
): Profile {
  const comments = [...options.comments];
  if (census)
    comments.push(
      `alloc_objects, alloc_space: every allocation of ${census.ops} ops (V8's heap sampler at interval 1 B; frames at each function's first line)`,
    );
  if (inuse)
    comments.push(
      `inuse_objects, inuse_space: what ${inuse.ops} more ops allocated and a full GC after them left live`,
    );
  return buildAllocProfile(
    { alloc: census?.sampling, inuse: inuse?.sampling },
    { depth: options.depth, transform: options.transform, pathRoot: options.root, labels: options.labels, comments },
  );
}
