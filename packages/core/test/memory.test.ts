import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  ALLOC_SAMPLE_TYPES,
  allocTotals,
  buildAllocProfile,
  collectGarbage,
  decode,
  encode,
  heapCounter,
  heapSamples,
  merge,
  sampleProbability,
  startHeapSampling,
  startMemoryWindow,
  type HeapSample,
} from '../src/index.js';

// V8 object sizes this file checks against: a JSObject with three in-object properties is six
// tagged words (map, properties, elements, a, b, c). Instances of a class, not object literals:
// a literal's allocation site may put a 16 B AllocationMemento behind it, which V8's heap
// sampler counts with the object (64 B on Node 22 and 24, by tier and pretenuring state).
const TAGGED = (process.config.variables as { v8_enable_pointer_compression?: number | boolean })
  .v8_enable_pointer_compression
  ? 4
  : 8;
const OBJECT_BYTES = 6 * TAGGED;

// What each loop allocates is kept in a ring, so V8 cannot prove it dead and elide it.
const ring: unknown[] = new Array(64).fill(null);
let n = 0;
class Triple {
  // Declared only: an initialized field would compile to a define call in the constructor.
  declare readonly a: number;
  declare readonly b: number;
  declare readonly c: number;
  constructor(i: number) {
    this.a = i;
    this.b = i;
    this.c = i;
  }
}
function allocObjects(count: number): void {
  for (let i = 0; i < count; i++) ring[n++ & 63] = new Triple(i);
}
function allocTyped(count: number): void {
  for (let i = 0; i < count; i++) ring[n++ & 63] = new Float64Array(1024);
}
function allocArrays(count: number): void {
  for (let i = 0; i < count; i++) ring[n++ & 63] = new Array(1024).fill(i); // 8 KiB of elements
}
const retained: unknown[] = [];
function allocRetained(count: number): void {
  for (let i = 0; i < count; i++) retained.push([i, i, i, i]);
}

// Allocated in `name`, or in the constructor it called (an interpreted constructor allocates
// its instance in its own frame).
const inFunction = (name: string) => (s: HeapSample) =>
  s.frames[0]?.name === name || (s.frames[0]?.name === 'Triple' && s.frames[1]?.name === name);

describe('startMemoryWindow', () => {
  const WINDOW_OBJECTS = 2_000_000;

  it("counts the JS heap a loop allocates, through its GCs: within 1% by GC accounting, 5% by V8's own counter", () => {
    allocObjects(50_000); // optimized before the window
    const stop = startMemoryWindow()!;
    // V8's young-generation size reads up to ~0.5 MB high between its growth and the next
    // scavenge: an error per window, not per byte, which a large window makes small.
    allocObjects(WINDOW_OBJECTS);
    const t = stop();
    expect(t.heapCounter).toBe(heapCounter());
    expect(t.gcCount).toBeGreaterThan(0);
    expect(t.gcNanos).toBeGreaterThan(0);
    // V8's total_allocated_bytes (Node >= 25) counts whole allocation buffers: +4% here on Node 26.
    const slack = t.heapCounter === 'total_allocated_bytes' ? 0.05 : 0.01;
    expect(t.heapBytes / (WINDOW_OBJECTS * OBJECT_BYTES)).toBeGreaterThan(0.99);
    expect(t.heapBytes / (WINDOW_OBJECTS * OBJECT_BYTES)).toBeLessThan(1 + slack);
  });

  it('counts ArrayBuffer backing stores exactly with exactExternal', () => {
    allocTyped(2_000);
    const stop = startMemoryWindow({ exactExternal: true })!;
    allocTyped(20_000);
    const t = stop();
    expect(t.gcCount).toBeGreaterThan(0); // frees happened inside the window
    expect(t.externalBytes).toBe(20_000 * 8192);
  });

  it('names the heap counter this Node has', () => {
    const has =
      typeof (v8.getHeapStatistics() as { total_allocated_bytes?: unknown }).total_allocated_bytes === 'number';
    expect(heapCounter()).toBe(has ? 'total_allocated_bytes' : 'gc-accounting');
    expect(startMemoryWindow({ heapCounter: 'gc-accounting' })!().heapCounter).toBe('gc-accounting');
  });
});

interface GcTrace {
  start(): void;
  stop(): { statistics: { gcType: string }[] };
}

describe('collectGarbage', () => {
  it('has run the GC asked for when it returns (the inspector only schedules one)', () => {
    const Profiler = (v8 as unknown as { GCProfiler: new () => GcTrace }).GCProfiler;
    const types = (kind: 'major' | 'minor') => {
      const profiler = new Profiler();
      profiler.start();
      collectGarbage(kind);
      return profiler.stop().statistics.map((e) => e.gcType);
    };
    expect(types('major')).toContain('MarkSweepCompact');
    const minor = types('minor');
    expect(minor).toContain('Scavenge');
    expect(minor).not.toContain('MarkSweepCompact');
  });
});

describe('startHeapSampling', () => {
  it('at interval 1 takes every allocation, collected ones included, at its exact size', () => {
    allocObjects(100_000); // optimized again after the full GCs above (pretenuring decisions deoptimize)
    const stop = startHeapSampling(1, true);
    allocObjects(5_000);
    const run = stop();
    const inLoop = heapSamples(run).filter(inFunction('allocObjects'));
    const mine = allocTotals(inLoop, (s) => s.size === OBJECT_BYTES);
    // Node 20 deoptimized the loop as the sampler started: a few of V8's own objects (feedback,
    // bytecode) then land in its frame, and an instance or two outside it.
    expect(mine.objects).toBeGreaterThanOrEqual(4_990);
    expect(mine.objects).toBeLessThanOrEqual(5_000);
    expect(mine.samples / allocTotals(inLoop).samples).toBeGreaterThan(0.99);
    expect(mine.bytes).toBe(mine.objects * OBJECT_BYTES);
    expect(mine.variance).toBeLessThan(1e-6);
    expect(sampleProbability(OBJECT_BYTES, 1)).toBe(1);
  });

  it("above the objects' size records each sample at about the interval, not the object (why censuses use interval 1)", () => {
    allocObjects(10_000);
    const stop = startHeapSampling(4096, true);
    allocObjects(400_000);
    const mine = heapSamples(stop()).filter(inFunction('allocObjects'));
    const samples = mine.reduce((a, s) => a + s.samples, 0);
    const atInterval = mine.filter((s) => s.size >= 1024).reduce((a, s) => a + s.samples, 0);
    expect(samples).toBeGreaterThan(1000);
    // If this fails, V8 now records true sizes above the object size: coarse intervals would
    // then estimate correctly and the census could sample less (packages/vitest memprofile.ts).
    expect(atInterval / samples).toBeGreaterThan(0.9);
  });

  it('without collected objects keeps only what is live, even when the stop lands in an incremental marking', () => {
    // V8 then starts a marking at every chance: a GC that only finishes it keeps what was
    // allocated since it began.
    allocArrays(64);
    v8.setFlagsFromString('--stress-incremental-marking');
    const live: number[] = [];
    try {
      for (let t = 0; t < 20; t++) {
        const stop = startHeapSampling(1, false);
        allocArrays(300);
        // The elements (a JSArray's own 32 B are a separate object below optimized code).
        const elements = (s: HeapSample) => s.size >= 8192 && inFunction('allocArrays')(s);
        live.push(allocTotals(heapSamples(stop()), elements).objects);
      }
    } finally {
      v8.setFlagsFromString('--no-stress-incremental-marking');
    }
    expect(live).toEqual(live.map(() => 64));
  });

  it('without collected objects keeps only what is still in use after a GC', () => {
    const stop = startHeapSampling(1, false);
    allocRetained(1_000);
    allocObjects(100_000);
    collectGarbage();
    const samples = heapSamples(stop());
    expect(allocTotals(samples, inFunction('allocRetained')).objects).toBeGreaterThanOrEqual(1_000);
    expect(allocTotals(samples, inFunction('allocObjects')).objects).toBeLessThan(100);
  });
});

describe('buildAllocProfile', () => {
  it("writes Go's heap sample types, alloc from one run and inuse from another, through the transform", () => {
    allocObjects(100_000); // optimized again after the full GC above
    const alloc = startHeapSampling(1, true);
    allocObjects(2_000);
    const allocRun = alloc();
    const inuse = startHeapSampling(1, false);
    allocRetained(500);
    collectGarbage();
    const inuseRun = inuse();
    const profile = buildAllocProfile(
      { alloc: allocRun, inuse: inuseRun },
      {
        depth: 3,
        transform: (frames) =>
          frames[0]?.name === 'allocObjects' || frames[0]?.name === 'allocRetained' ? frames : null,
        labels: [{ key: 'benchmark', str: 'b' }],
        comments: ['c'],
      },
    );
    expect(profile.sampleTypes).toEqual(ALLOC_SAMPLE_TYPES);
    expect(profile.defaultSampleType).toBe('alloc_space');
    expect(profile.period).toBe(1);
    const fn = new Map(profile.functions.map((f) => [f.id, f.name]));
    const leaf = new Map(profile.locations.map((l) => [l.id, fn.get(l.lines[0].functionId)]));
    const sum = (name: string, col: number) =>
      profile.samples.filter((s) => leaf.get(s.locationIds[0]) === name).reduce((a, s) => a + s.values[col], 0);
    expect(sum('allocObjects', 0)).toBe(2_000);
    expect(sum('allocObjects', 1)).toBe(2_000 * OBJECT_BYTES);
    expect(sum('allocObjects', 2)).toBe(0);
    expect(sum('allocRetained', 2)).toBeGreaterThanOrEqual(500);
    expect(profile.samples.every((s) => s.locationIds.length <= 3 && s.labels.some((l) => l.key === 'benchmark'))).toBe(
      true,
    );
    // Each sample's object size, as Go labels it: bytes over objects, to the byte.
    for (const s of profile.samples) {
      const size = s.labels.find((l) => l.key === 'bytes');
      expect(size?.numUnit).toBe('bytes');
      const objects = s.values[0] || s.values[2];
      expect(Math.abs((s.values[1] || s.values[3]) / objects - size!.num!)).toBeLessThanOrEqual(1);
    }
    expect(profile.samples.find((s) => leaf.get(s.locationIds[0]) === 'allocObjects')!.labels).toContainEqual({
      key: 'bytes',
      num: OBJECT_BYTES,
      numUnit: 'bytes',
    });
    const back = decode(encode(profile));
    expect(back.sampleTypes).toEqual(ALLOC_SAMPLE_TYPES);
    expect(back.samples.map((s) => s.labels)).toEqual(profile.samples.map((s) => s.labels));
    expect(merge([back, profile]).samples.reduce((a, s) => a + s.values[0], 0)).toBe(
      2 * profile.samples.reduce((a, s) => a + s.values[0], 0),
    );
  });
});
