/**
 * End to end on Vitest 5 (fixtures/vitest5, Node >= 22.12): the `bench` fixture and the
 * benchmark provider. Every registration a provider run executes — `bench(...).run()` and each
 * member of `bench.compare()` — gets the same per-benchmark output, labels and summary as on
 * Vitest 4; a project's own `benchmark.provider` is wrapped and still runs every benchmark.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IndexFile } from '../src/output.js';
import { registrationPath } from '../src/names-v5.js';
import { benchId } from '../src/slug.js';
import { checkRun, requireSupported, VITEST5 } from './compat.js';
import { CLI, memoChecks, readIndex, readProfile, run, tmpOut, type RunResult } from './helpers.js';

const P = VITEST5;
requireSupported(P);

describe.skipIf(P.unsupported)('Vitest 5: vitest-perf bench (forks pool, native source)', () => {
  const out = tmpOut('perf.out');
  let result: RunResult;
  beforeAll(() => {
    result = run([CLI, 'bench', '--run', '--perfprofile', out], { cwd: P.dir });
  });

  it('exits as Vitest does and profiles each registration of .run() and bench.compare()', () => {
    expect(result.status, result.stderr).toBe(0);
    const index = readIndex(out);
    checkRun(P, out, index);
    // Both members of the compare group, each with its own profile and Vitest's measured pass.
    const compared = index.benchmarks.filter((b) => b.fullName.startsWith('hash > fnv1a > '));
    expect(compared.map((b) => b.name).sort()).toEqual(['async', 'sync']);
    for (const b of index.benchmarks) {
      expect(b.file).toMatch(/^bench\/(sort|hash)\.bench\.ts$/);
      expect(b.hz.baseline).toBeGreaterThan(0);
      expect(typeof b.overheadPct).toBe('number');
    }
  });

  it('records event=auto as the native task-clock, with per-op counters from the measured and the profiled phase', () => {
    const index = readIndex(out);
    expect(index.config.source).toBe('perf_event');
    expect(index.config.event).toBe('task-clock');
    for (const b of index.benchmarks) {
      expect(Object.keys(b.counters)).toEqual(['task-clock/op', 'page-faults/op', 'context-switches/op']);
      // CPU time per op against Vitest's own ops/s (the same phase): within a factor of 2.
      const nsPerOp = 1e9 / b.hz.baseline!;
      expect(b.counters['task-clock/op']).toBeGreaterThan(nsPerOp / 2);
      expect(b.counters['task-clock/op']).toBeLessThan(nsPerOp * 2);
      // The profiled pass is counted too (the gate's time), against its own ops/s.
      expect(Object.keys(b.profiledCounters!)).toEqual(Object.keys(b.counters));
      const profiledNs = 1e9 / b.hz.profiled!;
      expect(b.profiledCounters!['task-clock/op']).toBeGreaterThan(profiledNs / 2);
      expect(b.profiledCounters!['task-clock/op']).toBeLessThan(profiledNs * 2);
    }
  });

  it("prints the same summary table as on Vitest 4, under Vitest's own tables", () => {
    const header = result.stdout.split('\n').find((l) => l.startsWith('benchmark '))!;
    expect(header.split(/\s{2,}/)).toEqual([
      'benchmark',
      'samples',
      'rate',
      'baseline ops/s',
      'profiled ops/s',
      'overhead',
      'counters/op',
      'B/op',
      'allocs/op',
      'top self function',
    ]);
    for (const [name, hot] of Object.entries(P.hot)) {
      const row = result.stdout.split('\n').find((l) => l.startsWith(`${name} `))!;
      expect(row, name).toMatch(
        new RegExp(
          `\\d+\\s+\\d+/s\\s+[\\d,.]+\\s+[\\d,.]+\\s+[+-]?\\d+\\.\\d%\\s±\\d+\\.\\d\\s+task-clock .*\\s+${hot.fn} \\d+\\.\\d%$`,
        ),
      );
    }
    expect(result.stdout).toContain('v5.'); // Vitest 5's own run header
    // Nothing of ours among Vitest's output on a plain log: the summary is the first.
    const lines = result.stdout.split('\n');
    const summary = lines.findIndex((l) => l.startsWith(' perfprofile event='));
    expect(summary).toBeGreaterThan(0);
    expect(lines.slice(0, summary).filter((l) => l.includes('perfprofile'))).toEqual([]);
    expect(result.stdout).toMatch(/profiles: .*perf\.out/);
    expect(result.stdout).not.toMatch(/\x1b\[/); // NO_COLOR
  });
});

describe.skipIf(P.unsupported)(
  'Vitest 5: vitest bench -- --perfprofile (plugin route, threads pool, v8 source)',
  () => {
    it('profiles every registration with the asked rate', () => {
      const out = tmpOut('perf2.out');
      const r = run(
        [
          P.vitestBin,
          'bench',
          '--run',
          '--config',
          'vitest.plugin.config.ts',
          '--',
          '--perfprofile',
          out,
          '--perfprofileconfig',
          'event=v8 rate=2000',
        ],
        { cwd: P.dir, env: { FIXTURE_POOL: 'threads' } },
      );
      expect(r.status, r.stderr).toBe(0);
      const index = readIndex(out);
      checkRun(P, out, index);
      expect(index.config.source).toBe('v8');
      expect(index.config.rate).toBe(2000);
    });

    it('is inert without --perfprofile and in a test run', () => {
      const bench = run([P.vitestBin, 'bench', '--run', '--config', 'vitest.plugin.config.ts', '-t', 'bubble'], {
        cwd: P.dir,
      });
      expect(bench.status, bench.stderr).toBe(0);
      expect(bench.stdout).toContain('bubble 400');
      expect(bench.stdout).not.toContain('perfprofile');
      const out = tmpOut('never.out');
      const tests = run(
        [P.vitestBin, 'run', '--config', 'vitest.plugin.config.ts', '--passWithNoTests', '--', '--perfprofile', out],
        { cwd: P.dir },
      );
      expect(tests.status, tests.stderr).toBe(0);
      expect(tests.stdout).not.toContain('perfprofile');
      expect(existsSync(out)).toBe(false);
    });
  },
);

describe.skipIf(P.unsupported)('Vitest 5: a project with its own benchmark.provider', () => {
  it('wraps it: the user provider runs every registration, measured and profiled', () => {
    const out = tmpOut('perf3.out');
    const log = path.join(path.dirname(out), 'provider.log');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out], {
      cwd: P.dir,
      env: { FIXTURE_PROVIDER: '1', FIXTURE_PROVIDER_LOG: log },
    });
    expect(r.status, r.stderr).toBe(0);
    const index = readIndex(out);
    checkRun(P, out, index);
    const runs = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { test: string; names: string[]; warmup: boolean });
    // Per test: the measured run of its whole group (with warm-up), then per registration its
    // allocation census (with warm-up ops outside it) and its profiled run (without), all
    // through the user's provider.
    const byTest = new Map<string, typeof runs>();
    for (const x of runs) byTest.set(x.test, [...(byTest.get(x.test) ?? []), x]);
    expect([...byTest.keys()].sort()).toEqual(['hash > fnv1a', 'sorting > bubble 400', 'sorting > selection 400']);
    expect(byTest.get('hash > fnv1a')).toEqual([
      { test: 'hash > fnv1a', names: ['sync', 'async'], warmup: true },
      { test: 'hash > fnv1a', names: ['sync'], warmup: true },
      { test: 'hash > fnv1a', names: ['sync'], warmup: false },
      { test: 'hash > fnv1a', names: ['async'], warmup: true },
      { test: 'hash > fnv1a', names: ['async'], warmup: false },
    ]);
    // Each census took its memory figures through the user's provider too.
    for (const b of index.benchmarks) expect(b.memory?.censusOps, b.fullName).toBeGreaterThan(0);
    // The provider calls tinybench-style phase hooks, so counters come from its measured phase.
    for (const b of index.benchmarks) expect(b.counters['task-clock/op']).toBeGreaterThan(0);
  });
});

describe.skipIf(P.unsupported)('Vitest 5: failures and baseline=off', () => {
  let failing: { r: RunResult; out: string; index: IndexFile };
  beforeAll(() => {
    const out = tmpOut('perf4.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out, 'extra/'], { cwd: P.dir, env: { FIXTURE_EXTRA: '1' } });
    failing = { r, out, index: readIndex(out) };
  });

  it('a throwing registration fails as Vitest reports it and keeps its partial profile; its partner passes', () => {
    const { r, out, index } = failing;
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain('fixture: deliberate failure');
    expect(index.complete).toBe(false);
    const byName = new Map(index.benchmarks.map((b) => [b.fullName, b]));
    const failed = byName.get('failing > mixed > throws every 40th call')!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('deliberate failure');
    expect(failed.samples).toBeGreaterThan(0);
    expect(readProfile(path.join(out, failed.profile)).samples.length).toBeGreaterThan(0);
    const passed = byName.get('failing > mixed > passes')!;
    expect(passed.status).toBe('passed');
    expect(passed.samples).toBeGreaterThan(20);
    expect(passed.top[0].function).toBe('selectionSort');
    expect(r.stdout).toContain('incomplete');
  });

  it('a profile that cannot be written (a directory in its way) fails its test and names it; the worker profiles nothing more; exit 1', () => {
    const out = tmpOut('perf6.out');
    // rename() cannot replace a non-empty directory: bubble's profile write fails after its profiled pass.
    const blocked = path.join(
      out,
      `${benchId('bench/sort.bench.ts', registrationPath('sorting > bubble 400', 'bubble 400'))}.pb.gz`,
    );
    mkdirSync(blocked, { recursive: true });
    writeFileSync(path.join(blocked, 'keep'), 'x');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out, 'bench/sort'], { cwd: P.dir });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toMatch(
      /could not write the profile of "sorting > bubble 400": cannot write to \S+perf6\.out \(EISDIR\)/,
    );
    const index = readIndex(out);
    expect(index.complete).toBe(false);
    expect(index.benchmarks).toEqual([]);
    expect(index.missing).toEqual([
      {
        file: 'bench/sort.bench.ts',
        fullName: 'sorting > bubble 400',
        reason: expect.stringMatching(
          /^profile not written: cannot write to \S+perf6\.out \(EISDIR\): pass another --perfprofile directory$/,
        ),
      },
      {
        file: 'bench/sort.bench.ts',
        fullName: 'sorting > selection 400',
        reason: expect.stringMatching(/^not profiled after an earlier write failed: cannot write to /),
      },
    ]);
    // Vitest's own result for the unprofiled one stands; the summary does not claim it was profiled.
    expect(r.stdout).toMatch(/selection 400/);
    expect(r.stdout).not.toMatch(/^sorting > selection 400 /m);
    expect(r.stdout).toMatch(
      /^no profile: sorting > selection 400 \(bench\/sort\.bench\.ts\): not profiled after an earlier write failed: /m,
    );
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(path.join(blocked, 'keep'), 'utf8')).toBe('x');
  });

  it('baseline=off profiles the measured phase and says so', () => {
    const out = tmpOut('perf5.out');
    const r = run(
      [
        CLI,
        'bench',
        '--run',
        '--perfprofile',
        out,
        '--perfprofileconfig',
        'event=task-clock baseline=off',
        '-t',
        'bubble',
      ],
      { cwd: P.dir },
    );
    expect(r.status, r.stderr).toBe(0);
    const index = readIndex(out);
    expect(index.benchmarks.map((b) => b.fullName)).toEqual(['sorting > bubble 400']);
    const [b] = index.benchmarks;
    expect(b.hz.baseline).toBeNull();
    expect(b.hz.profiled).toBeGreaterThan(0);
    expect(b.top[0].function).toBe('bubbleSort');
    expect(b.counters['task-clock/op']).toBeGreaterThan(0);
    // One pass: its counters are the profiled pass's too.
    expect(b.profiledCounters).toEqual(b.counters);
    expect(r.stdout).toContain('baseline=off: the ops/s above were measured with the profiler running');
  });
});

describe.skipIf(P.unsupported)('Vitest 5: the stack memo checked against V8 (PERFPROFILE_STACK_MEMO=check)', () => {
  it('replays most stacks of every benchmark, and none differs from V8’s own walk', () => {
    const out = tmpOut('perf.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', 'event=task-clock rate=5000'], {
      cwd: P.dir,
      env: { PERFPROFILE_STACK_MEMO: 'check' },
    });
    expect(r.status, r.stderr).toBe(0);
    const checks = memoChecks(readIndex(out));
    expect(checks.length).toBeGreaterThan(0);
    for (const c of checks) {
      expect(c.differed).toBe(0);
      expect(c.replayed / c.samples).toBeGreaterThan(0.8);
    }
  });
});
