import { describe, expect, it } from 'vitest';
import type { SourceFrame } from '@perfprofile/core';
import { benchId } from '../src/slug.js';
import { extractFlags, mergeRequests } from '../src/settings.js';
import { benchmarkTransform, HARNESS_FRAME } from '../src/frames.js';
import { passStats, overheadPct } from '../src/stats.js';

const js = (name: string, file: string, line = 1): SourceFrame => ({ name, file, line, startLine: line, kind: 'js' });

describe('benchId', () => {
  it('is readable, filesystem-safe and unique', () => {
    const taken = new Set<string>();
    const a = benchId('bench/sort.bench.ts', ['sorting', 'quadratic', 'bubble 400'], taken);
    expect(a).toMatch(/^sort\.bench--sorting--quadratic--bubble-400-[0-9a-f]{6}$/);
    expect(benchId('bench/sort.bench.ts', ['sorting', 'quadratic', 'bubble 400'], taken)).toBe(`${a}-2`);
    expect(benchId('a/b.bench.ts', ['x/y'])).not.toBe(benchId('a/b.bench.ts', ['x y']));
    expect(benchId('f.bench.ts', ['../../etc/passwd ✓ ünï'])).toMatch(/^[a-z0-9.-]+$/);
  });
});

describe('extractFlags', () => {
  it('removes both flags in both forms and keeps the rest in order', () => {
    const r = extractFlags(['--run', '--perfprofile', 'out', '-t', 'x', '--perfprofileconfig=event=v8 rate=1k', 'file']);
    expect(r).toEqual({ request: { out: 'out', config: 'event=v8 rate=1k' }, rest: ['--run', '-t', 'x', 'file'] });
    expect(extractFlags(['--perfprofile=o', '--perfprofileconfig', '<event=v8>'])).toEqual({ request: { out: 'o', config: '<event=v8>' }, rest: [] });
  });
  it('refuses a missing value', () => {
    expect(extractFlags(['--perfprofile'])).toMatchObject({ code: 'ERR_USAGE' });
    expect(extractFlags(['--perfprofile', '--run'])).toMatchObject({ code: 'ERR_USAGE' });
  });
  it('merges by precedence, field by field', () => {
    expect(mergeRequests({ out: 'a' }, { out: 'b', config: 'c' })).toEqual({ out: 'a', config: 'c' });
  });
});

describe('benchmarkTransform', () => {
  const harness = (f: SourceFrame) => f.file.includes('/node_modules/tinybench/');
  const t = benchmarkTransform(harness);
  it('cuts harness frames below the benchmark function', () => {
    const stack = [js('hot', '/p/src/hot.ts'), js('(anonymous)', '/p/x.bench.ts'), js('a', '/p/node_modules/tinybench/dist/index.js'), js('run', '/p/node_modules/tinybench/dist/index.js')];
    expect(t(stack).map((f) => f.name)).toEqual(['hot', '(anonymous)']);
  });
  it('folds wholly-harness samples into one frame', () => {
    expect(t([js('loop', '/p/node_modules/tinybench/dist/index.js')]).map((f) => f.name)).toEqual([HARNESS_FRAME]);
  });
  it('cuts node internals at the root of a resumed async benchmark', () => {
    const stack = [js('hot', '/p/src/hot.ts'), js('processTicksAndRejections', 'node:internal/process/task_queues')];
    expect(t(stack).map((f) => f.name)).toEqual(['hot']);
  });
});

describe('stats', () => {
  it('computes hz and rme like tinybench, and overhead from two hz', () => {
    const s = passStats([1, 1, 1, 1])!;
    expect(s.hz).toBe(1000);
    expect(s.rme).toBe(0);
    expect(overheadPct(1000, 900)).toBe(10);
    expect(overheadPct(null, 900)).toBeNull();
  });
});

describe('liveLine', () => {
  it('shows each benchmark being profiled with its samples so far, from the running and progress files', async () => {
    const { mkdirSync, mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { liveLine } = await import('../src/reporter.js');
    const { progressFile, runningFile, RECORDS_DIR } = await import('../src/protocol.js');
    const out = mkdtempSync(path.join(tmpdir(), 'vitest-perf-live-'));
    expect(liveLine(out)).toBeUndefined(); // no records dir yet
    mkdirSync(path.join(out, RECORDS_DIR));
    const id = 'hash.bench--hash--fnv1a-sync-71de3f';
    writeFileSync(runningFile(out, id), JSON.stringify({ file: 'bench/hash.bench.ts', fullName: 'hash > fnv1a sync' }));
    expect(liveLine(out)).toBe('perfprofile: profiling hash > fnv1a sync: …'); // v8 source: no count
    writeFileSync(progressFile(out, id), '                 137\n');
    writeFileSync(path.join(out, RECORDS_DIR, 'done.json'), '{}');
    expect(liveLine(out)).toBe('perfprofile: profiling hash > fnv1a sync: 137 samples so far');
    rmSync(runningFile(out, id));
    expect(liveLine(out)).toBeUndefined();
  });
});
