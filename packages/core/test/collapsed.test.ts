import { describe, expect, it } from 'vitest';
import { fromCollapsed, functionTable, looksCollapsed, ProfileBuilder, toCollapsed } from '../src/index.js';
import { errorOf } from './helpers.js';

const types = [
  { type: 'samples', unit: 'count' },
  { type: 'cpu', unit: 'nanoseconds' },
];
const f = (name: string) => ({ name, file: `${name}.ts`, line: 3, startLine: 1 });

describe('toCollapsed', () => {
  it('writes root-first stacks with their sample counts, merged and sorted', () => {
    const b = new ProfileBuilder({ sampleTypes: types });
    b.addFrames([f('leaf'), f('a'), f('main')], [4, 40]);
    b.addFrames([f('b'), f('main')], [3, 30], [{ key: 'tier', str: 'turbofan' }]);
    b.addFrames([f('b'), f('main')], [2, 20], [{ key: 'tier', str: 'ignition' }]); // same stack, other label: summed
    b.addFrames([f('zero'), f('main')], [0, 0]);
    const p = b.build();
    expect(toCollapsed(p)).toBe('main;a;leaf 4\nmain;b 5\n');
    expect(toCollapsed(p, { sampleIndex: 'cpu' })).toBe('main;a;leaf 40\nmain;b 50\n');
    expect(toCollapsed(p, { tags: { tier: 'ignition' } })).toBe('main;b 2\n');
  });

  it('keeps the format parseable: ";" inside a name becomes ":", an empty name "(anonymous)"', () => {
    const b = new ProfileBuilder({ sampleTypes: types });
    b.addFrames([f('get a;b'), { name: '', file: '', line: 0, startLine: 0 }], [1, 1]);
    const text = toCollapsed(b.build());
    expect(text).toBe('(anonymous);get a:b 1\n');
    expect(toCollapsed(fromCollapsed(text))).toBe(text);
  });

  it('writes nothing for a profile without samples', () => {
    expect(toCollapsed(new ProfileBuilder({ sampleTypes: types }).build())).toBe('');
  });
});

describe('fromCollapsed', () => {
  it('reads stacks root first into a samples/count profile', () => {
    const p = fromCollapsed('main;a;leaf 6\nmain;b 3\r\n\n  \nmain;a;leaf 1\n');
    expect(p.sampleTypes).toEqual([{ type: 'samples', unit: 'count' }]);
    const t = functionTable(p);
    expect(t.total).toBe(10);
    expect(t.rows.map((r) => [r.name, r.flat, r.cum])).toEqual([
      ['leaf', 7, 7],
      ['b', 3, 3],
      ['main', 0, 10],
      ['a', 0, 7],
    ]);
  });

  it('round-trips: collapsed → profile → collapsed is identical', () => {
    const text =
      '(garbage collector) 2\nmain;(builtin) ArrayPrototypeSort;compare 11\nmain;run;hot 70\nmain;run;cold 30\n';
    const sorted = text.split('\n').filter(Boolean).sort().join('\n') + '\n';
    expect(toCollapsed(fromCollapsed(text))).toBe(sorted);
    expect(toCollapsed(fromCollapsed(sorted))).toBe(sorted);
  });

  it('names the line and the problem when the text is not collapsed stacks', () => {
    expect(errorOf(() => fromCollapsed('main;a 1\nmain;b\n', 'stacks.txt'))).toBe(
      'ERR_DECODE: stacks.txt line 2 is not "frame;frame;... count": "main;b"',
    );
    expect(errorOf(() => fromCollapsed('main;;b 1'))).toBe('ERR_DECODE: input line 1 has an empty frame');
    expect(errorOf(() => fromCollapsed('main 99999999999999999999'))).toMatch(
      /^ERR_DECODE: input line 1 has count 99999999999999999999, beyond 9007199254740991$/,
    );
  });
});

describe('looksCollapsed', () => {
  it('accepts text whose every line ends in a count, and nothing else', () => {
    expect(looksCollapsed('a;b 1\nc 22\n')).toBe(true);
    expect(looksCollapsed('a b c 3')).toBe(true);
    expect(looksCollapsed('')).toBe(false);
    expect(looksCollapsed('a;b 1\nnot a count\n')).toBe(false);
    expect(looksCollapsed('{"nodes": []}')).toBe(false);
    expect(looksCollapsed('42')).toBe(false);
  });
});
