import { describe, expect, it } from 'vitest';
import type { HeapSampling, HeapSamplingProfile, MemoryTotals } from '@perfprofile/core';
import { benchmarkTransform, harnessMatcher } from '../src/harness.js';
import { CENSUS_HEAVY_BYTES, CENSUS_MAX_OPS, censusPlan, memoryFigures, type Censuses } from '../src/memprofile.js';
import { fmtMemory, memoryLines, summaryTable } from '../src/summary.js';
import type { IndexFile } from '../src/output.js';

const transform = benchmarkTransform(harnessMatcher([]));
const TINYBENCH = 'file:///p/node_modules/tinybench/dist/index.js';
const BENCH = 'file:///p/bench/x.bench.ts';

/** A census profile: tinybench's loop calls the benchmark, which allocates `benchSize` per call; the loop allocates `harnessSize` per op itself. */
function sampling(calls: number, benchSize: number, harnessSize: number): HeapSampling {
  const frame = (id: number, functionName: string, url: string, children: HeapSamplingProfile['head'][] = []) => ({
    id,
    callFrame: { functionName, url, lineNumber: 9, columnNumber: 0 },
    selfSize: 0,
    children,
  });
  const head = frame(1, '(root)', '', [
    frame(2, 'loop', TINYBENCH, [frame(3, 'allocThing', BENCH)]),
    frame(4, '(V8 API)', ''),
  ]);
  const samples = [];
  for (let i = 0; i < calls; i++) {
    if (benchSize) samples.push({ size: benchSize, nodeId: 3, ordinal: samples.length });
    samples.push({ size: harnessSize, nodeId: 2, ordinal: samples.length });
  }
  samples.push({ size: 1000, nodeId: 4, ordinal: samples.length }); // no JS on the stack: not the benchmark's
  return { interval: 1, includeCollected: true, profile: { head, samples } };
}

const totals = (t: Partial<MemoryTotals>): MemoryTotals => ({
  heapBytes: 0,
  externalBytes: 0,
  gcCount: 0,
  gcNanos: 0,
  heapCounter: 'gc-accounting',
  ...t,
});

describe('censusPlan', () => {
  const ops = (
    hz: number | undefined,
    heapBytesPerOp: number | undefined,
    alloc = false,
    passOps = hz ? hz : undefined,
  ) => censusPlan({ hz, ops: passOps, heapBytesPerOp }, alloc);
  it("runs ~20 ms of the measured pass's ops, at most 200, fewer for heavy allocators", () => {
    expect(ops(1e6, 500)).toEqual({ ops: CENSUS_MAX_OPS });
    expect(ops(1000, 500)).toEqual({ ops: 20 });
    expect(ops(10, 500)).toEqual({ ops: 1 });
    expect(ops(undefined, undefined)).toEqual({ ops: 1 });
    expect(ops(1e6, 240_000)).toEqual({ ops: 10 });
  });

  it('skips a pass shorter than the census costs, and a heavy allocator, unless alloc=on wants the profile', () => {
    expect(ops(1e6, 500, false, 50_000)).toEqual({ ops: 0, skipped: 'short-pass' }); // 50 ms
    expect(ops(1e6, 500, true, 50_000)).toEqual({ ops: CENSUS_MAX_OPS });
    expect(ops(1e6, CENSUS_HEAVY_BYTES + 1)).toEqual({ ops: 0, skipped: 'heavy' });
    expect(ops(1e6, CENSUS_HEAVY_BYTES + 1, true)).toEqual({ ops: 1 });
  });
});

describe('memoryFigures', () => {
  const census = (calls: number, ops: number, benchSize: number, external = 0): Censuses => ({
    alloc: {
      sampling: sampling(calls, benchSize, 64),
      totals: totals({ externalBytes: external * calls }),
      ops,
      calls,
    },
    ms: 12.34,
  });

  it("counts the benchmark's allocations per call, the harness's and stackless ones left out", () => {
    const m = memoryFigures(
      transform,
      { totals: totals({ heapBytes: 1_000_000, gcCount: 3, gcNanos: 6000 }), ops: 1000 },
      census(201, 200, 48, 8192),
    );
    expect(m).toEqual({
      bytesPerOp: 48,
      externalBytesPerOp: 8192,
      allocsPerOp: 1,
      allocsPerOpStdErr: Number((Math.sqrt(201) / 201).toPrecision(2)),
      gcNanosPerOp: 6,
      gcCountPerOp: 0.003,
      heapBytesPerOp: 1000,
      censusOps: 200,
      censusMs: 12.3,
    });
    const none = memoryFigures(transform, undefined, census(200, 200, 0));
    expect(none).toMatchObject({
      bytesPerOp: 0,
      allocsPerOp: 0,
      allocsPerOpStdErr: 0,
      gcNanosPerOp: null,
      heapBytesPerOp: null,
    });
  });

  it("without a census: null, except a heavy benchmark's bytes, which are V8's count of the measured pass", () => {
    expect(memoryFigures(transform, { totals: totals({ heapBytes: 5000 }), ops: 10 }, undefined)).toMatchObject({
      bytesPerOp: null,
      allocsPerOp: null,
      externalBytesPerOp: null,
      heapBytesPerOp: 500,
      censusOps: 0,
    });
    const heavy = (CENSUS_HEAVY_BYTES + 1) * 10;
    expect(
      memoryFigures(transform, { totals: totals({ heapBytes: heavy }), ops: 10 }, { ms: 0, skipped: 'heavy' }),
    ).toMatchObject({ bytesPerOp: heavy / 10, allocsPerOp: null, censusSkipped: 'heavy' });
    expect(
      memoryFigures(transform, { totals: totals({ heapBytes: 5000 }), ops: 10 }, { ms: 0, skipped: 'short-pass' }),
    ).toMatchObject({ bytesPerOp: null, censusSkipped: 'short-pass' });
  });
});

describe('summary: B/op and allocs/op', () => {
  it('says once why benchmarks have no census', () => {
    const b = (i: number, censusSkipped?: string) => ({
      fullName: `x > b${i}`,
      memory: {
        bytesPerOp: null,
        externalBytesPerOp: null,
        allocsPerOp: null,
        allocsPerOpStdErr: null,
        gcNanosPerOp: 1,
        gcCountPerOp: 0,
        censusSkipped,
      },
    });
    expect(memoryLines([b(1), b(2)])).toEqual([]);
    const lines = memoryLines([
      b(1, 'short-pass'),
      b(2, 'short-pass'),
      b(3, 'short-pass'),
      b(4, 'short-pass'),
      b(5, 'heavy'),
      b(6),
    ]);
    expect(lines).toEqual([
      'memory: no B/op or allocs/op for 4 of 6 benchmarks (x > b1, x > b2, x > b3 and 1 more): their measured pass took under 100 ms, less than an allocation census costs; give them more `time` (README "Memory per op")',
      "memory: x > b5 allocates over 9.6 MB per op: B/op is V8's count of the measured pass, allocs/op not counted",
    ]);
  });

  it("formats them as Go's -benchmem does, and '-' where a run has none", () => {
    expect(fmtMemory(undefined)).toEqual({ bytes: '-', allocs: '-' });
    const f = (bytesPerOp: number | null, allocsPerOp: number | null) =>
      fmtMemory({
        bytesPerOp,
        allocsPerOp,
        externalBytesPerOp: null,
        allocsPerOpStdErr: null,
        gcNanosPerOp: null,
        gcCountPerOp: null,
      });
    expect(f(8240, 1)).toEqual({ bytes: '8240', allocs: '1' });
    expect(f(47.6, 0.0123)).toEqual({ bytes: '48', allocs: '0.0123' });
    expect(f(0, 2.5)).toEqual({ bytes: '0', allocs: '2.5' });
    expect(f(123456.7, 1234.5)).toEqual({ bytes: '123457', allocs: '1235' });
  });

  it('puts them between the counters and the top function', () => {
    const index = {
      schema: 1,
      config: {
        text: '{event=v8}',
        event: 'v8',
        events: ['v8'],
        rate: 997,
        period: 1003009,
        source: 'v8',
        reason: 'event=v8 as configured',
        baseline: true,
        warnings: [],
      },
      node: process.version,
      vitest: '4.1.12',
      complete: true,
      benchmarks: [
        {
          id: 'x--a-000000',
          file: 'x.bench.ts',
          name: 'a',
          fullName: 'x > a',
          profile: 'x--a-000000.pb.gz',
          samples: 100,
          lost: 0,
          durationMs: 100,
          hz: { baseline: 1000, profiled: 990 },
          rme: { baseline: 1, profiled: 1 },
          overheadPct: 1,
          counters: {},
          top: [{ function: 'hot', file: 'src/hot.ts', line: 3, selfPct: 90 }],
          harnessPct: 0,
          status: 'passed',
          memory: {
            bytesPerOp: 48,
            externalBytesPerOp: 0,
            allocsPerOp: 1,
            allocsPerOpStdErr: 0.07,
            gcNanosPerOp: 10,
            gcCountPerOp: 0.001,
          },
          allocProfile: 'x--a-000000.alloc.pb.gz',
        },
      ],
      missing: [],
      merged: 'merged.pb.gz',
      mergedAlloc: 'merged.alloc.pb.gz',
    } as IndexFile;
    const lines = summaryTable(index, { colors: false, outLabel: 'perf.out' });
    const header = lines[1].split(/\s{2,}/);
    expect(header.slice(header.indexOf('counters/op'))).toEqual([
      'counters/op',
      'B/op',
      'allocs/op',
      'top self function',
    ]);
    expect(lines[2].split(/\s{2,}/).slice(-3)).toEqual(['48', '1', 'hot 90.0%']);
    expect(lines.at(-1)).toContain(
      '1 per-benchmark .pb.gz, merged.pb.gz, 1 .alloc.pb.gz, merged.alloc.pb.gz, index.json',
    );
  });
});
