import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkRuns,
  compareRuns,
  noiseBar,
  readRunDir,
  readRunSet,
  spreadBar,
  suiteNoise,
  type CheckOptions,
} from '../src/index.js';
import { writeFileSync } from 'node:fs';
import { encode, ProfileBuilder, type Frame } from '../src/index.js';
import { frame, runDir, thrown, types, type BenchSpec } from './helpers.js';

/**
 * A benchmark of `ns` CPU time per op (in both passes, unless `index` sets the profiled pass's
 * counters) whose profile has these stacks (root first, `bench` the callback).
 */
const bench = (
  ns: number,
  stacks: Record<string, number>,
  index: Record<string, unknown> = {},
  counters: Record<string, number> = {},
): BenchSpec => ({
  stacks,
  counters: { 'task-clock/op': ns, ...counters },
  index: {
    hz: { baseline: 1e9 / ns, profiled: 1e9 / ns },
    profiledCounters: { 'task-clock/op': ns, ...counters },
    ...index,
  },
});

// leaf 60%, work's own code 30%, other 10%: leaf costs 0.6 of the time per op.
const SHAPE = { 'bench;work;leaf': 60, 'bench;work': 30, 'bench;other': 10 };
/** The shape after leaf's cost per op grew from 600 to 800 ns of a 1000 ns benchmark. */
const SLOW_LEAF = { 'bench;work;leaf': 200, 'bench;work': 75, 'bench;other': 25 };

const runs = (times: number[], stacks: Record<string, number> = SHAPE, more: Record<string, BenchSpec> = {}) =>
  times.map((ns) => readRunDir(runDir({ one: bench(ns, stacks), ...more })));
const check = (base: ReturnType<typeof runs>, head: ReturnType<typeof runs>, o: CheckOptions = {}) =>
  checkRuns(base, head, o);
const BASE = [1000, 1010, 990, 1005, 995];

describe('compareRuns', () => {
  const t = { minChange: 0.1, alpha: 0.05, minZ: 4 };
  it('measures the change as a ratio, with its confidence interval, p and z', () => {
    const c = compareRuns(
      BASE,
      BASE.map((x) => x * 1.2),
      0,
      { sd: 0.01, df: 4 },
      t,
    );
    expect(c.change).toBeCloseTo(0.2, 2);
    expect(c.p).toBeCloseTo(1 / 252, 10);
    expect(c.low).toBeGreaterThan(0.15);
    expect(c.high).toBeLessThan(0.25);
    expect(c.regressed).toBe(true);
    // The noise is each side's own spread, moderated by the prior (4 of 12 degrees of freedom).
    const own = Math.sqrt(
      (2 * BASE.reduce((a, x) => a + (Math.log(x) - BASE.reduce((s, y) => s + Math.log(y), 0) / 5) ** 2, 0)) / 8,
    );
    expect(c.noise).toBeCloseTo(Math.sqrt((4 * 0.01 ** 2 + 8 * own ** 2) / 12), 10);
    expect(c.z).toBeCloseTo(Math.log(1.2) / (c.noise * Math.sqrt(2 / 5)), 1);
  });

  it('needs all three bars: the floor, the noise model and, with 3+ runs a side, the rank test', () => {
    expect(
      compareRuns(
        BASE,
        BASE.map((x) => x * 1.05),
        0,
        { sd: 0.001, df: 4 },
        t,
      ).regressed,
    ).toBe(false); // below the floor
    expect(
      compareRuns(
        BASE,
        BASE.map((x) => x * 1.2),
        0,
        { sd: 0.3, df: 100 },
        t,
      ).regressed,
    ).toBe(false); // within the noise
    const mixed = compareRuns(
      [1000, 1300, 800, 1200, 900],
      [1200, 1560, 960, 1440, 1080],
      0,
      { sd: 0.01, df: 0 },
      { ...t, minZ: 0 },
    );
    expect(mixed.p).toBeGreaterThan(0.05); // the runs overlap
    expect(mixed.regressed).toBe(false);
    const one = compareRuns([1000], [3000], 0, { sd: 0.1, df: 0 }, t);
    expect(one).toMatchObject({ p: null, low: null, high: null, regressed: true });
    expect(one.change).toBeCloseTo(2, 10);
  });

  it('asks more of a noise read off few runs: Student t at 1 in 1,000, never below minZ', () => {
    expect(noiseBar(0, 4)).toBe(4); // an assumed noise: the bar as given
    expect(noiseBar(5, 4)).toBeCloseTo(5.893, 3); // two runs against one, with the prior's 4
    expect(noiseBar(8, 4)).toBeCloseTo(4.501, 3); // three a side
    expect(noiseBar(12, 4)).toBe(4); // five a side: t is 3.93
    // Seen on a loaded machine: two unchanged base runs that agreed, one head run +44%.
    const base = [65.6, 66.2],
      head = [94.4];
    const noise = { sd: 0.07, df: 4 };
    const c = compareRuns(base, head, 0, noise, t);
    expect(c.z).toBeGreaterThan(4);
    expect(c.z).toBeLessThan(noiseBar(5, 4));
    expect(c.regressed).toBe(false);
  });
});

describe('suiteNoise', () => {
  it('is the median own spread with several runs, the spread across quantities with one, a floor with too few', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      base: [100, 100 * Math.exp(0.02 * (i + 1))],
      head: [100, 100],
      eps: 0,
    }));
    expect(suiteNoise(many, 0.001, 0.15).sd).toBeCloseTo(median(many.map((m) => Math.log(m.base[1] / 100) / 2)), 10);
    const single = Array.from({ length: 9 }, (_, i) => ({
      base: [100],
      head: [100 * Math.exp(0.1 * (i - 4))],
      eps: 0,
    }));
    // |log ratios| 0, .1, .1, .2, .2, … : MAD 0.2, so 1.4826 × 0.2 / √2 per run.
    expect(suiteNoise(single, 0.001, 0.15)).toEqual({
      sd: expect.closeTo((1.4826 * 0.2) / Math.SQRT2, 10),
      df: 0,
      fromSpread: true,
    });
    expect(suiteNoise(single.slice(0, 4), 0.001, 0.15)).toEqual({ sd: 0.15, df: 0, fromSpread: false });
  });

  it('raises the one-run bar with the number of benchmarks (a Laplace tail, 1 in 1000)', () => {
    expect(spreadBar(63, 4)).toBeCloseTo(Math.log(31_500), 10);
    expect(spreadBar(8, 4)).toBeCloseTo(8.29, 2);
    expect(spreadBar(1, 4)).toBeCloseTo(Math.log(500), 10);
    expect(spreadBar(8, 10)).toBe(10);
  });
});

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

describe('checkRuns', () => {
  it('passes identical runs and says what one run a side can detect', () => {
    const r = check(runs([1000]), runs([1000]));
    expect(r.regressions).toBe(0);
    expect(r.benchmarks[0]).toMatchObject({
      id: 'one',
      fullName: 'x > one',
      runs: { base: 1, head: 1 },
      regressions: [],
    });
    expect(r.limits).toMatchObject({
      runs: { base: 1, head: 1 },
      source: 'profiled',
      rankTest: false,
      noise: 0.15,
      minZ: 4,
    });
    expect(r.limits.detectable).toBeCloseTo(Math.exp(4 * 0.15 * Math.SQRT2) - 1, 10);
  });

  it('fails a benchmark 20% slower over 5 runs a side, and names the function that carries it', () => {
    const r = check(
      runs(BASE),
      runs(
        BASE.map((x) => x * 1.2),
        SLOW_LEAF,
      ),
    );
    expect(r.regressions).toBe(1);
    const b = r.benchmarks[0];
    expect(b.regressions).toEqual([expect.objectContaining({ kind: 'time', name: 'time per op', regressed: true })]);
    expect(b.time.change).toBeCloseTo(0.2, 2);
    expect(b.time.p).toBeCloseTo(1 / 252, 10);
    // work and leaf both grew by 200 ns; leaf is the more specific. bench is the entry: never named.
    expect(b.culprit).toEqual({ name: 'leaf', file: 'src/leaf.ts' });
    expect(b.carriers.map((c) => c.name)).toEqual(['work', 'leaf']);
    const fn = (n: string) => b.functions.find((f) => f.name === n)!;
    expect(fn('leaf').base).toBeCloseTo(600, 6);
    expect(fn('leaf').head).toBeCloseTo(800, 6);
    expect(fn('bench').entry).toBe(true);
    expect(fn('leaf').entry).toBe(false);
    expect(b.movers[0]).toMatchObject({
      name: 'leaf',
      selfBase: expect.closeTo(600, 6),
      selfHead: expect.closeTo(800, 6),
    });
    expect(r.limits).toMatchObject({ runs: { base: 5, head: 5 }, rankTest: true });
  });

  it('passes 5% (the floor), and 20% within noisy runs (the rank test)', () => {
    expect(check(runs(BASE), runs(BASE.map((x) => x * 1.05))).regressions).toBe(0);
    const noisy = [1000, 1300, 800, 1200, 900];
    const r = check(runs(noisy), runs([1200, 1560, 960, 1440, 1080]));
    expect(r.benchmarks[0].time.change).toBeGreaterThan(0.1);
    expect(r.regressions).toBe(0);
  });

  it('does not count time the JIT moved from a callee into its caller, nor the harness', () => {
    // leaf inlined into work in head: leaf's samples land on work; the time per op holds.
    const inlined = check(runs(BASE), runs(BASE, { 'bench;work': 90, 'bench;other': 10 }));
    expect(inlined.regressions).toBe(0);
    // 30% more time per op, all of it in the harness: the code outside it is unchanged.
    const harness = check(
      runs(BASE),
      runs(
        BASE.map((x) => x * 1.3),
        { ...SHAPE, '(harness)': 30 },
      ),
    );
    expect(harness.regressions).toBe(0);
    expect(harness.benchmarks[0].time.change).toBeCloseTo(0, 2);
    expect(harness.benchmarks[0].harnessPct).toEqual({ base: 0, head: expect.closeTo(23.08, 2) });
  });

  it('names a function V8 inlined into its caller: every Line of a Location, not only the first', () => {
    // As vitest-perf writes it with V8's code log: forward's code holds differenceBy inlined (one
    // Location, Lines innermost first), so the sampled frame is forward and differenceBy is its inline.
    const inlinedRun = (ns: number, n: { own: number; inl: number; other: number }) => {
      const dir = runDir({ one: bench(ns, {}) });
      const b = new ProfileBuilder({ sampleTypes: types, mapping: { filename: 'test' } });
      const fwd: Frame = { ...frame('forward'), inline: [frame('differenceBy')] };
      b.addFrames([frame('baseDifference'), fwd, frame('bench')], [n.inl, n.inl * 1e6]);
      // forward's own code, at another position: a Location of its own, no inline chain.
      b.addFrames([{ ...frame('forward'), line: 5 }, frame('bench')], [n.own, n.own * 1e6]);
      b.addFrames([frame('other'), frame('bench')], [n.other, n.other * 1e6]);
      writeFileSync(path.join(dir, 'one.pb.gz'), encode(b.build()));
      return readRunDir(dir);
    };
    // differenceBy (all of it inlined into forward) goes from 500 to 700 ns of a 1000 → 1200 ns op.
    const base = BASE.map((ns) => inlinedRun(ns, { own: 30, inl: 150, other: 120 }));
    const head = BASE.map((ns) => inlinedRun(ns * 1.2, { own: 25, inl: 175, other: 100 }));
    const b = check(base, head).benchmarks[0];
    expect(b.regressions.map((f) => f.kind)).toEqual(['time']);
    const fn = (name: string) => b.functions.find((f) => f.name === name)!;
    expect(fn('differenceBy').base).toBeCloseTo(500, 6);
    expect(fn('differenceBy').head).toBeCloseTo(700, 6);
    // forward's code carries it too (its total has differenceBy's), but differenceBy is named, inside it.
    expect(b.carriers.map((c) => c.name)).toEqual(['forward', 'differenceBy', 'baseDifference']);
    expect(b.culprit?.name).toBe('baseDifference');
    expect(fn('differenceBy').depth).toBeGreaterThan(fn('forward').depth);
    // Self time of an inline chain belongs to its innermost function: forward's own code did not grow.
    expect(fn('forward').selfBase).toBeCloseTo(100, 6);
    expect(fn('forward').selfHead).toBeCloseTo(100, 6);
  });

  it('with one run a side, takes the noise from the spread across benchmarks and asks for more', () => {
    const many = (f: (i: number) => number) => {
      const specs: Record<string, BenchSpec> = {};
      for (let i = 0; i < 12; i++) specs[`b${i}`] = bench(f(i), SHAPE);
      return [readRunDir(runDir(specs))];
    };
    const jitter = (i: number) => 1000 * Math.exp(0.03 * ((i % 5) - 2));
    const r = check(
      many(() => 1000),
      many((i) => (i === 0 ? 3000 : i === 1 ? 1300 : jitter(i))),
    );
    expect(r.limits.minZ).toBeCloseTo(Math.log(12 / 0.002), 10);
    // Past the bar, yet unconfirmed: one run a side fails nothing (unchanged code moved +461%
    // between two processes on the proving ground), and says so.
    expect(r.limits.fails).toBe(false);
    expect(r.regressions).toBe(0);
    expect(r.benchmarks.filter((b) => b.time.unconfirmed).map((b) => b.id)).toEqual(['b0']);
    expect(r.warnings.join('\n')).toMatch(
      /1 benchmark changed past the bars, unconfirmed with one run a side \(x > b0 \+200\.0%\)/,
    );
    expect(r.benchmarks.find((b) => b.id === 'b1')!.time.change).toBeCloseTo(0.3, 6);
    // Two runs a side of the same: the noise is the benchmarks' own, and b0 fails.
    const two = check(
      [...many(() => 1000), ...many(() => 1010)],
      [...many((i) => (i === 0 ? 3000 : 1000)), ...many((i) => (i === 0 ? 3030 : 1005))],
    );
    expect(two.limits.fails).toBe(true);
    expect(two.benchmarks.filter((b) => b.regressions.length).map((b) => b.id)).toEqual(['b0']);
  });

  it('gates bytes and allocations per op when both sides have them, within their stated error', () => {
    const mem = (bytesPerOp: number, allocsPerOp: number, allocsPerOpStdErr: number) => ({
      one: bench(1000, SHAPE, {
        memory: { bytesPerOp, allocsPerOp, allocsPerOpStdErr, externalBytesPerOp: 0, gcNanosPerOp: 0, gcCountPerOp: 0 },
      }),
    });
    const side = (...m: Parameters<typeof mem>) => [1, 2, 3].map(() => readRunDir(runDir(mem(...m))));
    const r = check(side(1000, 10, 2), side(1300, 12, 2));
    expect(r.benchmarks[0].regressions).toEqual([
      expect.objectContaining({ kind: 'memory', name: 'bytesPerOp', base: 1000, head: 1300 }),
    ]);
    expect(r.benchmarks[0].memory.allocsPerOp).toMatchObject({ base: 10, head: 12, regressed: false });
    expect(check(side(1000, 10, 0.01), side(1000, 12, 0.01)).benchmarks[0].regressions.map((f) => f.name)).toEqual([
      'allocsPerOp',
    ]);
    // One run a side: allocations per op are shown, unconfirmed, never failed (V8's decisions
    // moved unchanged code's count ×1.4 between two processes); bytes per op still gate.
    const single = (...m: Parameters<typeof mem>) => [readRunDir(runDir(mem(...m)))];
    const alone = check(single(1000, 7, 0.19), single(1010, 9.72, 0.22));
    expect(alone.regressions).toBe(0);
    expect(alone.benchmarks[0].memory.allocsPerOp).toMatchObject({ regressed: false, unconfirmed: true });
    expect(alone.warnings.join('\n')).toMatch(/unconfirmed with one run a side \(x > one allocsPerOp \+36\.3%\)/);
    expect(check(single(1000, 7, 0.19), single(1500, 7, 0.19)).benchmarks[0].regressions.map((f) => f.name)).toEqual([
      'bytesPerOp',
    ]);
    // Absent on one side: not gated.
    const without = check(side(1000, 10, 2), runs([1000, 1000, 1000]));
    expect(without.benchmarks[0].memory).toEqual({});
    expect(without.regressions).toBe(0);
  });

  it('gates the named per-op counters only, and compares the others as context', () => {
    const side = (instructions: number) =>
      [1, 2, 3].map(() =>
        readRunDir(
          runDir({
            one: bench(1000, SHAPE, {}, { 'instructions/op': instructions, 'page-faults/op': instructions / 100 }),
          }),
        ),
      );
    const r = check(side(1000), side(1200));
    expect(r.benchmarks[0].regressions.map((f) => `${f.kind} ${f.name}`)).toEqual(['counter instructions/op']);
    expect(r.benchmarks[0].counters['page-faults/op'].change).toBeCloseTo(0.2, 6);
    expect(check(side(1000), side(1200), { counters: [] }).regressions).toBe(0);
    // Read from the pass the time is: a measured pass inflated by its warm-up is not a change.
    const passes = (measured: number, profiled: number) =>
      [1, 2, 3].map(() =>
        readRunDir(
          runDir({
            one: bench(
              1000,
              SHAPE,
              { profiledCounters: { 'task-clock/op': 1000, 'instructions/op': profiled } },
              { 'instructions/op': measured },
            ),
          }),
        ),
      );
    expect(check(passes(1000, 1000), passes(1500, 1000)).regressions).toBe(0);
    const profiled = check(passes(1000, 1000), passes(1000, 1200));
    expect(profiled.benchmarks[0].regressions.map((f) => `${f.kind} ${f.name}`)).toEqual(['counter instructions/op']);
  });

  it("gates the profiled pass's CPU time, not the measured pass's warm-up transients", () => {
    // The measured pass of some processes runs a collection of the startup's garbage (seen on
    // the proving ground: +15% task-clock/op in 5 of 8 processes); the profiled pass runs later.
    const run = (measured: number, profiled: number) =>
      bench(measured, SHAPE, { profiledCounters: { 'task-clock/op': profiled } });
    const side = (pairs: [number, number][]) => pairs.map(([m, p]) => readRunDir(runDir({ one: run(m, p) })));
    // The same processes read before the profiled pass was counted.
    const measuredOnly = (pairs: [number, number][]) =>
      pairs.map(([m]) => readRunDir(runDir({ one: bench(m, SHAPE, { profiledCounters: undefined }) })));
    const base: [number, number][] = [
      [1150, 1000],
      [1000, 1010],
      [1160, 990],
      [1010, 1005],
      [1140, 995],
    ];
    const unchanged: [number, number][] = [
      [1000, 1002],
      [1150, 998],
      [1001, 1008],
      [1170, 992],
      [1150, 1001],
    ];
    const slower: [number, number][] = [
      [1150, 1150],
      [1160, 1162],
      [1150, 1138],
      [1170, 1155],
      [1160, 1149],
    ];
    expect(check(side(base), side(unchanged))).toMatchObject({
      regressions: 0,
      warnings: [],
      limits: { source: 'profiled' },
    });
    const r = check(side(base), side(slower));
    expect(r.regressions).toBe(1);
    expect(r.benchmarks[0].time.change).toBeCloseTo(0.15, 1);
    // The measured pass alone does not see it through its transients, and says which pass it read.
    const old = check(measuredOnly(base), measuredOnly(slower));
    expect(old.limits.source).toBe('task-clock');
    expect(old.regressions).toBe(0);
    expect(old.warnings).toEqual([
      expect.stringMatching(
        /^some runs have no task-clock\/op of their profiled pass .*comparing the measured pass's CPU time/,
      ),
    ]);
  });

  it('compares wall time when a run has no task-clock counter, and says so', () => {
    const wall = (ns: number) =>
      readRunDir(runDir({ one: { stacks: SHAPE, index: { hz: { baseline: 1e9 / ns, profiled: null } } } }));
    const r = check([wall(1000)], [wall(1000)]);
    expect(r.limits.source).toBe('wall');
    expect(r.warnings).toEqual([
      expect.stringMatching(/^some runs have no task-clock\/op counter .*comparing wall time per op/),
    ]);
  });

  it('matches benchmarks by id, lists the unmatched, and warns about incomplete runs and failed benchmarks', () => {
    const a = readRunDir(runDir({ one: bench(1000, SHAPE), gone: bench(1000, SHAPE) }));
    const b = readRunDir(
      runDir(
        { one: { ...bench(1000, SHAPE), status: 'failed' }, two: bench(1000, SHAPE), added: bench(1000, SHAPE) },
        false,
      ),
    );
    const r = checkRuns([a, a], [b]);
    expect(r).toMatchObject({ onlyBase: ['one', 'gone'], onlyHead: ['two', 'added'], regressions: 0, benchmarks: [] });
    expect(r.warnings).toEqual([
      expect.stringMatching(/^the head \(.*\) is incomplete \(index.json has complete: false\)/),
      'x > one failed in the head: that run of it is left out',
    ]);
  });
});

describe('readRunSet', () => {
  it('reads a directory and the repeats its index lists, and refuses a missing or outside one', () => {
    const dir = runDir({ one: bench(1000, SHAPE) }, true, { repeats: ['run-2'] });
    runDir({ one: bench(1100, SHAPE) }, true, {}, path.join(dir, 'run-2'));
    runDir({ one: bench(9999, SHAPE) }, true, {}, path.join(dir, 'run-3')); // not listed: not in the set
    expect(readRunSet(dir).map((r) => r.dir)).toEqual([dir, path.join(dir, 'run-2')]);
    const missing = runDir({ one: bench(1000, SHAPE) }, true, { repeats: ['run-2'] });
    expect(thrown(() => readRunSet(missing)).message).toBe(
      `${path.join(missing, 'run-2')} is missing (listed in ${path.join(missing, 'index.json')} as a repeat)`,
    );
    const outside = runDir({ one: bench(1000, SHAPE) }, true, { repeats: ['../elsewhere'] });
    expect(thrown(() => readRunSet(outside)).message).toMatch(/lists repeat "\.\.\/elsewhere", not a sub-directory/);
  });
});
