import { describe, expect, it } from 'vitest';
import {
  ProfileBuilder,
  functionTable,
  merge,
  topSelf,
  decode,
  encode,
  isProfileError,
  type Profile,
} from '../src/index.js';
import { thrown } from './helpers.js';

const types = [
  { type: 'samples', unit: 'count' },
  { type: 'cpu', unit: 'nanoseconds' },
];
const f = (name: string, line = 1) => ({ name, file: `${name}.ts`, line, startLine: 1 });

/** main→a→leaf ×6, main→b ×3, main→rec→rec→rec ×1 (a recursive function counts once in cum). */
function handMade(): Profile {
  const b = new ProfileBuilder({ sampleTypes: types, timeNanos: 1000, durationNanos: 10 });
  b.addFrames([f('leaf'), f('a'), f('main')], [6, 60]);
  b.addFrames([f('b'), f('main')], [3, 30]);
  b.addFrames([f('rec'), f('rec'), f('rec'), f('main')], [1, 10]);
  return b.build();
}

describe('functionTable', () => {
  it('matches hand-computed flat and cum shares', () => {
    const t = functionTable(handMade());
    expect(t.valueType).toBe('cpu/nanoseconds');
    expect(t.total).toBe(100);
    const row = (n: string) => t.rows.find((r) => r.name === n)!;
    expect(row('leaf')).toMatchObject({ flat: 60, cum: 60, flatPct: 60, cumPct: 60 });
    expect(row('a')).toMatchObject({ flat: 0, cum: 60 });
    expect(row('b')).toMatchObject({ flat: 30, cumPct: 30 });
    expect(row('rec')).toMatchObject({ flat: 10, cum: 10 });
    expect(row('main')).toMatchObject({ flat: 0, cum: 100, cumPct: 100 });
    expect(t.rows[0].name).toBe('leaf');
  });

  it('focuses, filters by tag, and switches sample column', () => {
    const p = merge([{ profile: handMade(), labels: [{ key: 'benchmark', str: 'x' }] }]);
    expect(functionTable(p, { focus: /^b$/ }).total).toBe(30);
    expect(functionTable(p, { tags: { benchmark: 'x' } }).total).toBe(100);
    expect(functionTable(p, { tags: { benchmark: 'y' } }).total).toBe(0);
    expect(functionTable(p, { sampleIndex: 'samples' }).total).toBe(10);
    expect(() => functionTable(p, { sampleIndex: 'bogus' })).toThrow(/no sample type "bogus"/);
  });

  it('topSelf gives the index.json shape', () => {
    expect(topSelf(handMade(), 2)).toEqual([
      { function: 'leaf', file: 'leaf.ts', line: 1, selfPct: 60 },
      { function: 'b', file: 'b.ts', line: 1, selfPct: 30 },
    ]);
  });
});

describe('merge', () => {
  it('keeps labels, dedupes functions, sums folded samples, spans both profiles', () => {
    const one = handMade();
    const two = { ...handMade(), timeNanos: 2000, durationNanos: 5 };
    const m = merge([
      { profile: one, labels: [{ key: 'benchmark', str: 'one' }] },
      { profile: two, labels: [{ key: 'benchmark', str: 'two' }] },
    ]);
    expect(m.functions.length).toBe(one.functions.length);
    expect(m.samples.length).toBe(6);
    expect(functionTable(m).total).toBe(200);
    expect(functionTable(m, { tags: { benchmark: 'two' } }).total).toBe(100);
    expect(m.timeNanos).toBe(1000);
    expect(m.durationNanos).toBe(1005);
    expect(decode(encode(m))).toEqual(m);
    const same = merge([one, one]);
    expect(same.samples.length).toBe(3);
    expect(functionTable(same).total).toBe(200);
  });

  it('refuses different sample types', () => {
    const other = new ProfileBuilder({ sampleTypes: [{ type: 'samples', unit: 'count' }] }).build();
    const e = thrown(() => merge([handMade(), other]));
    expect(isProfileError(e) && e.message).toMatch(
      /profile 2 has sample types \[samples\/count\], profile 1 has \[samples\/count,cpu\/nanoseconds\]/,
    );
  });
});
