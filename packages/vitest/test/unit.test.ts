/** Unit tests without a Vitest run: ids, flags, the harness cut, stats, progress surfaces, the summary, output errors. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceFrame } from '@perfprofile/core';
import { benchId } from '../src/slug.js';
import { extractFlags, mergeRequests } from '../src/settings.js';
import { benchmarkTransform, HARNESS_FRAME } from '../src/harness.js';
import { passStats, overheadPct } from '../src/stats.js';
import { perOp } from '../src/benchprofile.js';
import { fitRow, liveLine, LiveProgress } from '../src/progress.js';
import { inPlaceSurface, windowSurface } from '../src/live.js';
import { replay } from './screen.js';
import { interruptedReason } from '../src/interrupt.js';
import { summaryTable } from '../src/summary.js';
import type { IndexFile } from '../src/output.js';
import { progressFile, runningFile, RECORDS_DIR } from '../src/protocol.js';
import { isWriteError, OutputWriteError, writeFailureReason } from '../src/writefail.js';

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
    const r = extractFlags([
      '--run',
      '--perfprofile',
      'out',
      '-t',
      'x',
      '--perfprofileconfig=event=v8 rate=1k',
      'file',
    ]);
    expect(r).toEqual({ request: { out: 'out', config: 'event=v8 rate=1k' }, rest: ['--run', '-t', 'x', 'file'] });
    expect(extractFlags(['--perfprofile=o', '--perfprofileconfig', '<event=v8>'])).toEqual({
      request: { out: 'o', config: '<event=v8>' },
      rest: [],
    });
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
    const stack = [
      js('hot', '/p/src/hot.ts'),
      js('(anonymous)', '/p/x.bench.ts'),
      js('a', '/p/node_modules/tinybench/dist/index.js'),
      js('run', '/p/node_modules/tinybench/dist/index.js'),
    ];
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

describe('perOp', () => {
  it("divides event totals by the pass's ops, four significant digits, and gives nothing without ops", () => {
    expect(perOp({ 'task-clock': 1_234_567, 'page-faults': 3 }, 1000)).toEqual({
      'task-clock/op': 1235,
      'page-faults/op': 0.003,
    });
    expect(perOp({ 'task-clock': 5 }, 0)).toEqual({});
    expect(perOp(undefined, 10)).toEqual({});
  });
});

describe('progress', () => {
  const id = 'hash.bench--hash--fnv1a-sync-71de3f';
  const marker = (phase: string) =>
    JSON.stringify({ file: 'bench/hash.bench.ts', fullName: 'hash > fnv1a sync', phase });
  const record = {
    id,
    file: 'bench/hash.bench.ts',
    fullName: 'hash > fnv1a sync',
    samples: 140,
    durationMs: 150,
    status: 'passed',
  };

  const plain = (t: string) => t.replace(/\x1b\[[0-9;]*m/g, '');
  function fakeStream(isTTY: boolean) {
    const writes: string[] = [];
    return {
      writes,
      stream: { isTTY, columns: 200, write: (t: string) => writes.push(plain(t)) } as unknown as NodeJS.WriteStream,
    };
  }

  it('shows each benchmark in its profiled pass with its samples so far, from the marker and progress files', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'vitest-perf-live-'));
    expect(liveLine(out)).toBeUndefined(); // no records dir yet
    mkdirSync(path.join(out, RECORDS_DIR));
    writeFileSync(runningFile(out, id), marker('measured'));
    expect(liveLine(out)).toBeUndefined(); // Vitest's measured pass is not ours to show
    writeFileSync(runningFile(out, id), marker('profiled'));
    expect(liveLine(out)).toBe('perfprofile: profiling hash > fnv1a sync: …'); // v8 source: no count
    writeFileSync(progressFile(out, id), '                 137\n');
    writeFileSync(path.join(out, RECORDS_DIR, 'done.json'), '{}');
    expect(liveLine(out)).toBe('perfprofile: profiling hash > fnv1a sync: 137 samples so far');
    rmSync(runningFile(out, id));
    expect(liveLine(out)).toBeUndefined();
  });

  it('on a bare terminal rewrites one line in place and removes it when the pass ends', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'vitest-perf-tty-'));
    mkdirSync(path.join(out, RECORDS_DIR));
    const { writes, stream } = fakeStream(true);
    const progress = new LiveProgress(out, inPlaceSurface(stream), () => 200);
    writeFileSync(runningFile(out, id), marker('profiled'));
    writeFileSync(progressFile(out, id), '10\n');
    progress.poll();
    progress.poll(); // unchanged: nothing written
    writeFileSync(progressFile(out, id), '250\n');
    progress.poll();
    expect(writes).toEqual([
      'perfprofile: profiling hash > fnv1a sync: 10 samples so far',
      '\r\x1b[K',
      'perfprofile: profiling hash > fnv1a sync: 250 samples so far',
    ]);
    rmSync(runningFile(out, id));
    writeFileSync(path.join(out, RECORDS_DIR, `${id}.json`), JSON.stringify(record));
    progress.poll();
    // The profile was written: the line goes, and no line of its own is left in its place.
    expect(writes.slice(3)).toEqual(['\r\x1b[K']);
    progress.stop();
    expect(writes.slice(4)).toEqual([]);
  });

  it('keeps the live line below everything else written to the terminal, never in the middle of a line', () => {
    const { writes, stream } = fakeStream(true);
    const err = fakeStream(true);
    const live = inPlaceSurface(stream, [err.stream]);
    const at = (n: number) => `perfprofile: profiling x: ${n} samples so far`;
    live.show(at(10));
    live.show(at(10)); // drawn already: nothing written
    stream.write(' ✓ bench/a.bench.ts > a\n     name  hz\n   · one  12\n');
    live.show(at(10)); // erased by that write: drawn again
    err.stream.write('an error line\n');
    stream.write('partial');
    live.show(at(20)); // a line is being written: not drawn onto it
    stream.write(' end\n');
    live.show(at(20));
    live.close();
    stream.write('after\n');
    expect(writes).toEqual([
      at(10),
      '\r\x1b[K',
      ' ✓ bench/a.bench.ts > a\n     name  hz\n   · one  12\n',
      at(10),
      '\r\x1b[K', // erased before the stderr line
      'partial',
      ' end\n',
      at(20),
      '\r\x1b[K',
      'after\n',
    ]);
    expect(err.writes).toEqual(['an error line\n']);
    // On stdout's own screen: Vitest's lines as written, the live line nowhere.
    expect(replay(writes.join(''))).toEqual([
      ' ✓ bench/a.bench.ts > a',
      '     name  hz',
      '   · one  12',
      'partial end',
      'after',
      '',
    ]);
  });

  it("under Vitest's summary window adds the live line as the window's last row", () => {
    const out = mkdtempSync(path.join(tmpdir(), 'vitest-perf-window-'));
    mkdirSync(path.join(out, RECORDS_DIR));
    let renders = 0;
    const renderer = { options: { getWindow: () => [' Test Files 0 passed (1)'] }, schedule: () => renders++ };
    const live = windowSurface([{ onInit() {} }, { summary: { renderer } }])!;
    expect(live).toBeDefined();
    const progress = new LiveProgress(out, live, () => 200);
    writeFileSync(runningFile(out, id), marker('profiled'));
    writeFileSync(progressFile(out, id), '10\n');
    progress.poll();
    progress.poll();
    expect(renderer.options.getWindow().map(plain)).toEqual([
      ' Test Files 0 passed (1)',
      'perfprofile: profiling hash > fnv1a sync: 10 samples so far',
      '',
    ]);
    expect(renders).toBe(1);
    progress.stop();
    expect(renderer.options.getWindow()).toEqual([' Test Files 0 passed (1)']);
    expect(windowSurface([{ summary: {} }, 'default'])).toBeUndefined();
  });

  it('fits the live line to one terminal row', () => {
    expect(fitRow('perfprofile: profiling a: 12 samples so far', 80)).toBe(
      'perfprofile: profiling a: 12 samples so far',
    );
    expect(fitRow('perfprofile: profiling a: 12 samples so far', 20)).toBe('perfprofile: profi…');
  });

  it('says where an interrupted benchmark was', () => {
    const base = { file: 'f.bench.ts', fullName: 'f > x' };
    expect(interruptedReason({ ...base, phase: 'measured', samples: undefined }, 'SIGTERM')).toBe(
      'interrupted by SIGTERM in its measured pass, before it was profiled',
    );
    expect(interruptedReason({ ...base, phase: 'profiled', samples: 12 }, 'SIGINT')).toBe(
      'interrupted by SIGINT while profiled (12 samples taken, profile not written)',
    );
  });
});

describe('summaryTable', () => {
  const index = (counters: Record<string, number>, reason: string, warnings: string[]): IndexFile => ({
    schema: 1,
    config: {
      text: '{event=auto}',
      event: 'task-clock',
      events: ['task-clock'],
      rate: 997,
      period: 1003009,
      source: 'perf_event',
      reason,
      baseline: true,
      warnings,
    },
    node: process.version,
    vitest: '4.1.12',
    complete: true,
    benchmarks: ['a', 'b'].map((n) => ({
      id: `x--${n}-000000`,
      file: 'x.bench.ts',
      name: n,
      fullName: `x > ${n}`,
      profile: `x--${n}-000000.pb.gz`,
      samples: 100,
      lost: 0,
      durationMs: 100,
      hz: { baseline: 1000, profiled: 990 },
      rme: { baseline: 1, profiled: 1 },
      overheadPct: 1,
      counters,
      top: [{ function: 'hot', file: 'src/hot.ts', line: 3, selfPct: 90 }],
      harnessPct: 0,
      status: 'passed' as const,
    })),
    missing: [],
    merged: 'merged.pb.gz',
  });

  it('shows per-op counters and why the source was chosen', () => {
    const lines = summaryTable(
      index(
        { 'task-clock/op': 1234, 'page-faults/op': 0.5, 'context-switches/op': 0 },
        'event=auto chose task-clock (cycles: no hardware PMU (ENOENT))',
        [],
      ),
      { colors: false },
    );
    expect(lines[0]).toBe(
      ' perfprofile event=task-clock 997 Hz source=perf_event — event=auto chose task-clock (cycles: no hardware PMU (ENOENT))',
    );
    expect(lines.find((l) => l.startsWith('x > a'))).toContain('task-clock 1.23µs page-faults 0.5 context-switches 0');
  });

  it('without counters shows "-" per row and the reason once', () => {
    const why = 'per-op counters need the native engine: Linux only';
    const lines = summaryTable(index({}, 'event=v8 as configured', [why]), { colors: false });
    expect(lines[0]).toBe(' perfprofile event=task-clock 997 Hz source=perf_event');
    const header = lines[1].split(/\s{2,}/);
    for (const name of ['x > a', 'x > b'])
      expect(lines.find((l) => l.startsWith(name))!.split(/\s{2,}/)[header.indexOf('counters/op')]).toBe('-');
    expect(lines.filter((l) => l.includes(why))).toEqual([`warning: ${why}`]);
  });
});

describe('summary: harness share', () => {
  const base = (harnessPct: number, i: number) => ({
    id: `x--b${i}-000000`,
    file: 'x.bench.ts',
    name: `b${i}`,
    fullName: `x > b${i}`,
    profile: `x--b${i}-000000.pb.gz`,
    samples: 100,
    lost: 0,
    durationMs: 100,
    hz: { baseline: 1000, profiled: 990 },
    rme: { baseline: 1, profiled: 1 },
    overheadPct: 1,
    counters: {},
    top: [{ function: 'hot', file: 'src/hot.ts', line: 3, selfPct: 50 }],
    harnessPct,
    status: 'passed' as const,
  });
  const index = (shares: number[]): IndexFile => ({
    schema: 1,
    config: {
      text: '{event=auto}',
      event: 'task-clock',
      events: ['task-clock'],
      rate: 997,
      period: 1003009,
      source: 'perf_event',
      reason: 'as configured',
      baseline: true,
      warnings: [],
    },
    node: process.version,
    vitest: '4.1.12',
    complete: true,
    benchmarks: shares.map(base),
    missing: [],
    merged: 'merged.pb.gz',
  });

  it('names the benchmarks that spent a quarter or more of their samples in the harness in one line, however many there are', () => {
    const lines = summaryTable(index([0, 30, 95, 24.9, 60, 25, 80]), { colors: false });
    expect(lines.filter((l) => l.includes('harness'))).toEqual([
      'harness: 5 of 7 benchmarks spent ≥25% of their samples in Vitest/tinybench code: x > b2 95%, x > b6 80%, x > b4 60% and 2 more (index.json harnessPct; README "Harness share")',
    ]);
    const many = summaryTable(index(Array.from({ length: 62 }, () => 50)), { colors: false });
    expect(many.filter((l) => l.includes('harness'))).toHaveLength(1);
    expect(many.find((l) => l.startsWith('harness: '))).toMatch(/^harness: 62 of 62 benchmarks .* and 59 more /);
  });

  it('says nothing below the threshold', () => {
    expect(summaryTable(index([0, 5, 24.9]), { colors: false }).filter((l) => l.includes('harness'))).toEqual([]);
  });
});

describe('prepareOutput', () => {
  it('creates nested directories and refuses, without hanging, what cannot be one', async () => {
    const { prepareOutput } = await import('../src/settings.js');
    const base = mkdtempSync(path.join(tmpdir(), 'vitest-perf-out-'));
    expect(prepareOutput(path.join(base, 'a/b/perf.out'))).toBeUndefined();
    writeFileSync(path.join(base, 'file'), '');
    expect(prepareOutput(path.join(base, 'file/perf.out'))).toMatchObject({
      code: 'ERR_IO',
      message: expect.stringMatching(/is not writable \(ENOTDIR\)$/),
    });
    // Node's recursive mkdirSync never returns for this path (procfs answers ENOENT).
    expect(prepareOutput('/proc/perf.out/x')).toMatchObject({
      code: 'ERR_IO',
      message: 'output directory /proc/perf.out/x is not writable (ENOENT)',
    });
  });
});

describe('write failures in the output directory', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: failed, write`), { code });

  it('one line naming the directory, the errno and what to do', () => {
    expect(writeFailureReason('/d/perf.out', errno('ENOSPC'))).toBe(
      'no space left on /d/perf.out (ENOSPC): free space or pass another --perfprofile directory',
    );
    expect(writeFailureReason('/d/perf.out', errno('EDQUOT'))).toBe(
      'disk quota exceeded on /d/perf.out (EDQUOT): free space or pass another --perfprofile directory',
    );
    expect(writeFailureReason('/d/perf.out', errno('EROFS'))).toBe(
      '/d/perf.out is on a read-only file system (EROFS): pass another --perfprofile directory',
    );
    expect(writeFailureReason('/d/perf.out', errno('EIO'))).toBe(
      'input/output error writing to /d/perf.out (EIO): check the disk or pass another --perfprofile directory',
    );
    expect(writeFailureReason('/d/perf.out', errno('EISDIR'))).toBe(
      'cannot write to /d/perf.out (EISDIR): pass another --perfprofile directory',
    );
    expect(writeFailureReason('/d/perf.out', new Error('odd\nsecond line'))).toBe(
      'cannot write to /d/perf.out (odd): pass another --perfprofile directory',
    );
  });

  it('the error is one line (no stack), recognized by name or by message after serialization', () => {
    const e = new OutputWriteError(
      'the profile of "a > b"',
      writeFailureReason('/d', errno('ENOSPC')),
      errno('ENOSPC'),
    );
    expect(e.message).toBe(
      'perfprofile: could not write the profile of "a > b": no space left on /d (ENOSPC): free space or pass another --perfprofile directory',
    );
    expect(e.stack).toBe(`PerfprofileWriteError: ${e.message}`);
    expect(e.code).toBe('ENOSPC');
    expect(Object.keys(e)).toEqual(['name']);
    expect(e.benchmark).toBeUndefined();
    expect(new OutputWriteError('the record of "a > b"', 'r', errno('EIO'), 'a > b')).toMatchObject({
      benchmark: 'a > b',
      reason: 'r',
      code: 'EIO',
    });
    expect(isWriteError(e)).toBe(true);
    expect(isWriteError({ name: 'Error', message: e.message })).toBe(true);
    expect(isWriteError(new Error('boom'))).toBe(false);
  });
});
