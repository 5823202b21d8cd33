/** Load: 1,000 benchmarks in one `vitest-perf bench` run (fixtures/vitest4/load/many.bench.ts). */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { CLI, readIndex, readProfile, run, tmpOut } from './helpers.js';

it('profiles 1,000 benchmarks in one run: 1,000 decodable profiles, unique ids, a complete index', () => {
  const out = tmpOut('perf.out');
  const r = run([CLI, 'bench', '--run', '--perfprofile', out], { env: { FIXTURE_LOAD: 'many' } });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  const index = readIndex(out);
  expect(index.complete).toBe(true);
  expect(index.missing).toEqual([]);
  expect(index.benchmarks).toHaveLength(1000);
  expect(new Set(index.benchmarks.map((b) => b.id)).size).toBe(1000);
  expect(index.benchmarks.every((b) => b.status === 'passed')).toBe(true);
  expect(readdirSync(out).filter((f) => f.endsWith('.pb.gz'))).toHaveLength(1001); // + merged
  for (const b of [index.benchmarks[0], index.benchmarks[499], index.benchmarks[999]])
    expect(readProfile(path.join(out, b.profile)).sampleTypes.length).toBe(2);
  const merged = readProfile(path.join(out, 'merged.pb.gz'));
  expect(merged.samples.reduce((a, s) => a + s.values[0], 0)).toBe(index.benchmarks.reduce((a, b) => a + b.samples, 0));
}, 240_000);
