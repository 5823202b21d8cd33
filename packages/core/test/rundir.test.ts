import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRunDir, readIndex, readRunDir } from '../src/index.js';
import { errorOf, runDir, type BenchSpec } from './helpers.js';

describe('readRunDir', () => {
  it('refuses what is not an output directory, and an index that points outside it', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'perfprofile-compare-'));
    expect(isRunDir(empty)).toBe(false);
    expect(errorOf(() => readRunDir(empty))).toMatch(/^ERR_INPUT: .* has no index\.json$/);
    writeFileSync(path.join(empty, 'index.json'), '{"schema": 1, "benchmarks": [');
    expect(isRunDir(empty)).toBe(true);
    expect(errorOf(() => readRunDir(empty))).toMatch(/^ERR_INPUT: .*index\.json is not valid JSON$/);
    writeFileSync(path.join(empty, 'index.json'), '{"schema": 2, "benchmarks": []}');
    expect(errorOf(() => readRunDir(empty))).toMatch(/is not a perfprofile index \(schema 2\)$/);
    const dir = runDir({ one: base() });
    const run = readRunDir(dir);
    expect(readIndex(dir)).toMatchObject({
      schema: 1,
      complete: true,
      benchmarks: [{ id: 'one', profile: 'one.pb.gz' }],
    });
    expect(errorOf(() => run.load({ ...run.benchmarks[0], profile: '../elsewhere.pb.gz' }))).toMatch(
      /names profile "\.\.\/elsewhere\.pb\.gz" outside the directory$/,
    );
    expect(errorOf(() => run.load({ ...run.benchmarks[0], profile: 'missing.pb.gz' }))).toMatch(
      /missing\.pb\.gz is missing \(listed in index\.json\)$/,
    );
    expect(errorOf(() => run.loadAlloc(run.benchmarks[0]))).toMatch(/lists no allocation profile for "x > one"$/);
    expect(errorOf(() => run.loadAlloc({ ...run.benchmarks[0], allocProfile: '../x.alloc.pb.gz' }))).toMatch(
      /outside the directory$/,
    );
    expect(errorOf(() => run.loadAlloc({ ...run.benchmarks[0], allocProfile: 'one.alloc.pb.gz' }))).toMatch(
      /one\.alloc\.pb\.gz is missing \(listed in index\.json\)$/,
    );
    mkdirSync(path.join(dir, 'sub'));
    expect(isRunDir(path.join(dir, 'sub'))).toBe(false);
    expect(isRunDir(path.join(dir, 'index.json'))).toBe(false);
  });

  function base(): BenchSpec {
    return { stacks: { 'bench;leaf': 1 } };
  }
});
