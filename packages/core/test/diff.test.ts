import { describe, expect, it } from 'vitest';
import { diffProfiles, ProfileBuilder } from '../src/index.js';
import { frame, profileOf, thrown } from './helpers.js';

describe('diffProfiles', () => {
  it('refuses to compare shares of different quantities, and names a column both have', () => {
    const cpu = profileOf({ 'bench;work': 10 });
    const wallTypes = [
      { type: 'samples', unit: 'count' },
      { type: 'wall', unit: 'nanoseconds' },
    ];
    const b = new ProfileBuilder({ sampleTypes: wallTypes, mapping: { filename: 'test' } });
    b.addFrames([frame('work'), frame('bench')], [10, 1e7]);
    const wall = b.build();
    const error = thrown(() => diffProfiles(cpu, wall));
    expect(error.code).toBe('ERR_INPUT');
    expect(error.message).toBe('base measures cpu/nanoseconds but head measures wall/nanoseconds');
    expect(error.hint).toContain('--sample-index samples');
    // The common column compares.
    expect(diffProfiles(cpu, wall, { sampleIndex: 'samples' }).rows.map((r) => r.name)).toEqual(['work']);
  });

  it('gives self and total shares per function, sorted by the self change', () => {
    const d = diffProfiles(
      profileOf({ 'bench;work;leaf': 60, 'bench;other': 40 }),
      profileOf({ 'bench;work;leaf': 80, 'bench;other': 20 }),
    );
    expect(d.valueType).toBe('cpu/nanoseconds');
    expect([d.baseSamples, d.headSamples]).toEqual([100, 100]);
    // bench and work have no self time on either side: not rows.
    expect(d.rows.map((r) => r.name)).toEqual(['leaf', 'other']);
    expect(d.rows[0]).toMatchObject({
      file: 'src/leaf.ts',
      before: 60,
      after: 80,
      delta: 20,
      cumBefore: 60,
      cumAfter: 80,
      cumDelta: 20,
    });
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
    expect(all.rows).toEqual([
      { name: 'cb', file: 'src/cb.ts', before: 100, after: 100, delta: 0, cumBefore: 100, cumAfter: 100, cumDelta: 0 },
    ]);
  });
});
