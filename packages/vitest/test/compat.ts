/**
 * Shared by the compatibility end-to-end tests (e2e-v5, e2e-compat): the Vitest fixture
 * projects per major, whether this Node can run them, and one check of a profiled run's output
 * that holds for every Vitest major and source.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { compareVersions } from '../src/adapter.js';
import { VITEST5_MIN_NODE } from '../src/adapter-v5.js';
import type { IndexFile } from '../src/output.js';
import {
  acceptedTop,
  benchmarkLabels,
  FIXTURE,
  HOT,
  pprofTop,
  readProfile,
  REPO,
  topFunction,
  VITEST_BIN,
  type HotFunction,
} from './helpers.js';
import { crossCheck } from '../../../scripts/tools.mjs';

export interface FixtureProject {
  readonly major: 4 | 5;
  readonly dir: string;
  /** `vitest` CLI entry for this fixture. */
  readonly vitestBin: string;
  /** index.json `vitest`. */
  readonly version: RegExp;
  /** Benchmark full name → the function it makes hot. */
  readonly hot: Readonly<Record<string, HotFunction>>;
  /** Whether this Node can run it, and why not. */
  readonly unsupported: string | undefined;
}

const FIXTURE5 = path.join(REPO, 'fixtures/vitest5');

export const VITEST4: FixtureProject = {
  major: 4,
  dir: FIXTURE,
  vitestBin: VITEST_BIN,
  version: /^4\.1\./,
  hot: HOT,
  unsupported: undefined,
};

export const VITEST5: FixtureProject = {
  major: 5,
  dir: FIXTURE5,
  vitestBin: path.join(FIXTURE5, 'node_modules/vitest/vitest.mjs'),
  version: /^5\./,
  hot: {
    'sorting > bubble 400': { fn: 'bubbleSort', file: 'src/sort.ts', decl: 'export function bubbleSort' },
    'sorting > selection 400': { fn: 'selectionSort', file: 'src/sort.ts', decl: 'export function selectionSort' },
    'hash > fnv1a > sync': { fn: 'fnvRounds', file: 'src/hash.ts', decl: 'export function fnvRounds' },
    'hash > fnv1a > async': { fn: 'fnvRounds', file: 'src/hash.ts', decl: 'export function fnvRounds' },
  },
  unsupported:
    compareVersions(process.versions.node, VITEST5_MIN_NODE) < 0
      ? `Vitest 5 needs Node >= ${VITEST5_MIN_NODE} (this is ${process.version}); .ci/run runs these on Node 24`
      : !existsSync(path.join(FIXTURE5, 'node_modules/vitest/vitest.mjs'))
        ? 'fixtures/vitest5 is not installed (npm ci there; .ci/run does)'
        : undefined,
};

/**
 * `.ci/run` sets PERFPROFILE_REQUIRE_VITEST5=1 on the Node 24 leg: there a missing Vitest 5
 * fixture is a failure, not a skip.
 */
export function requireSupported(project: FixtureProject): void {
  if (project.major === 5 && process.env.PERFPROFILE_REQUIRE_VITEST5 === '1' && project.unsupported)
    throw new Error(project.unsupported);
}

/** The 1-based line of the first line of `file` (in the fixture) containing `text`. */
export function lineIn(project: FixtureProject, file: string, text: string): number {
  const lines = readFileSync(path.join(project.dir, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${text} not in ${file}`);
  return i + 1;
}

/**
 * A complete profiled run of every fixture benchmark: one decodable pprof each, rooted at the
 * benchmark (no harness frames), in the original .ts files and lines, labeled, merged.
 */
export function checkRun(project: FixtureProject, out: string, index: IndexFile): void {
  expect(index.schema).toBe(1);
  expect(index.complete).toBe(true);
  expect(index.node).toBe(process.version);
  expect(index.vitest).toMatch(project.version);
  expect(index.benchmarks.map((b) => b.fullName).sort()).toEqual(Object.keys(project.hot).sort());
  expect(new Set(index.benchmarks.map((b) => b.id)).size).toBe(index.benchmarks.length);
  for (const b of index.benchmarks) {
    const hot = project.hot[b.fullName];
    const accepted = acceptedTop(hot, index.config.source);
    expect(b.id).toMatch(/^[a-z0-9.-]+$/);
    expect(b.profile).toBe(`${b.id}.pb.gz`);
    expect(b.status).toBe('passed');
    expect(b.samples).toBeGreaterThan(20);
    expect(b.hz.profiled).toBeGreaterThan(0);
    expect(accepted).toContain(b.top[0].function);
    const profile = readProfile(path.join(out, b.profile));
    expect(benchmarkLabels(profile)).toEqual(new Set([b.fullName]));
    // The hot function's file and line, wherever it appears (always, unless V8 lost its frames).
    const fn = profile.functions.find((f) => f.name === hot.fn);
    if (b.top[0].function === hot.fn) expect(fn).toBeDefined();
    if (fn) {
      expect(fn.filename).toBe(hot.file);
      expect(fn.startLine).toBe(lineIn(project, hot.file, hot.decl));
    }
    for (const f of profile.functions)
      if (f.filename && !f.filename.startsWith('node:')) expect(f.filename).toMatch(/\.ts$/);
    expect(profile.functions.some((f) => /tinybench|vitest[\\/]dist|node_modules/.test(f.filename))).toBe(false);
    crossCheck('go', () => expect(accepted).toContain(topFunction(pprofTop(path.join(out, b.profile)))));
  }
  const merged = readProfile(path.join(out, 'merged.pb.gz'));
  expect(benchmarkLabels(merged)).toEqual(new Set(index.benchmarks.map((b) => b.fullName)));
  expect(existsSync(path.join(out, '.records'))).toBe(false);
}
