import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkMarkdown, checkRuns, describeFinding, diffProfiles, encode, isRunDir, matchBenchmarks, ProfileBuilder, readRunDir, shareZ, type Profile, type ProfileError } from '../src/index.js';

const types = [{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }];
const frame = (name: string) => ({ name, file: `src/${name}.ts`, line: 2, startLine: 1 });

/** A profile from root-first stacks and sample counts: { 'bench;work;leaf': 60, ... }. */
function profileOf(stacks: Record<string, number>): Profile {
  const b = new ProfileBuilder({ sampleTypes: types, mapping: { filename: 'test' } });
  for (const [stack, n] of Object.entries(stacks)) b.addFrames(stack.split(';').map(frame).reverse(), [n, n * 1e6]);
  return b.build();
}

interface BenchSpec {
  readonly stacks: Record<string, number>;
  readonly counters?: Record<string, number>;
  readonly status?: string;
}

/** An output directory as vitest-perf writes it: index.json plus one pprof per benchmark. */
function runDir(benchmarks: Record<string, BenchSpec>, complete = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-compare-'));
  const index = {
    schema: 1,
    complete,
    benchmarks: Object.entries(benchmarks).map(([id, spec]) => {
      writeFileSync(path.join(dir, `${id}.pb.gz`), encode(profileOf(spec.stacks)));
      return { id, file: 'bench/x.bench.ts', name: id, fullName: `x > ${id}`, profile: `${id}.pb.gz`, counters: spec.counters ?? {}, status: spec.status ?? 'passed' };
    }),
  };
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}

const check = (base: string, head: string, extra = {}) => checkRuns(readRunDir(base), readRunDir(head), { maxShareIncrease: 5, maxCounterIncrease: 0.1, ...extra });

describe('diffProfiles', () => {
  it('refuses to compare shares of different quantities, and names a column both have', () => {
    const cpu = profileOf({ 'bench;work': 10 });
    const wallTypes = [{ type: 'samples', unit: 'count' }, { type: 'wall', unit: 'nanoseconds' }];
    const b = new ProfileBuilder({ sampleTypes: wallTypes, mapping: { filename: 'test' } });
    b.addFrames([frame('work'), frame('bench')], [10, 1e7]);
    const wall = b.build();
    let error: ProfileError | undefined;
    try {
      diffProfiles(cpu, wall);
    } catch (e) {
      error = e as ProfileError;
    }
    expect(error?.code).toBe('ERR_INPUT');
    expect(error?.message).toBe('base measures cpu/nanoseconds but head measures wall/nanoseconds');
    expect(error?.hint).toContain('--sample-index samples');
    // The common column compares.
    expect(diffProfiles(cpu, wall, { sampleIndex: 'samples' }).rows.map((r) => r.name)).toEqual(['work']);
  });

  it('gives self and total shares per function, sorted by the self change', () => {
    const d = diffProfiles(profileOf({ 'bench;work;leaf': 60, 'bench;other': 40 }), profileOf({ 'bench;work;leaf': 80, 'bench;other': 20 }));
    expect(d.valueType).toBe('cpu/nanoseconds');
    expect([d.baseSamples, d.headSamples]).toEqual([100, 100]);
    // bench and work have no self time on either side: not rows.
    expect(d.rows.map((r) => r.name)).toEqual(['leaf', 'other']);
    expect(d.rows[0]).toMatchObject({ file: 'src/leaf.ts', before: 60, after: 80, delta: 20, cumBefore: 60, cumAfter: 80, cumDelta: 20 });
    expect(d.rows[1]).toMatchObject({ before: 40, after: 20, delta: -20 });
  });

  it('shows an inlined callee as self time moving to the caller with its total unchanged', () => {
    const d = diffProfiles(profileOf({ 'bench;work;leaf': 90, 'bench;work': 10 }), profileOf({ 'bench;work': 100 }));
    const work = d.rows.find((r) => r.name === 'work')!;
    expect(work).toMatchObject({ before: 10, after: 100, delta: 90, cumBefore: 100, cumAfter: 100, cumDelta: 0 });
    expect(d.rows.find((r) => r.name === 'leaf')).toMatchObject({ delta: -90, cumDelta: -90 });
  });

  it('counts a function once per sample in its total, even when two of its closures nest', () => {
    // Two frames with the same name and file (a callback inside a callback) on one stack.
    const d = diffProfiles(profileOf({ 'cb;cb;leaf': 50, 'cb;x': 50 }), profileOf({ 'cb;cb;leaf': 50, 'cb;x': 50 }));
    expect(d.rows.find((r) => r.name === 'leaf')!.cumAfter).toBe(50);
    const all = diffProfiles(profileOf({ 'cb;cb': 100 }), profileOf({ 'cb;cb': 100 }));
    expect(all.rows).toEqual([{ name: 'cb', file: 'src/cb.ts', before: 100, after: 100, delta: 0, cumBefore: 100, cumAfter: 100, cumDelta: 0 }]);
  });
});

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
    expect(checkMarkdown(r)).toMatch(/^### perfprofile check: no regressions\n\n\| benchmark \| largest share increase \(self and total\) \|\n\|---\|---\|\n\| x > one \| – \|/);
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
    expect(f.from).toEqual([{ name: 'work', file: 'src/work.ts', selfDelta: -20, cumDelta: expect.closeTo(3.333, 2) }]);
    // other's self fell too (10% → 6.7%), but so did its total: it lost share, it did not give it.
    expect(describeFinding(f)).toBe('slow (src/slow.ts): self share 0.0% → 33.3%, total 0.0% → 33.3% (+33.3 pp, limit 5 pp); taken from work (self −20.0 pp, total +3.3 pp): a slower callee, or the JIT inlining it in one run only');
  });

  it('does not count a callee the JIT inlined into its caller (self share up, total share flat)', () => {
    const inlined = { stacks: { 'bench;work': 900, 'bench;other': 100 } };
    const r = check(runDir({ one: base }), runDir({ one: inlined }));
    expect(r.regressions).toBe(0);
    expect(r.benchmarks[0].moved).toEqual([expect.objectContaining({ name: 'work', before: 60, after: 90, cumBefore: 90, cumAfter: 90, increase: 0 })]);
    expect(checkMarkdown(r)).toContain('- x > one: `work` (src/work.ts): self share 60.0% → 90.0% but total 90.0% → 90.0%: time moved in from its callees');
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
    expect(clock.benchmarks[0].regressions.map((f) => describeFinding(f))).toEqual(['task-clock/op: 100 → 300 (+200.0%, limit 10%)']);
    const md = checkMarkdown(clock);
    expect(md).toContain('| x > one | `task-clock/op` | 100 | 300 | +200.0% | 10% |');
    expect(md).toContain('- x > one: per-op counters task-clock/op +200.0%, instructions/op +0.0%.');
  });

  it('matches benchmarks by id, lists the unmatched, and warns about incomplete runs and failures', () => {
    const a = runDir({ one: base, gone: base });
    const b = runDir({ one: { ...base, status: 'failed' }, added: base }, false);
    const m = matchBenchmarks(readRunDir(a), readRunDir(b));
    expect(m.pairs.map(([x, y]) => [x.id, y.id])).toEqual([['one', 'one']]);
    const r = check(a, b);
    expect(r).toMatchObject({ onlyBase: ['gone'], onlyHead: ['added'], regressions: 0 });
    expect(r.warnings).toEqual(['the head run is incomplete (index.json has complete: false): it was interrupted or a worker died', 'x > one failed in the head run: its profile is partial']);
    const md = checkMarkdown(r);
    expect(md).toContain('> **Warning:** the head run is incomplete');
    expect(md).toContain('Only in base: gone.\nOnly in head: added.\n');
  });

  it('escapes pipes in markdown table cells', () => {
    const head = { stacks: { ...base.stacks, 'bench;a|b': 500 } };
    const md = checkMarkdown(check(runDir({ 'p|q': base }), runDir({ 'p|q': head })));
    expect(md).toContain('| x > p\\|q | `a\\|b` self / total share | 0.0% / 0.0% | 33.3% / 33.3% | +33.3 pp | 5 pp |');
  });
});

describe('readRunDir', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return `${(e as ProfileError).code}: ${(e as Error).message}`;
    }
    return 'no error';
  };

  it('refuses what is not an output directory, and an index that points outside it', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'perfprofile-compare-'));
    expect(isRunDir(empty)).toBe(false);
    expect(code(() => readRunDir(empty))).toMatch(/^ERR_INPUT: .* has no index\.json$/);
    writeFileSync(path.join(empty, 'index.json'), '{"schema": 1, "benchmarks": [');
    expect(isRunDir(empty)).toBe(true);
    expect(code(() => readRunDir(empty))).toMatch(/^ERR_INPUT: .*index\.json is not valid JSON$/);
    writeFileSync(path.join(empty, 'index.json'), '{"schema": 2, "benchmarks": []}');
    expect(code(() => readRunDir(empty))).toMatch(/is not a perfprofile index \(schema 2\)$/);
    const dir = runDir({ one: base() });
    const run = readRunDir(dir);
    expect(code(() => run.load({ ...run.benchmarks[0], profile: '../elsewhere.pb.gz' }))).toMatch(/names profile "\.\.\/elsewhere\.pb\.gz" outside the directory$/);
    expect(code(() => run.load({ ...run.benchmarks[0], profile: 'missing.pb.gz' }))).toMatch(/missing\.pb\.gz is missing \(listed in index\.json\)$/);
    mkdirSync(path.join(dir, 'sub'));
    expect(isRunDir(path.join(dir, 'sub'))).toBe(false);
    expect(isRunDir(path.join(dir, 'index.json'))).toBe(false);
  });

  function base(): BenchSpec {
    return { stacks: { 'bench;leaf': 1 } };
  }
});
