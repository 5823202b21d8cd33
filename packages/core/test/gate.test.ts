import { describe, expect, it } from 'vitest';
import { checkRuns, matchBenchmarks, readRunDir, shareZ } from '../src/index.js';
import { runDir } from './helpers.js';

const check = (base: string, head: string, extra = {}) => checkRuns(readRunDir(base), readRunDir(head), { maxShareIncrease: 5, maxCounterIncrease: 0.1, ...extra });

describe('shareZ', () => {
  it('is the Agresti–Caffo two-proportion z statistic, in standard errors', () => {
    // 50% → 60% of 100 samples: (51/102 → 61/102), se = sqrt(p1(1−p1)/102 + p2(1−p2)/102).
    const p1 = 51 / 102, p2 = 61 / 102;
    expect(shareZ(50, 100, 60, 100)).toBeCloseTo((p2 - p1) / Math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 102), 10);
    expect(shareZ(50, 10_000, 60, 10_000)).toBeGreaterThan(14);
    expect(shareZ(60, 100, 50, 100)).toBeLessThan(0);
    expect(shareZ(0, 100, 0, 100)).toBe(0);
    expect(shareZ(10, 0, 20, 100)).toBe(0);
    // Near 100% a burst of a few samples is not a certainty: 90% of 50 → 100% of 150 is ~2.4
    // standard errors here, ~3.9 with the textbook pooled formula.
    expect(shareZ(90, 50, 100, 150)).toBeGreaterThan(2);
    expect(shareZ(90, 50, 100, 150)).toBeLessThan(3);
    // A function that appears from nothing with 70% of 100 samples is far beyond doubt.
    expect(shareZ(0, 100, 70, 100)).toBeGreaterThan(10);
  });
});

describe('checkRuns', () => {
  const base = { stacks: { 'bench;work;leaf': 300, 'bench;work': 600, 'bench;other': 100 } };

  it('passes identical runs and reports the largest (zero) increase', () => {
    const a = runDir({ one: base });
    const r = check(a, runDir({ one: base }));
    expect(r.regressions).toBe(0);
    expect(r.benchmarks[0]).toMatchObject({ id: 'one', fullName: 'x > one', regressions: [], moved: [] });
    expect(r.benchmarks[0].largestShareIncrease).toBeUndefined();
  });

  it('fails on a slower callee, and says where its share came from', () => {
    const head = { stacks: { 'bench;work;leaf': 300, 'bench;work': 600, 'bench;other': 100, 'bench;work;slow': 500 } };
    const r = check(runDir({ one: base }), runDir({ one: head }));
    expect(r.regressions).toBe(1);
    const f = r.benchmarks[0].regressions[0];
    expect(f).toMatchObject({ kind: 'share', name: 'slow', file: 'src/slow.ts', before: 0, cumBefore: 0, limit: 5 });
    expect(f.after).toBeCloseTo(100 / 3, 10);
    expect(f.increase).toBeCloseTo(100 / 3, 10);
    // work's self fell 20 pp while its total held (60+30 → 40+20+33.3): the time moved into slow.
    // other's self fell too (10% → 6.7%), but so did its total: it lost share, it did not give it.
    expect(f.from).toEqual([{ name: 'work', file: 'src/work.ts', selfDelta: -20, cumDelta: expect.closeTo(3.333, 2) }]);
  });

  it('does not count a callee the JIT inlined into its caller (self share up, total share flat)', () => {
    const inlined = { stacks: { 'bench;work': 900, 'bench;other': 100 } };
    const r = check(runDir({ one: base }), runDir({ one: inlined }));
    expect(r.regressions).toBe(0);
    expect(r.benchmarks[0].moved).toEqual([expect.objectContaining({ name: 'work', before: 60, after: 90, cumBefore: 90, cumAfter: 90, increase: 0 })]);
  });

  it('needs the increase to be significant at the sample counts (minZ)', () => {
    // +10 pp at 20 samples is 0.8 standard errors; at 2,000 samples it is 8.
    const small = (n: number, leaf: number) => ({ stacks: { 'bench;leaf': leaf * n, 'bench;other': (10 - leaf) * n } });
    expect(check(runDir({ one: small(2, 5) }), runDir({ one: small(2, 6) })).regressions).toBe(0);
    expect(check(runDir({ one: small(200, 5) }), runDir({ one: small(200, 6) })).regressions).toBe(1);
    expect(check(runDir({ one: small(2, 5) }), runDir({ one: small(2, 6) }), { minZ: 0 }).regressions).toBe(1);
    expect(check(runDir({ one: small(200, 5) }), runDir({ one: small(200, 6) }), { maxShareIncrease: 10 }).regressions).toBe(0);
  });

  it('gates the named per-op counters only, and reports the others as context', () => {
    const counters = (clock: number, instructions: number) => ({ ...base, counters: { 'task-clock/op': clock, 'instructions/op': instructions } });
    const r = check(runDir({ one: counters(100, 1000) }), runDir({ one: counters(300, 1050) }));
    expect(r.regressions).toBe(0); // instructions +5% is within 10%; task-clock is not gated by default
    expect(r.benchmarks[0].counterChanges).toEqual({ 'task-clock/op': 200, 'instructions/op': expect.closeTo(5, 10) });
    const more = check(runDir({ one: counters(100, 1000) }), runDir({ one: counters(300, 1200) }));
    expect(more.benchmarks[0].regressions).toEqual([{ kind: 'counter', name: 'instructions/op', before: 1000, after: 1200, increase: expect.closeTo(20, 10), limit: 10 }]);
    const clock = check(runDir({ one: counters(100, 1000) }), runDir({ one: counters(300, 1000) }), { counters: ['task-clock/op'] });
    expect(clock.benchmarks[0].regressions).toEqual([{ kind: 'counter', name: 'task-clock/op', before: 100, after: 300, increase: 200, limit: 10 }]);
    expect(clock.benchmarks[0].counterChanges).toEqual({ 'task-clock/op': 200, 'instructions/op': 0 });
  });

  it('matches benchmarks by id, lists the unmatched, and warns about incomplete runs and failures', () => {
    const a = runDir({ one: base, gone: base });
    const b = runDir({ one: { ...base, status: 'failed' }, added: base }, false);
    const m = matchBenchmarks(readRunDir(a), readRunDir(b));
    expect(m.pairs.map(([x, y]) => [x.id, y.id])).toEqual([['one', 'one']]);
    const r = check(a, b);
    expect(r).toMatchObject({ onlyBase: ['gone'], onlyHead: ['added'], regressions: 0 });
    expect(r.warnings).toEqual(['the head run is incomplete (index.json has complete: false): it was interrupted or a worker died', 'x > one failed in the head run: its profile is partial']);
  });
});
