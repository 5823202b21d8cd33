import { describe, expect, it } from 'vitest';
import { byText, groupDigits } from '../src/text.js';

describe('groupDigits', () => {
  it('groups like en-US toLocaleString, rounding first', () => {
    for (const n of [
      0,
      7,
      999,
      999.5,
      1000,
      1234.4,
      12345,
      123456,
      1234567,
      1e9 + 1,
      -1,
      -1000,
      -987654.6,
      2 ** 53 - 1,
    ]) {
      expect(groupDigits(n), String(n)).toBe(Math.round(n).toLocaleString('en-US'));
    }
  });
  it('passes non-finite numbers through', () => {
    expect(groupDigits(Infinity)).toBe('Infinity');
    expect(groupDigits(NaN)).toBe('NaN');
  });
});

describe('byText', () => {
  it('orders by code units, like the default sort', () => {
    const names = ['b', 'a', 'B', '(anonymous)', 'aa', '', 'é', 'Z'];
    expect([...names].sort(byText)).toEqual([...names].sort());
    expect(byText('x', 'x')).toBe(0);
  });
});
