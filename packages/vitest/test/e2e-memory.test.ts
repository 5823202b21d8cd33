/**
 * Memory per benchmark end to end, against ground truth (fixtures/vitest{4,5}/extra/memory,
 * FIXTURE_MEMORY=1), on Vitest 4 and, where this Node runs it, Vitest 5: bytesPerOp within 2%
 * of what V8's object layouts say each op allocates, allocsPerOp within its stated error (a
 * fixed-shape object is 1 per op, nothing is < 0.05), a Float64Array's backing store as
 * external bytes, GC figures from the measured pass, the summary's B/op and allocs/op, and
 * with alloc=on the allocation profiles. `.ci/run` runs it on Node 20, 22 and 24.
 */
import path from 'node:path';
import { ALLOC_SAMPLE_TYPES, startMemoryWindow, type Profile } from '@perfprofile/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IndexFile } from '../src/output.js';
import { readFileSync } from 'node:fs';
import { requireSupported, VITEST4, VITEST5, type FixtureProject } from './compat.js';
import { benchmarkLabels, CLI, pprof, readIndex, readProfile, REPO, run, tmpOut, type RunResult } from './helpers.js';
import { crossCheck } from '../../../scripts/tools.mjs';

/** The workloads both fixtures' memory benchmarks run, and the line of each function there. */
const FILE = path.join(REPO, 'fixtures/workloads/memory.ts');
const lineOfFunction = (fn: string) =>
  readFileSync(FILE, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(`function ${fn}()`)) + 1;
const TAGGED = (process.config.variables as { v8_enable_pointer_compression?: number | boolean })
  .v8_enable_pointer_compression
  ? 4
  : 8;

/**
 * What one op of the fixture's typed-array benchmark puts on the JS heap (JSTypedArray and
 * JSArrayBuffer), measured here by GC accounting in a tight loop: V8's layouts of them differ by
 * version. The median of three windows, each opened on a scavenge (exactExternal): once a window
 * of this worker's read 189 B against 184 in every other. 100,000 ops a window, not 20,000:
 * what else this worker allocates meanwhile is spread over more ops (a CI run on Node 24 read
 * a median of 204.6 B, where a plain process reads 200.1).
 */
function typedArrayHeapBytes(): number {
  const ring: unknown[] = new Array(16).fill(null);
  let n = 0;
  const alloc = (count: number) => {
    for (let i = 0; i < count; i++) ring[n++ & 15] = new Float64Array(1024);
  };
  alloc(2_000);
  const perOp = [0, 1, 2].map(() => {
    // V8's own counter reads high.
    const stop = startMemoryWindow({ heapCounter: 'gc-accounting', exactExternal: true })!;
    alloc(100_000);
    return stop().heapBytes / 100_000;
  });
  return perOp.sort((a, b) => a - b)[1];
}

/** Each fixture benchmark: its function, and the JS heap bytes one op allocates. */
function truth(): Record<string, { fn: string; bytes: number }> {
  return {
    // JSArray (map, properties, elements, length) + FixedArray (map, length, 1024 elements).
    'memory > array 1024': { fn: 'allocArray', bytes: (4 + 2 + 1024) * TAGGED },
    // JSObject with three in-object properties: map, properties, elements, a, b, c.
    'memory > object': { fn: 'allocObject', bytes: 6 * TAGGED },
    // ConsString: map, hash and length (4 bytes each), first, second.
    'memory > string concat': { fn: 'allocString', bytes: 2 * TAGGED + 8 + TAGGED },
    'memory > float64array 1024': { fn: 'allocTypedArray', bytes: typedArrayHeapBytes() },
    'memory > nothing': { fn: 'allocNothing', bytes: 0 },
  };
}

/**
 * alloc_space (column 1) by the first function of the fixture's sources from each stack's leaf;
 * `(harness)`, and `(runtime)` for stacks with no frame of them (once 19 KB in the frame V8
 * gives an async function's resumption, right under processTicksAndRejections). Only objects
 * of at least `minBytes` (Go's `bytes` label) when given.
 */
function allocByFunction(profile: Profile, column = 1, minBytes = 0): Map<string, number> {
  const fns = new Map(profile.functions.map((f) => [f.id, f]));
  const locs = new Map(profile.locations.map((l) => [l.id, l]));
  const out = new Map<string, number>();
  for (const s of profile.samples) {
    if (minBytes && !s.labels.some((l) => l.key === 'bytes' && l.num! >= minBytes)) continue;
    const frames = s.locationIds.map((id) => fns.get(locs.get(id)!.lines[0].functionId)!);
    const own = frames.find((f) => f.filename.endsWith('.ts'))?.name;
    const key = own ?? (frames[0].name === '(harness)' ? '(harness)' : '(runtime)');
    out.set(key, (out.get(key) ?? 0) + s.values[column]);
  }
  return out;
}

for (const P of [VITEST4, VITEST5] as FixtureProject[]) {
  requireSupported(P);
  describe.skipIf(P.unsupported)(
    `Vitest ${P.major}: memory per benchmark against ground truth (alloc=on, v8 source)`,
    () => {
      const out = tmpOut('mem.out');
      let result: RunResult;
      let index: IndexFile;
      let expected: ReturnType<typeof truth>;
      beforeAll(() => {
        expected = truth();
        result = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', 'event=v8 alloc=on'], {
          cwd: P.dir,
          env: { FIXTURE_MEMORY: '1' },
        });
        index = readIndex(out);
      });

      it('runs every fixture benchmark to a complete index with memory figures', () => {
        expect(result.status, result.stderr).toBe(0);
        expect(TAGGED).toBe(8); // the layouts above are those of Node's x64 builds
        expect(index.complete).toBe(true);
        expect(index.config.alloc).toBe(true);
        expect(index.config.heapCounter).toMatch(/^(total_allocated_bytes|gc-accounting)$/);
        expect(index.benchmarks.map((b) => b.fullName).sort()).toEqual(Object.keys(expected).sort());
      });

      it('bytesPerOp is within 2% of what each op allocates, the harness left out', () => {
        for (const b of index.benchmarks) {
          const want = expected[b.fullName].bytes;
          const m = b.memory!;
          expect(m.censusOps, b.fullName).toBeGreaterThan(0);
          if (want === 0) expect(m.bytesPerOp, b.fullName).toBeLessThan(1);
          else
            expect(Math.abs(m.bytesPerOp! / want - 1), `${b.fullName}: ${m.bytesPerOp} vs ${want}`).toBeLessThan(0.02);
          // The measured pass's own count has the harness's allocations on top.
          expect(m.heapBytesPerOp!, b.fullName).toBeGreaterThan(m.bytesPerOp! + 100);
        }
      });

      it('allocsPerOp is within its stated error: one fixed-shape object per op, nothing below 0.05', () => {
        const of = (name: string) => index.benchmarks.find((b) => b.fullName === name)!.memory!;
        const object = of('memory > object');
        expect(object.allocsPerOpStdErr).toBeGreaterThan(0);
        expect(Math.abs(object.allocsPerOp! - 1)).toBeLessThanOrEqual(2 * object.allocsPerOpStdErr!);
        expect(of('memory > nothing').allocsPerOp).toBeLessThan(0.05);
        expect(Math.abs(of('memory > string concat').allocsPerOp! - 1)).toBeLessThanOrEqual(
          2 * of('memory > string concat').allocsPerOpStdErr!,
        );
      });

      it("counts the typed array's backing store as external bytes, and only there", () => {
        for (const b of index.benchmarks) {
          const want = b.fullName === 'memory > float64array 1024' ? 1024 * 8 : 0;
          expect(Math.abs(b.memory!.externalBytesPerOp! - want), b.fullName).toBeLessThanOrEqual(want * 0.02);
        }
      });

      it("reports the measured pass's GCs per op", () => {
        for (const b of index.benchmarks) {
          expect(b.memory!.gcCountPerOp, b.fullName).toBeGreaterThanOrEqual(0);
          expect(b.memory!.gcNanosPerOp, b.fullName).toBeGreaterThanOrEqual(0);
        }
        // ~8 KiB per op fills the young generation within a few thousand ops.
        const array = index.benchmarks.find((b) => b.fullName === 'memory > array 1024')!.memory!;
        expect(array.gcCountPerOp).toBeGreaterThan(1e-5);
        expect(array.gcNanosPerOp).toBeGreaterThan(0);
      });

      it("shows B/op and allocs/op as Go's -benchmem does", () => {
        const lines = result.stdout.split('\n');
        const header = lines.find((l) => l.startsWith('benchmark '))!.split(/\s{2,}/);
        const b = header.indexOf('B/op');
        expect(header[b + 1]).toBe('allocs/op');
        const cells = (name: string) => lines.find((l) => l.startsWith(`${name} `))!.split(/\s{2,}/);
        expect(cells('memory > array 1024')[b]).toBe(
          String(Math.round(index.benchmarks.find((x) => x.fullName === 'memory > array 1024')!.memory!.bytesPerOp!)),
        );
        expect(cells('memory > nothing').slice(b, b + 2)).toEqual(['0', '0']);
        expect(result.stdout).toMatch(/5 \.alloc\.pb\.gz, merged\.alloc\.pb\.gz/);
      });

      it("writes allocation profiles with Go's heap sample types, where the benchmark's function holds ≥ 90% of its own alloc_space", () => {
        for (const b of index.benchmarks) {
          expect(b.allocProfile).toBe(`${b.id}.alloc.pb.gz`);
          const profile = readProfile(path.join(out, b.allocProfile!));
          expect(profile.sampleTypes).toEqual(ALLOC_SAMPLE_TYPES);
          expect(profile.defaultSampleType).toBe('alloc_space');
          expect(benchmarkLabels(profile)).toEqual(new Set([b.fullName]));
          const { fn, bytes } = expected[b.fullName];
          const byFn = allocByFunction(profile);
          const own = [...byFn]
            .filter(([name]) => name !== '(harness)' && name !== '(runtime)')
            .reduce((a, [, v]) => a + v, 0);
          if (bytes === 0) {
            expect(own, b.fullName).toBe(0);
            continue;
          }
          expect(byFn.get(fn)! / own, b.fullName).toBeGreaterThanOrEqual(0.9);
          const f = profile.functions.find((x) => x.name === fn)!;
          expect(path.resolve(P.dir, f.filename)).toBe(FILE); // outside the project: an absolute path
          expect(f.startLine).toBe(lineOfFunction(fn));
          // alloc_space over the census's ops (+1: tinybench 2 calls the function once more).
          const calls = b.memory!.censusOps! + (P.major === 4 ? 1 : 0);
          expect(Math.abs(byFn.get(fn)! / calls / bytes - 1), b.fullName).toBeLessThan(0.02);
        }
        // In use after a full GC: the 16 arrays the ring still holds, not one more (the census's
        // arrays once outlived a GC that finished a marking; smaller objects there, such as
        // feedback, are live).
        const array = index.benchmarks.find((b) => b.fullName === 'memory > array 1024')!;
        const arrays = allocByFunction(readProfile(path.join(out, array.allocProfile!)), 2, 1024 * TAGGED);
        expect(arrays.get('allocArray')).toBe(16);
        expect(index.mergedAlloc).toBe('merged.alloc.pb.gz');
        expect(benchmarkLabels(readProfile(path.join(out, 'merged.alloc.pb.gz')))).toEqual(
          new Set(Object.keys(expected)),
        );
        crossCheck('go', () => {
          const file = path.join(out, array.allocProfile!);
          expect(pprof(file, '-top', '-sample_index=alloc_space')).toMatch(/\ballocArray\b/);
          // pprof reads the object sizes: the same 16 arrays through its own size filter.
          expect(pprof(file, '-top', '-sample_index=inuse_objects', '-tagfocus=bytes=8kb:')).toMatch(
            /^\s+16\s.*\sallocArray$/m,
          );
        });
      });
    },
  );
}
