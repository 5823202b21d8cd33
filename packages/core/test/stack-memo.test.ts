// The stack memo (native/src/stack_memo.h): V8's stack walk replayed for stacks of a shape it
// has walked. The ground truth is V8 itself: in check mode the handler also walks every
// replayed sample with GetStackSample and counts the replays that differ. Each workload runs in
// a child (its own flags) or a Worker, sampled by the perf task-clock trigger at 4 kHz.
import { describe, expect, it } from 'vitest';
import type { RawProfile } from '@perfprofile/native';
import { child, inWorker, samplesOf, split7030, status, TASK_CLOCK, type Sampled } from './native-helpers.js';

const CHECK = { events: [TASK_CLOCK], period: 2.5e5, stackMemo: 'check' };

/** Replays that differed from V8 are none, and the replayed share is at least `minHits`. */
function expectChecked(r: Sampled, minHits: number, what: string): RawProfile['stackMemo'] {
  const m = r.raw.stackMemo;
  const detail = `${what}: ${JSON.stringify(m)} of ${r.raw.samples} samples`;
  expect(m.mismatches, detail).toBe(0);
  // Every sample is counted once, lost ones (ring full) included.
  expect(m.hits + m.learned + m.unmapped + m.bypassed, detail).toBeGreaterThanOrEqual(r.raw.samples);
  expect(m.hits + m.learned + m.unmapped + m.bypassed, detail).toBeLessThanOrEqual(r.raw.samples + r.raw.lost);
  expect(m.hits / r.raw.samples, detail).toBeGreaterThanOrEqual(minHits);
  return m;
}

describe.skipIf(!status.ok)('stack memo: replays equal V8’s own walk (check mode)', () => {
  it('optimized code, warm and tiering while sampled', () => {
    for (const cold of [false, true]) {
      const r = child({ workload: 'split', ms: 1000, cold, track: true, sampler: CHECK });
      expectChecked(r, 0.85, cold ? 'cold' : 'warm');
    }
  });

  it('a profile of replayed stacks (the default): the 70/30 split within 1 pp, under its caller', () => {
    // Check mode keeps V8's answers; here the profile is built from the replays themselves.
    const r = child({ workload: 'split', ms: 1500, track: true, sampler: { ...CHECK, stackMemo: 'on' } });
    expect(r.raw.stackMemo.hits / r.raw.samples).toBeGreaterThan(0.85);
    const samples = samplesOf(r);
    expect(Math.abs(split7030(samples).hot - r.truth.hot)).toBeLessThan(0.01);
    // The leaf comes from the pc; its callers from the replay: hot and cold are called by unit.
    // By sample count, not distinct stacks: a sample in a prologue has the leaf alone, in V8's
    // own walk too, and is one of ~130 distinct stacks but one of ~6,000 samples.
    const leaves = samples.filter((x) => x.frames[0]?.name === 'hot' || x.frames[0]?.name === 'cold');
    const weight = (xs: typeof samples) => xs.reduce((n, x) => n + x.count, 0);
    const underUnit = weight(leaves.filter((x) => x.frames[1]?.name === 'unit'));
    expect(underUnit / weight(leaves)).toBeGreaterThan(0.99);
  });

  it('interpreted and Sparkplug code: bytecode offsets re-read from the frames', () => {
    // Interpreter only: the leaf is a bytecode handler (a builtin: the key holds its pc), the
    // callers interpreted frames whose offsets the replay reads at each sample. Builtins keyed
    // by the pc share the memo thinly: ~15-50% of these samples replay (V8 12+: fewer).
    const interpreted = child({ workload: 'split', ms: 1000, sampler: CHECK }, [
      '--no-opt',
      '--no-sparkplug',
      '--no-maglev',
    ]);
    expectChecked(interpreted, 0.1, 'interpreter only');
    expectChecked(
      child({ workload: 'split', ms: 1000, sampler: CHECK }, ['--no-opt', '--no-maglev']),
      0.1,
      'sparkplug',
    );
  });

  it('builtins, API callbacks and fast API calls (performance.now)', () => {
    const m = expectChecked(child({ workload: 'builtins', ms: 1000, sampler: CHECK }), 0.1, 'builtins');
    // Samples in C++ (runtime, GC, callbacks) go to V8.
    expect(m.bypassed).toBeGreaterThan(0);
  });

  it('compacting GCs move code and bytecode between samples', () => {
    const r = child({ workload: 'split', ms: 1000, gcEveryMs: 50, sampler: CHECK }, [
      '--expose-gc',
      '--compact-on-every-full-gc',
    ]);
    // Collections run in C++ (those samples go to V8): 16-20% of this workload's samples.
    expectChecked(r, 0.5, 'gc');
  });

  it('recursion: 80 frames deep replayed; past 256 frame records V8 walks', () => {
    expectChecked(child({ workload: 'recursion', ms: 1000, depth: 80, sampler: CHECK }), 0.9, 'depth 80');
    const deep = child({ workload: 'recursion', ms: 1000, depth: 1000, sampler: CHECK }, ['--stack-size=4000']);
    const m = expectChecked(deep, 0, 'depth 1000');
    expect(m.bypassed / deep.raw.samples).toBeGreaterThan(0.9);
  });

  it('in a Worker (its own isolate, code range and stack)', async () => {
    const r = await inWorker({ workload: 'split', ms: 1000, track: true, sampler: CHECK });
    expectChecked(r, 0.85, 'worker');
  });

  it("stackMemo: 'off' walks every sample with V8", () => {
    const r = child({ workload: 'split', ms: 500, sampler: { ...CHECK, stackMemo: 'off' } });
    expect(r.raw.stackMemo).toMatchObject({ hits: 0, learned: 0, mismatches: 0 });
    expect(Math.abs(split7030(samplesOf(r)).hot - r.truth.hot)).toBeLessThan(0.02);
  });
});
