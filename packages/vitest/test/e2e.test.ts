/**
 * End to end: real `vitest bench --run` child processes on fixtures/vitest4, through the bin
 * (forks pool) and through the plugin + `--` route (threads pool).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  acceptedTop,
  benchmarkLabels,
  CLI,
  FIXTURE,
  HOT,
  lineOf,
  pprofTop,
  readIndex,
  readProfile,
  run,
  tmpOut,
  topFunction,
  VITEST_BIN,
  type RunResult,
} from './helpers.js';
import type { IndexFile } from '../src/output.js';
import { crossCheck } from '../../../scripts/tools.mjs';

function checkProfiles(out: string, index: IndexFile): void {
  expect(index.schema).toBe(1);
  expect(index.complete).toBe(true);
  expect(index.node).toBe(process.version);
  expect(index.vitest).toMatch(/^4\.1\./);
  expect(index.benchmarks.map((b) => b.fullName).sort()).toEqual(Object.keys(HOT).sort());
  const ids = new Set(index.benchmarks.map((b) => b.id));
  expect(ids.size).toBe(index.benchmarks.length);
  for (const b of index.benchmarks) {
    const hot = HOT[b.fullName];
    expect(b.id).toMatch(/^[a-z0-9.-]+$/);
    expect(b.profile).toBe(`${b.id}.pb.gz`);
    expect(b.status).toBe('passed');
    expect(b.samples).toBeGreaterThan(20);
    expect(b.hz.baseline).toBeGreaterThan(0);
    expect(b.hz.profiled).toBeGreaterThan(0);
    expect(typeof b.overheadPct).toBe('number');
    const accepted = acceptedTop(hot, index.config.source);
    expect(accepted).toContain(b.top[0].function);
    const profile = readProfile(path.join(out, b.profile));
    expect(profile.samples.length).toBeGreaterThan(0);
    expect(benchmarkLabels(profile)).toEqual(new Set([b.fullName]));
    // Files are the original .ts, relative to the project root; lines are the source's
    // (wherever the hot function appears: always, unless V8 lost its frames, see HOT).
    const fn = profile.functions.find((f) => f.name === hot.fn);
    if (b.top[0].function === hot.fn) expect(fn).toBeDefined();
    if (fn) {
      expect(fn.filename).toBe(hot.file);
      expect(fn.startLine).toBe(lineOf(hot.file, hot.decl));
      const fnLines = profile.locations
        .flatMap((l) => l.lines)
        .filter((l) => l.functionId === fn.id)
        .map((l) => l.line);
      expect(Math.min(...fnLines)).toBeGreaterThanOrEqual(fn.startLine);
    }
    for (const f of profile.functions)
      if (f.filename && !f.filename.startsWith('node:')) expect(f.filename).toMatch(/\.ts$/);
    // Rooted at the benchmark function: no Vitest or tinybench frame is left.
    expect(profile.functions.some((f) => /tinybench|vitest[\\/]dist|node_modules/.test(f.filename))).toBe(false);
    crossCheck('go', () => expect(accepted).toContain(topFunction(pprofTop(path.join(out, b.profile)))));
  }
  const merged = readProfile(path.join(out, 'merged.pb.gz'));
  expect(benchmarkLabels(merged)).toEqual(new Set(index.benchmarks.map((b) => b.fullName)));
  let total = 0;
  for (const s of merged.samples) {
    expect(s.labels.filter((l) => l.key === 'benchmark')).toHaveLength(1);
    total += s.values[0];
  }
  expect(total).toBe(index.benchmarks.reduce((a, b) => a + b.samples, 0));
  expect(existsSync(path.join(out, '.records'))).toBe(false);
}

interface FixtureModules {
  sort: {
    bubbleSort(a: readonly number[]): number[];
    insertionSort(a: readonly number[]): number[];
    makeInput(n: number): number[];
  };
  hash: { hashRounds(text: string, rounds: number): unknown; makeText(n: number): string };
}

/** CPU nanoseconds per op of each fixture benchmark's operation, timed here with getrusage (warm). */
async function cpuNanosPerOp(): Promise<Record<string, number>> {
  // The fixture's own sources (outside this package's tsconfig), transformed as Vitest does.
  const load = (file: string) => import(pathToFileURL(path.join(FIXTURE, file)).href);
  const { bubbleSort, insertionSort, makeInput } = (await load('src/sort.ts')) as FixtureModules['sort'];
  const { hashRounds, makeText } = (await load('src/hash.ts')) as FixtureModules['hash'];
  const sortInput = makeInput(400);
  const text = makeText(2000);
  const ops: Record<string, () => unknown> = {
    'sorting > quadratic > bubble 400': () => bubbleSort(sortInput),
    'sorting > insertion 400': () => insertionSort(sortInput),
    'hash > fnv1a sync': () => hashRounds(text, 20),
    // The async benchmark's CPU is its hashing; the promise around it costs well under 1%.
    'hash > fnv1a async': () => hashRounds(text, 20),
  };
  const out: Record<string, number> = {};
  for (const [name, op] of Object.entries(ops)) {
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) * 1000;
    };
    for (let t = Date.now(); Date.now() - t < 100;) op(); // warm-up: optimized as in the run
    let n = 0;
    const start = cpu();
    while (cpu() - start < 200e6) for (let i = 0; i < 10; i++, n++) op();
    out[name] = (cpu() - start) / n;
  }
  return out;
}

describe('vitest-perf bench (forks pool)', () => {
  const out = tmpOut('perf.out');
  let result: RunResult;
  beforeAll(() => {
    result = run([CLI, 'bench', '--run', '--perfprofile', out]);
  });

  it('exits as Vitest does and writes one decodable pprof per benchmark', () => {
    expect(result.status, result.stderr).toBe(0);
    checkProfiles(out, readIndex(out));
  });

  it('records the resolved config: event=auto is the native task-clock on this PMU-less Linux', () => {
    const index = readIndex(out);
    expect(index.config.source).toBe('perf_event');
    expect(index.config.event).toBe('task-clock');
    expect(index.config.rate).toBe(997);
    expect(index.config.reason).toBe('event=auto chose task-clock (cycles: no hardware PMU (ENOENT))');
    for (const b of index.benchmarks)
      expect(readProfile(path.join(out, b.profile)).sampleTypes.map((t) => `${t.type}/${t.unit}`)).toEqual([
        'samples/count',
        'cpu/nanoseconds',
      ]);
  });

  it('reads per-op counters in the measured and the profiled pass: task-clock/op agrees with CPU time measured here, and with ops/s', async () => {
    const index = readIndex(out);
    const reference = await cpuNanosPerOp();
    for (const b of index.benchmarks) {
      expect(Object.keys(b.counters)).toEqual(['task-clock/op', 'page-faults/op', 'context-switches/op']);
      const cpu = b.counters['task-clock/op'];
      // The same operation timed by getrusage in this process: within a factor of 2.
      expect(cpu, b.fullName).toBeGreaterThan(reference[b.fullName] / 2);
      expect(cpu, b.fullName).toBeLessThan(reference[b.fullName] * 2);
      // Vitest's ops/s of the same pass is wall-clock: a thread's CPU time per op cannot exceed
      // it beyond the loop's own bookkeeping (a load on this shared machine only widens the gap).
      expect(cpu, b.fullName).toBeLessThan((1e9 / b.hz.baseline!) * 1.25 + 2000);
      expect(b.counters['page-faults/op']).toBeGreaterThanOrEqual(0);
      expect(b.counters['context-switches/op']).toBeGreaterThanOrEqual(0);
      // The profiled pass is counted too (the gate's time): the same truths, against its own ops/s.
      const profiled = b.profiledCounters!;
      expect(Object.keys(profiled)).toEqual(Object.keys(b.counters));
      expect(profiled['task-clock/op'], b.fullName).toBeGreaterThan(reference[b.fullName] / 2);
      expect(profiled['task-clock/op'], b.fullName).toBeLessThan(reference[b.fullName] * 2);
      expect(profiled['task-clock/op'], b.fullName).toBeLessThan((1e9 / b.hz.profiled!) * 1.25 + 2000);
    }
  });

  it("prints the summary table after Vitest's output, and nothing of its own before", () => {
    // Plain logs (not a terminal): no progress lines; the summary is the first thing of ours.
    const lines = result.stdout.split('\n');
    const summary = lines.findIndex((l) => l.startsWith(' perfprofile event='));
    expect(summary).toBeGreaterThan(0);
    expect(lines.slice(0, summary).filter((l) => l.includes('perfprofile'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('perfprofile: '))).toEqual([]);
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
    for (const [name, hot] of Object.entries(HOT)) {
      const row = result.stdout.split('\n').find((l) => l.startsWith(`${name} `))!;
      const fns = acceptedTop(hot, readIndex(out).config.source)
        .map((f) => f.replace(/[()]/g, '\\$&'))
        .join('|');
      expect(row).toMatch(
        new RegExp(
          `\\d+\\s+\\d+/s\\s+[\\d,.]+\\s+[\\d,.]+\\s+[+-]?\\d+\\.\\d%\\s±\\d+\\.\\d\\s+task-clock [\\d.]+(ns|µs|ms) page-faults [\\d.,]+ context-switches [\\d.,]+\\s+\\d+\\s+[\\d.]+\\s+(${fns}) \\d+\\.\\d%$`,
        ),
      );
    }
    expect(result.stdout).toMatch(/profiles: .*perf\.out/);
    expect(result.stdout).not.toMatch(/\x1b\[/); // NO_COLOR
  });
});

describe('vitest bench -- --perfprofile (plugin route, threads pool)', () => {
  const out = tmpOut('perf2.out');
  let result: RunResult;
  beforeAll(() => {
    result = run(
      [
        VITEST_BIN,
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
      { env: { FIXTURE_POOL: 'threads' } },
    );
  });

  it('profiles every benchmark with the asked rate', () => {
    expect(result.status, result.stderr).toBe(0);
    const index = readIndex(out);
    checkProfiles(out, index);
    expect(index.config.text).toContain('rate=2000');
    expect(index.config.rate).toBe(2000);
  });

  it('is inert in test mode and without --perfprofile', () => {
    const plain = run([VITEST_BIN, 'bench', '--run', '--config', 'vitest.plugin.config.ts', '-t', 'bubble']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain('perfprofile');
  });
});
