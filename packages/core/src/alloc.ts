/**
 * Allocations from V8's sampling heap profiler (node:inspector `HeapProfiler.startSampling`):
 * start/stop on the calling thread, the sampled objects as stacks with their estimated counts,
 * and the pprof allocation profile Go's heap profiles use (`alloc_objects/count`,
 * `alloc_space/bytes`, `inuse_objects/count`, `inuse_space/bytes`).
 *
 * V8 samples the object being allocated each time a Poisson-spaced byte count is crossed, and
 * scales each sample by 1/p, p = 1 − exp(−size/interval). That holds only while the interval is
 * below the objects' sizes: above, optimized code allocates inline between samples and V8
 * records a sample's size as roughly the interval, not the object's (measured on Node 20, 22,
 * 24: 48 B objects sampled at 4 KiB report ~4.1 KiB), so counts and bytes scaled from it are
 * wrong (~1.5× high in bytes). At interval 1 every object is sampled at its own size, exactly.
 * A stack holds one frame per physical frame, each at its function's first line: V8 records the
 * function of each frame, no position, so neither the allocating line nor functions inlined
 * into a frame can be recovered.
 */
import { Session } from 'node:inspector';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ProfileBuilder } from './builder.js';
import type { Label, Profile, ValueType } from './model.js';
import { truncate, type BuildOptions } from './profile.js';
import { urlToFile } from './sources/v8.js';
import type { SourceFrame } from './sources/source.js';
import { post } from './inspector.js';

/** The heap profiler's default interval (V8's `StartSamplingHeapProfiler`): 512 KiB. */
export const DEFAULT_ALLOC_INTERVAL = 512 * 1024;

/** Go's heap-profile sample types, in Go's order. */
export const ALLOC_SAMPLE_TYPES: readonly ValueType[] = [
  { type: 'alloc_objects', unit: 'count' },
  { type: 'alloc_space', unit: 'bytes' },
  { type: 'inuse_objects', unit: 'count' },
  { type: 'inuse_space', unit: 'bytes' },
];

/** The inspector's SamplingHeapProfile, as far as this reads it. */
export interface HeapSamplingProfile {
  readonly head: HeapNode;
  readonly samples?: readonly { readonly size: number; readonly nodeId: number; readonly ordinal?: number }[];
}

interface HeapNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

/** A sampled allocation site: its stack (leaf first), object size, and the objects its samples stand for. */
export interface HeapSample {
  readonly frames: readonly SourceFrame[];
  readonly size: number;
  /** Samples taken of objects of this size at this stack. */
  readonly samples: number;
  /** Objects they stand for: samples / p. */
  readonly objects: number;
  /** Variance of `objects` from sampling alone: samples × (1 − p) / p². */
  readonly variance: number;
}

/** A finished sampling run: its interval and what it sampled. */
export interface HeapSampling {
  readonly interval: number;
  /** Whether objects collected during the run were kept (alloc) or dropped (inuse). */
  readonly includeCollected: boolean;
  readonly profile: HeapSamplingProfile;
}

/**
 * Starts V8's sampling heap profiler on this thread (one run at a time per thread); the returned
 * function stops it. With `includeCollected` every sample is kept (objects collected by minor
 * and major GCs too): what was allocated. Without, samples of collected objects are dropped:
 * what is still in use after a full GC when it stops.
 */
export function startHeapSampling(interval: number, includeCollected: boolean): () => HeapSampling {
  const session = new Session();
  session.connect();
  try {
    post(session, 'HeapProfiler.enable');
    post(session, 'HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: includeCollected,
      includeObjectsCollectedByMinorGC: includeCollected,
    });
  } catch (e) {
    session.disconnect();
    throw e;
  }
  let done: HeapSampling | undefined;
  return () => {
    if (done) return done;
    try {
      // Stopping runs a full GC, but one that finishes an incremental marking under way keeps
      // what the marking had found live or allocated since: all of the window, at times. A
      // full GC of our own first leaves the inspector's to start from nothing.
      if (!includeCollected) collectGarbage('major');
      const { profile } = post<{ profile: HeapSamplingProfile }>(session, 'HeapProfiler.stopSampling');
      done = { interval, includeCollected, profile };
    } finally {
      session.disconnect();
    }
    return done;
  };
}

let exposedGc: ((options?: object) => void) | undefined;

/**
 * Runs a GC on this thread before returning: a full one (what is left is then in use), or a
 * scavenge. Not the inspector's HeapProfiler.collectGarbage: V8 runs that from a task, after the
 * caller has gone on. The flag exposes `gc` only in contexts created after it is set.
 */
export function collectGarbage(kind: 'major' | 'minor' = 'major'): void {
  if (!exposedGc) {
    v8.setFlagsFromString('--expose-gc');
    exposedGc = vm.runInNewContext('gc') as (options?: object) => void;
  }
  // No argument for a full GC: Node 20's V8 reads { type: 'major' } as a scavenge.
  if (kind === 'major') exposedGc();
  else exposedGc({ type: 'minor' });
}

function frameOf(node: HeapNode): SourceFrame | undefined {
  const cf = node.callFrame;
  if (cf.functionName === '(root)') return undefined;
  const name = cf.functionName || '(anonymous)';
  // VM states with no JS on the stack: (V8 API), (GC), (COMPILER)...
  if (cf.url === '' && name.startsWith('(')) return { name, file: '', line: 0, startLine: 0, kind: 'program' };
  if (cf.url === '') return { name: `(native) ${name}`, file: '', line: 0, startLine: 0, kind: 'native' };
  const startLine = cf.lineNumber + 1;
  return { name, file: urlToFile(cf.url), line: startLine, startLine, column: 0, kind: 'js' };
}

/** The sampling probability of an object of `size` bytes at `interval`. */
export function sampleProbability(size: number, interval: number): number {
  return -Math.expm1(-size / Math.max(interval, 1e-9));
}

/** A run's samples folded by stack and object size, with their estimated object counts. */
export function heapSamples(run: HeapSampling): HeapSample[] {
  const frames = new Map<number, SourceFrame[]>();
  const walk = (node: HeapNode, callers: SourceFrame[]): void => {
    const f = frameOf(node);
    const stack = f ? [f, ...callers] : callers;
    frames.set(node.id, stack);
    for (const c of node.children) walk(c, stack);
  };
  walk(run.profile.head, []);
  const folded = new Map<string, { nodeId: number; size: number; samples: number }>();
  for (const s of run.profile.samples ?? []) {
    const key = `${s.nodeId}:${s.size}`;
    const e = folded.get(key);
    if (e) e.samples++;
    else folded.set(key, { nodeId: s.nodeId, size: s.size, samples: 1 });
  }
  const out: HeapSample[] = [];
  for (const { nodeId, size, samples } of folded.values()) {
    const p = sampleProbability(size, run.interval);
    out.push({
      frames: frames.get(nodeId) ?? [],
      size,
      samples,
      objects: samples / p,
      variance: (samples * (1 - p)) / (p * p),
    });
  }
  return out;
}

/** Totals of the samples `keep` accepts: objects and bytes they stand for, and the objects' sampling variance. */
export function allocTotals(
  samples: readonly HeapSample[],
  keep: (s: HeapSample) => boolean = () => true,
): { objects: number; bytes: number; variance: number; samples: number } {
  let objects = 0;
  let bytes = 0;
  let variance = 0;
  let n = 0;
  for (const s of samples) {
    if (!keep(s)) continue;
    objects += s.objects;
    bytes += s.objects * s.size;
    variance += s.variance;
    n += s.samples;
  }
  return { objects, bytes, variance, samples: n };
}

/** What an allocation profile is built from: an alloc run (collected objects kept) and an inuse run (dropped). */
export interface AllocProfileInput {
  readonly alloc?: HeapSampling;
  readonly inuse?: HeapSampling;
  readonly startNanos?: number;
  readonly durationNanos?: number;
}

/**
 * The pprof allocation profile: Go's four heap sample types, `alloc_space` the default.
 * alloc_* come from `alloc`, inuse_* from `inuse` (either may be absent: its columns are 0).
 * Stacks go through `transform` and `depth` as CPU stacks do; values are estimated objects and
 * bytes, rounded per stack and object size. Each sample carries its object size as Go's heap
 * profiles do (numeric label `bytes`), so `-tagfocus=bytes=8kb:` selects by size.
 */
export function buildAllocProfile(input: AllocProfileInput, options: BuildOptions): Profile {
  const root = options.pathRoot
    ? options.pathRoot.endsWith(path.sep)
      ? options.pathRoot
      : options.pathRoot + path.sep
    : undefined;
  const rel = (f: string) => (root && f.startsWith(root) ? f.slice(root.length) : f);
  const interval = input.alloc?.interval ?? input.inuse?.interval ?? DEFAULT_ALLOC_INTERVAL;
  const builder = new ProfileBuilder({
    sampleTypes: ALLOC_SAMPLE_TYPES,
    periodType: { type: 'space', unit: 'bytes' },
    period: interval,
    timeNanos: input.startNanos ?? Date.now() * 1e6,
    durationNanos: input.durationNanos ?? 0,
    comments: options.comments ?? [],
    defaultSampleType: 'alloc_space',
    mapping: { filename: `node-${process.version}` },
  });
  // Values are summed as floats per stack, then rounded, so rounding does not compound.
  const sums = new Map<string, { ids: number[]; size: number; v: number[] }>();
  const add = (s: HeapSample, column: 0 | 2) => {
    const transformed = options.transform ? options.transform(s.frames) : s.frames;
    if (!transformed || transformed.length === 0) return;
    const ids = truncate(transformed, options.depth).map((f) =>
      builder.frameId(f.file ? { ...f, file: rel(f.file) } : f),
    );
    const key = `${ids.join(',')}/${s.size}`;
    let e = sums.get(key);
    if (!e) sums.set(key, (e = { ids, size: s.size, v: [0, 0, 0, 0] }));
    e.v[column] += s.objects;
    e.v[column + 1] += s.objects * s.size;
  };
  if (input.alloc) for (const s of heapSamples(input.alloc)) add(s, 0);
  if (input.inuse) for (const s of heapSamples(input.inuse)) add(s, 2);
  const labels: readonly Label[] = options.labels ?? [];
  for (const { ids, size, v } of sums.values()) {
    const values = v.map((x) => Math.round(x));
    if (values.some((x) => x > 0))
      builder.addSample(ids, values, [...labels, { key: 'bytes', num: size, numUnit: 'bytes' }]);
  }
  return builder.build();
}
