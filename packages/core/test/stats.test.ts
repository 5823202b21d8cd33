/**
 * The rank statistics against brute force: every split of the pooled values enumerated, so the
 * exact p-values, tie handling and confidence bounds are checked against their definitions.
 */
import { describe, expect, it } from 'vitest';
import {
  EXACT_LIMIT,
  hodgesLehmann,
  mannWhitney,
  midRanks,
  normalUpper,
  studentQuantile,
  studentUpper,
} from '../src/index.js';

/** Every way to pick k of n indices. */
function* combinations(n: number, k: number, start = 0, picked: number[] = []): Generator<number[]> {
  if (picked.length === k) return yield [...picked];
  for (let i = start; i <= n - (k - picked.length); i++) yield* combinations(n, k, i + 1, [...picked, i]);
}

/** P(rank sum of a random y-sized subset ≥ the observed one), by enumeration. */
function bruteP(x: number[], y: number[]): number {
  const ranks = midRanks([...x, ...y]);
  const observed = ranks.slice(x.length).reduce((a, b) => a + b, 0);
  let hit = 0,
    all = 0;
  for (const c of combinations(ranks.length, y.length)) {
    all++;
    if (c.reduce((a, i) => a + ranks[i], 0) >= observed - 1e-9) hit++;
  }
  return hit / all;
}

/** A seeded generator (mulberry32), so the random cases are the same every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('midRanks', () => {
  it('gives tied values the mean of their positions', () => {
    expect(midRanks([30, 10, 20, 10])).toEqual([4, 1.5, 3, 1.5]);
    expect(midRanks([5, 5, 5])).toEqual([2, 2, 2]);
  });
});

describe('mannWhitney', () => {
  it('reaches 1 / C(n, k) at complete separation: the floor a few runs can reach', () => {
    expect(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toEqual({ u: 25, p: 1 / 252 });
    expect(mannWhitney([1, 2, 3], [4, 5, 6]).p).toBeCloseTo(1 / 20, 12);
    expect(mannWhitney([1], [2]).p).toBe(0.5);
    expect(mannWhitney([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]).p).toBe(1);
  });

  it('matches enumeration on random samples with ties', () => {
    const r = rng(7);
    for (let trial = 0; trial < 60; trial++) {
      const nx = 1 + Math.floor(r() * 6),
        ny = 1 + Math.floor(r() * 6);
      const draw = () => Math.floor(r() * 6); // few distinct values: many ties
      const x = Array.from({ length: nx }, draw),
        y = Array.from({ length: ny }, draw);
      expect(mannWhitney(x, y).p, `${x} vs ${y}`).toBeCloseTo(bruteP(x, y), 12);
    }
  });

  it('is 1 for an empty side, and for all-equal values', () => {
    expect(mannWhitney([], [1, 2]).p).toBe(1);
    expect(mannWhitney([3, 3, 3], [3, 3, 3]).p).toBe(1);
  });

  it('past the exact limit, agrees with a permutation estimate', () => {
    const r = rng(11);
    const x = Array.from({ length: 31 }, () => r());
    const y = Array.from({ length: EXACT_LIMIT - 30 }, () => r() + 0.12);
    const { p } = mannWhitney(x, y);
    const pooled = [...x, ...y];
    let hit = 0;
    const ranks = midRanks(pooled);
    const observed = ranks.slice(x.length).reduce((a, b) => a + b, 0);
    const idx = pooled.map((_, i) => i);
    const draws = 20_000;
    for (let d = 0; d < draws; d++) {
      for (let i = idx.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [idx[i], idx[j]] = [idx[j], idx[i]];
      }
      if (idx.slice(0, y.length).reduce((a, i) => a + ranks[i], 0) >= observed) hit++;
    }
    expect(p).toBeGreaterThan(0.005);
    expect(Math.abs(p - hit / draws)).toBeLessThan(0.01);
  });
});

describe('normalUpper', () => {
  it('is the standard normal upper tail', () => {
    expect(normalUpper(0)).toBeCloseTo(0.5, 7);
    expect(normalUpper(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalUpper(-1.644854)).toBeCloseTo(0.95, 6);
  });
});

describe('Student t', () => {
  it('matches tabled tails and quantiles', () => {
    // One-sided 0.001 quantiles, and P(T ≥ 2), from printed tables.
    const table: [number, number, number][] = [
      [1, 318.309, 0.14758],
      [5, 5.8934, 0.05097],
      [8, 4.5008, 0.04026],
      [12, 3.9296, 0.03433],
      [30, 3.3852, 0.02731],
    ];
    for (const [df, q, p2] of table) {
      expect(studentQuantile(0.001, df)).toBeCloseTo(q, 3);
      expect(studentUpper(2, df)).toBeCloseTo(p2, 5);
      expect(studentUpper(-2, df)).toBeCloseTo(1 - p2, 5);
    }
    expect(studentQuantile(0.001, 1e6)).toBeCloseTo(3.0902, 3); // the normal's
  });
});

describe('hodgesLehmann', () => {
  it('estimates the shift as the median pairwise difference', () => {
    expect(hodgesLehmann([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).estimate).toBe(5);
    expect(hodgesLehmann([0], [0.25]).estimate).toBe(0.25);
  });

  it('bounds it at the Mann–Whitney critical count (Moses), ±Infinity when runs are too few', () => {
    // 5 a side at 90%: P(U ≤ 4) = 12/252 ≤ 0.05 < P(U ≤ 5) = 19/252, so the 5th smallest and
    // 5th largest of the 25 differences.
    const x = [0, 1, 2, 3, 4],
      y = [10, 11, 12, 13, 14];
    const d = x.flatMap((a) => y.map((b) => b - a)).sort((p, q) => p - q);
    expect(hodgesLehmann(x, y)).toEqual({ estimate: 10, low: d[4], high: d[20] });
    // 3 a side: P(U = 0) = 1/20 = 0.05 exactly, so the extremes.
    expect(hodgesLehmann([0, 1, 2], [5, 6, 7])).toEqual({ estimate: 5, low: 3, high: 7 });
    expect(hodgesLehmann([0, 1], [5, 6])).toEqual({ estimate: 5, low: -Infinity, high: Infinity });
  });

  it('covers the true shift about as often as it claims', () => {
    const r = rng(3);
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const x = Array.from({ length: 6 }, () => r()),
        y = Array.from({ length: 6 }, () => r() + 0.3);
      const ci = hodgesLehmann(x, y);
      if (ci.low <= 0.3 && 0.3 <= ci.high) covered++;
    }
    // Nominal 90%; the discrete critical value makes it a little conservative.
    expect(covered / trials).toBeGreaterThan(0.86);
    expect(covered / trials).toBeLessThan(0.97);
  });
});
