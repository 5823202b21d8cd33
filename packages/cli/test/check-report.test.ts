/**
 * The gate's report on hand-made results: the numbers are what core's checkRuns gives
 * (packages/core/test/gate.test.ts); here only their text and markdown are checked.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CHECK_OPTIONS,
  type BenchmarkCheck,
  type CheckResult,
  type Comparison,
  type FunctionChange,
} from '@perfprofile/core';
import { checkMarkdown, checkText, describeFinding, formatChange, formatNs, limitsText } from '../src/check-report.js';

const cmp = (base: number, head: number, extra: Partial<Comparison> = {}): Comparison => ({
  base,
  head,
  change: head / base - 1,
  low: null,
  high: null,
  p: null,
  z: 0,
  noise: 0.05,
  regressed: false,
  ...extra,
});

function bench(extra: Partial<BenchmarkCheck> = {}): BenchmarkCheck {
  return {
    id: 'one',
    fullName: 'x > one',
    runs: { base: 5, head: 5 },
    time: cmp(1000, 1010),
    harnessPct: { base: 0, head: 0 },
    functions: [],
    regressions: [],
    carriers: [],
    movers: [],
    counters: {},
    memory: {},
    ...extra,
  };
}

function result(benchmarks: BenchmarkCheck[], extra: Partial<CheckResult> = {}): CheckResult {
  return {
    benchmarks,
    onlyBase: [],
    onlyHead: [],
    regressions: benchmarks.filter((b) => b.regressions.length).length,
    warnings: [],
    options: DEFAULT_CHECK_OPTIONS,
    limits: {
      runs: { base: 5, head: 5 },
      fails: true,
      source: 'profiled',
      rankTest: true,
      noise: 0.05,
      minZ: 4,
      detectable: 0.135,
    },
    ...extra,
  };
}

const fn = (name: string, base: number, head: number): FunctionChange => ({
  ...cmp(base, head),
  name,
  file: `src/${name}.ts`,
  entry: false,
  depth: 1,
  selfBase: base / 2,
  selfHead: head / 2,
});

/** A benchmark 20% slower, in `leaf`. */
function slower(): BenchmarkCheck {
  const time = cmp(1000, 1200, { change: 0.2, low: 0.15, high: 0.26, p: 1 / 252, z: 7.3, regressed: true });
  return bench({
    time,
    regressions: [{ ...time, kind: 'time', name: 'time per op' }],
    functions: [fn('work', 900, 1100), fn('leaf', 600, 800)],
    culprit: { name: 'leaf', file: 'src/leaf.ts' },
    carriers: [
      { name: 'work', file: 'src/work.ts' },
      { name: 'leaf', file: 'src/leaf.ts' },
    ],
    movers: [
      { name: 'leaf', file: 'src/leaf.ts', selfBase: 600, selfHead: 800, totalBase: 600, totalHead: 800 },
      { name: 'other', file: '', selfBase: 100, selfHead: 90, totalBase: 100, totalHead: 90 },
    ],
  });
}

describe('numbers', () => {
  it('formats times per op and changes', () => {
    expect([812, 2412, 2.412e6, 1.2e9, 99.95, NaN].map(formatNs)).toEqual([
      '812 ns',
      '2.41 µs',
      '2.41 ms',
      '1.20 s',
      '100.0 ns',
      '–',
    ]);
    expect([0.162, -0.03, 0, 12.5, null].map(formatChange)).toEqual(['+16.2%', '−3.0%', '+0.0%', '+1250%', '–']);
  });
});

describe('check report', () => {
  it('says what the comparison could detect, and what one run a side cannot', () => {
    const many = result([bench()]);
    expect(limitsText(many)).toBe(
      '5 runs a side; CPU time per op of the profiled pass (task-clock/op) outside the harness. A benchmark regresses at ≥ +10.0% and ≥ 4.0 standard errors of run-to-run noise (±5.0% per run here), and Mann–Whitney p ≤ 0.05 over runs: the smallest increase this comparison can flag is about +13.5%.',
    );
    const one = result([bench({ runs: { base: 1, head: 1 } })], {
      limits: {
        runs: { base: 1, head: 1 },
        source: 'wall',
        rankTest: false,
        noise: 0.2,
        minZ: 10.4,
        detectable: 17.9,
        fails: true,
      },
    });
    expect(limitsText(one)).toMatch(
      /^1 run a side; wall time per op \(no task-clock counter in every run\) .*≥ 10\.4 standard errors .*\(±20\.0% per run here\): the smallest increase this comparison can flag is about \+1790%\. With one run a side, each benchmark's own run-to-run noise /,
    );
    expect(limitsText(one)).toContain(
      'Profile each side in several fresh processes (`vitest-perf bench --perfprofile <dir> --perfprofile-runs 5`) to detect smaller ones.',
    );
    const two = result([bench()], {
      limits: {
        runs: { base: 2, head: 2 },
        source: 'task-clock',
        rankTest: false,
        noise: 0.05,
        minZ: 4,
        detectable: 0.2,
        fails: true,
      },
    });
    expect(limitsText(two)).toContain("Too few runs for Mann–Whitney's test");
    // Runs written before the profiled pass was counted: the report says which pass it read.
    expect(limitsText(two)).toMatch(/^2 runs a side; CPU time per op of the measured pass \(task-clock\/op\) outside/);
    // One run a side with the noise from the suite's spread: nothing fails, a change is unconfirmed.
    const spread = result([bench({ runs: { base: 1, head: 1 } })], {
      limits: {
        runs: { base: 1, head: 1 },
        source: 'task-clock',
        rankTest: false,
        noise: 0.13,
        minZ: 10.4,
        detectable: 5.8,
        fails: false,
      },
    });
    expect(limitsText(spread)).toContain('With one run a side nothing fails');
    expect(limitsText(spread)).toContain('shown as unconfirmed');
  });

  it('marks memory one run a side cannot confirm with ?? in text and ❔ in markdown, failing nothing', () => {
    const allocs = cmp(7, 9.72, { change: 0.363, low: 0.3, high: 0.43, z: 4.4, unconfirmed: true });
    const r = result([bench({ runs: { base: 1, head: 1 }, memory: { allocsPerOp: allocs } })]);
    expect(checkText(r).split('\n').slice(2, 4)).toEqual([
      '  ??   x > one: 1.00 µs → 1.01 µs per op (+1.0%, z 0.0)',
      '       memory allocsPerOp: 7 → 9.72 (+36.3%, 90% confidence +30.0% … +43.0%, z 4.4) (unconfirmed: one run a side)',
    ]);
    expect(checkMarkdown(r)).toContain('| ❔ | x > one |');
  });

  it('tables every benchmark, regressions first, and details each with its function and movers', () => {
    const r = result([bench({ id: 'two', fullName: 'x > two' }), slower()]);
    const md = checkMarkdown(r, new Map([['one', 'flames/one.html']]));
    const lines = md.split('\n');
    expect(lines[0]).toBe('### perfprofile check: 1 of 2 benchmarks regressed');
    expect(lines.slice(4, 8)).toEqual([
      '| | benchmark | base per op | head per op | change | 90% confidence | p | z | where |',
      '|---|---|---:|---:|---:|---|---:|---:|---|',
      '| ❌ | x > one | 1.00 µs | 1.20 µs | +20.0% | +15.0% … +26.0% | 0.004 | 7.3 | `leaf` (src/leaf.ts): 600 ns → 800 ns per op (+33.3%) |',
      '|  | x > two | 1.00 µs | 1.01 µs | +1.0% | – | – | 0.0 |  |',
    ]);
    expect(md).toContain(
      '#### x > one\n\n- time per op 1.00 µs → 1.20 µs (+20.0%, 90% confidence +15.0% … +26.0%); the increase is in `leaf` (src/leaf.ts): 600 ns → 800 ns per op (+33.3%), called through `work`.\n- differential flame graph: `flames/one.html`',
    );
    expect(md).toContain(
      '| function | self per op | self change | total per op |\n|---|---:|---:|---:|\n| `leaf` src/leaf.ts | 600 ns → 800 ns | +200 ns | 600 ns → 800 ns |\n| `other` | 100 ns → 90.0 ns | −10.0 ns | 100 ns → 90.0 ns |',
    );
    expect(
      checkText(r, new Map([['one', 'flames/one.html']]))
        .split('\n')
        .slice(2),
    ).toEqual([
      '  FAIL x > one: 1.00 µs → 1.20 µs per op (+20.0%, 90% confidence +15.0% … +26.0%, p 0.004, z 7.3)',
      '       in leaf (src/leaf.ts): 600 ns → 800 ns per op (+33.3%), called through work',
      '       top movers (self time per op): leaf +200 ns, other −10.0 ns',
      '       flame diff: flames/one.html',
      '  ok   x > two: 1.00 µs → 1.01 µs per op (+1.0%, z 0.0)',
    ]);
  });

  it('says so when no function carries a regression', () => {
    const b = { ...slower(), culprit: undefined, carriers: [] };
    expect(checkMarkdown(result([b]))).toContain(
      '(+20.0%, 90% confidence +15.0% … +26.0%); no single function carries it (see the movers).',
    );
  });

  it('reports memory and counter regressions with their confidence', () => {
    const bytes = cmp(1000, 1300, { low: 0.28, high: 0.32, z: 40, regressed: true });
    const r = result([
      bench({ regressions: [{ ...bytes, kind: 'memory', name: 'bytesPerOp' }], memory: { bytesPerOp: bytes } }),
    ]);
    expect(describeFinding(r.benchmarks[0].regressions[0])).toBe(
      'bytesPerOp: 1,000 → 1,300 (+30.0%, 90% confidence +28.0% … +32.0%, z 40.0)',
    );
    expect(checkMarkdown(r)).toContain(
      '- memory `bytesPerOp`: 1,000 → 1,300 (+30.0%, 90% confidence +28.0% … +32.0%).',
    );
    expect(checkText(r)).toContain('       memory bytesPerOp: 1,000 → 1,300 (+30.0%');
  });

  it('names warnings and the benchmarks only one side has', () => {
    const r = result([bench()], {
      onlyBase: ['gone'],
      onlyHead: ['added'],
      warnings: ['the head (h) is incomplete (index.json has complete: false): it was interrupted or a worker died'],
    });
    const md = checkMarkdown(r);
    expect(md).toContain('> **Warning:** the head (h) is incomplete');
    expect(md).toContain('Only in base (not compared): gone.\n\nOnly in head (not compared): added.\n');
    expect(checkText(r)).toContain('warning: the head (h) is incomplete');
    expect(checkText(r)).toContain('Only in base (not compared): gone.');
  });

  it('escapes pipes and backticks in markdown table cells', () => {
    const b = {
      ...slower(),
      fullName: 'x > p|q',
      culprit: { name: 'a|`b', file: 'src/a|b.ts' },
      carriers: [],
      functions: [{ ...fn('a|`b', 600, 800), file: 'src/a|b.ts' }],
    };
    expect(checkMarkdown(result([b]))).toContain(
      "| ❌ | x > p\\|q | 1.00 µs | 1.20 µs | +20.0% | +15.0% … +26.0% | 0.004 | 7.3 | `a\\|'b` (src/a\\|b.ts): 600 ns → 800 ns per op (+33.3%) |",
    );
  });
});
