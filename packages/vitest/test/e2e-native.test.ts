/**
 * Native events end to end: `vitest-perf bench --run` on fixtures/vitest4 sampled by perf
 * events (event=task-clock in the forks pool, event=auto in the threads pool), each profile
 * read back by `go tool pprof`: the hot function on top, its frames in the fixture's .ts files.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  HOT,
  lineOf,
  memoChecks,
  pprof,
  readIndex,
  readProfile,
  run,
  tmpOut,
  topRows,
  type RunResult,
} from './helpers.js';
import type { IndexFile } from '../src/output.js';
import { needs } from '../../../scripts/tools.mjs';

/** Every benchmark's profile, through go tool pprof: top function and where its samples are. */
function checkWithPprof(out: string, index: IndexFile): void {
  for (const b of index.benchmarks) {
    const hot = HOT[b.fullName];
    const file = path.join(out, b.profile);
    const top = pprof(file, '-top');
    expect(top).toMatch(/^Type: cpu$/m);
    expect(topRows(top)[0], b.fullName).toBe(hot.fn);
    // With -lines each row is `function file:line`: the hot function's lines are in its .ts
    // source (the native source reports optimized code at its function's first line; the
    // source map must still carry that to the .ts declaration, not the generated JS).
    const [fn, where] = topRows(pprof(file, '-top', '-lines'))[0].split(' ');
    expect(fn).toBe(hot.fn);
    const [rowFile, rowLine] = where.split(':');
    expect(rowFile).toBe(hot.file);
    expect(Number(rowLine)).toBeGreaterThanOrEqual(lineOf(hot.file, hot.decl));
    // Every file any frame names is a .ts file of the project (or Node's own).
    const files = new Set(
      readProfile(file)
        .functions.map((f) => f.filename)
        .filter((f) => f !== ''),
    );
    for (const f of files) expect(f, b.fullName).toMatch(/^(?:node:|(?:src|bench)\/.*\.ts$)/);
  }
}

describe('event=task-clock rate=1000 (forks pool)', () => {
  const out = tmpOut('perf.out');
  let result: RunResult;
  beforeAll(() => {
    result = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', 'event=task-clock rate=1000']);
  });

  it('samples every benchmark with the perf event at the asked rate', () => {
    expect(result.status, result.stderr).toBe(0);
    const index = readIndex(out);
    expect(index.complete).toBe(true);
    expect(index.config).toMatchObject({
      event: 'task-clock',
      rate: 1000,
      period: 1_000_000,
      source: 'perf_event',
      reason: 'event=task-clock as configured',
    });
    expect(index.benchmarks.map((b) => b.fullName).sort()).toEqual(Object.keys(HOT).sort());
    for (const b of index.benchmarks) {
      expect(b.lost).toBe(0);
      // 1000 Hz of CPU time: the rate achieved is near it (the profiled pass is CPU-bound).
      expect(b.samples / (b.durationMs / 1000), b.fullName).toBeGreaterThan(300);
      expect(b.samples / (b.durationMs / 1000), b.fullName).toBeLessThan(1100);
    }
    expect(result.stdout.split('\n')[result.stdout.split('\n').findIndex((l) => l.startsWith('benchmark ')) - 1]).toBe(
      ' perfprofile event=task-clock 1000 Hz source=perf_event',
    );
  });

  it("go tool pprof names each benchmark's hot function, in its .ts file", needs('go'), () => {
    checkWithPprof(out, readIndex(out));
  });
});

describe('event=auto (threads pool)', () => {
  const out = tmpOut('perf.out');
  let result: RunResult;
  beforeAll(() => {
    result = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', 'event=auto', '-t', 'hash'], {
      env: { FIXTURE_POOL: 'threads' },
    });
  });

  it('resolves to task-clock on this PMU-less machine and says why, in index.json and the summary', () => {
    expect(result.status, result.stderr).toBe(0);
    const index = readIndex(out);
    expect(index.complete).toBe(true);
    const why = 'event=auto chose task-clock (cycles: no hardware PMU (ENOENT))';
    expect(index.config).toMatchObject({ event: 'task-clock', rate: 997, source: 'perf_event', reason: why });
    expect(index.benchmarks.map((b) => b.fullName).sort()).toEqual(['hash > fnv1a async', 'hash > fnv1a sync']);
    expect(result.stdout).toContain(` perfprofile event=task-clock 997 Hz source=perf_event — ${why}`);
    // Counters work on worker threads too (perf events are per thread).
    for (const b of index.benchmarks) expect(b.counters['task-clock/op']).toBeGreaterThan(0);
  });

  it('go tool pprof names the hot function of profiles sampled on worker threads, in its .ts file', needs('go'), () => {
    checkWithPprof(out, readIndex(out));
  });
});

describe('without the native engine (off Linux, simulated)', () => {
  it('runs on event=v8, leaves counters empty, and the summary says why once', () => {
    const out = tmpOut('perf.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out, '-t', 'sort'], {
      env: { PERFPROFILE_SIMULATE_PLATFORM: 'darwin' },
    });
    expect(r.status, r.stderr).toBe(0);
    const index = readIndex(out);
    expect(index.complete).toBe(true);
    expect(index.config.source).toBe('v8');
    const why = 'per-op counters need the native engine: Linux only';
    expect(index.config.warnings.filter((w) => w === why)).toHaveLength(1);
    expect(index.benchmarks.length).toBe(2);
    for (const b of index.benchmarks) expect(b.counters).toEqual({});
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.includes(why))).toEqual([`warning: ${why}`]);
    const header = lines.find((l) => l.startsWith('benchmark '))!.split(/\s{2,}/);
    for (const b of index.benchmarks)
      expect(lines.find((l) => l.startsWith(`${b.fullName} `))!.split(/\s{2,}/)[header.indexOf('counters/op')]).toBe(
        '-',
      );
  });
});

describe('the stack memo in a real run, checked against V8 (PERFPROFILE_STACK_MEMO=check)', () => {
  it('replays most stacks of every benchmark, and none differs from V8’s own walk', () => {
    const out = tmpOut('perf.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', 'event=task-clock rate=5000'], {
      env: { PERFPROFILE_STACK_MEMO: 'check' },
    });
    expect(r.status, r.stderr).toBe(0);
    const index = readIndex(out);
    const checks = memoChecks(index);
    expect(checks.length, JSON.stringify(index.config.warnings)).toBeGreaterThan(0);
    for (const c of checks) {
      expect(c.differed).toBe(0);
      expect(c.replayed / c.samples).toBeGreaterThan(0.8);
    }
  });
});
