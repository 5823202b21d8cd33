/**
 * The gate's report on hand-made results: the numbers are what core's checkRuns gives for the
 * same cases (packages/core/test/gate.test.ts); here only their text and markdown are checked.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATED_COUNTERS, type BenchmarkCheck, type CheckResult, type Finding } from '@perfprofile/core';
import { checkMarkdown, checkText, describeFinding } from '../src/check-report.js';

function result(benchmarks: Partial<BenchmarkCheck>[], extra: Partial<CheckResult> = {}): CheckResult {
  const full = benchmarks.map((b) => ({ id: 'one', fullName: 'x > one', regressions: [], moved: [], largestShareIncrease: undefined, counterChanges: {}, ...b }));
  return {
    benchmarks: full,
    onlyBase: [],
    onlyHead: [],
    regressions: full.reduce((a, b) => a + b.regressions.length, 0),
    warnings: [],
    options: { maxShareIncrease: 5, maxCounterIncrease: 0.1, minZ: 4, counters: DEFAULT_GATED_COUNTERS },
    ...extra,
  };
}

const share = (name: string, before: number, after: number, cumBefore: number, cumAfter: number, increase: number): Finding =>
  ({ kind: 'share', name, file: `src/${name}.ts`, before, after, cumBefore, cumAfter, increase, limit: 5 });

describe('check report', () => {
  it('lists every benchmark when nothing regressed', () => {
    const r = result([{}]);
    expect(checkMarkdown(r)).toMatch(/^### perfprofile check: no regressions\n\n\| benchmark \| largest share increase \(self and total\) \|\n\|---\|---\|\n\| x > one \| – \|/);
    expect(checkText(r)).toBe('perfprofile check: no regressions in 1 benchmark\n  ok  x > one');
  });

  it('says where a share increase came from', () => {
    const f: Finding = { ...share('slow', 0, 100 / 3, 0, 100 / 3, 100 / 3), from: [{ name: 'work', file: 'src/work.ts', selfDelta: -20, cumDelta: 10 / 3 }] };
    expect(describeFinding(f)).toBe('slow (src/slow.ts): self share 0.0% → 33.3%, total 0.0% → 33.3% (+33.3 pp, limit 5 pp); taken from work (self −20.0 pp, total +3.3 pp): a slower callee, or the JIT inlining it in one run only');
    const r = result([{ regressions: [f] }]);
    expect(checkText(r)).toBe(`perfprofile check: 1 regression\n  FAIL x > one\n       ${describeFinding(f)}`);
    expect(checkMarkdown(r)).toContain('- x > one: `slow` taken from `work` (self −20.0 pp, total +3.3 pp): a slower callee, or the JIT inlining it in one run only.');
  });

  it('lists a self-share increase the total does not show as not counted', () => {
    const r = result([{ moved: [share('work', 60, 90, 90, 90, 0)] }]);
    expect(checkMarkdown(r)).toContain('- x > one: `work` (src/work.ts): self share 60.0% → 90.0% but total 90.0% → 90.0%: time moved in from its callees');
    expect(checkText(r)).toContain('  note x > one: work (src/work.ts): self share 60.0% → 90.0% but total 90.0% → 90.0%: time moved in from its callees');
  });

  it('reports a per-op counter and every counter change as context', () => {
    const f: Finding = { kind: 'counter', name: 'task-clock/op', before: 100, after: 300, increase: 200, limit: 10 };
    expect(describeFinding(f)).toBe('task-clock/op: 100 → 300 (+200.0%, limit 10%)');
    const md = checkMarkdown(result([{ regressions: [f], counterChanges: { 'task-clock/op': 200, 'instructions/op': 0 } }]));
    expect(md).toContain('| x > one | `task-clock/op` | 100 | 300 | +200.0% | 10% |');
    expect(md).toContain('- x > one: per-op counters task-clock/op +200.0%, instructions/op +0.0%.');
  });

  it('names warnings and the benchmarks only one side has', () => {
    const r = result([{}], { onlyBase: ['gone'], onlyHead: ['added'], warnings: ['the head run is incomplete (index.json has complete: false): it was interrupted or a worker died'] });
    const md = checkMarkdown(r);
    expect(md).toContain('> **Warning:** the head run is incomplete');
    expect(md).toContain('Only in base: gone.\nOnly in head: added.\n');
    expect(checkText(r)).toContain('warning: the head run is incomplete');
    expect(checkText(r)).toContain('only in base (not compared): gone\nonly in head (not compared): added');
  });

  it('escapes pipes in markdown table cells', () => {
    const r = result([{ id: 'p|q', fullName: 'x > p|q', regressions: [{ ...share('a|b', 0, 100 / 3, 0, 100 / 3, 100 / 3), file: 'src/a|b.ts' }] }]);
    expect(checkMarkdown(r)).toContain('| x > p\\|q | `a\\|b` self / total share | 0.0% / 0.0% | 33.3% / 33.3% | +33.3 pp | 5 pp |');
  });
});
