/** Shared by the end-to-end tests: paths, running the bin or Vitest in a child, reading the output. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, type Profile } from '@perfprofile/core';
import { toolPath } from '../../../scripts/tools.mjs';
import type { IndexFile } from '../src/output.js';

export const PKG = fileURLToPath(new URL('..', import.meta.url));
export const REPO = path.resolve(PKG, '../..');
export const FIXTURE = path.join(REPO, 'fixtures/vitest4');
export const CLI = path.join(PKG, 'dist/cli.js');
export const VITEST_BIN = path.join(REPO, 'node_modules/vitest/vitest.mjs');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a child Vitest gets: ours minus the parent Vitest's worker variables and
 * FORCE_COLOR, with NO_COLOR and CI set unless `extra` says otherwise (an empty value unsets a
 * variable: some readers take a set but empty NO_COLOR or CI as set).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^VITEST|^TINYPOOL|^NODE_ENV$|^TEST$|^FORCE_COLOR$/.test(k)) env[k] = v;
  const merged: NodeJS.ProcessEnv = { ...env, NO_COLOR: '1', CI: '1', ...extra };
  for (const [k, v] of Object.entries(extra)) if (v === '') delete merged[k];
  return merged;
}

export function run(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): RunResult {
  const r = spawnSync(process.execPath, cmd, {
    cwd: options.cwd ?? FIXTURE,
    env: childEnv(options.env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tmpOut(name: string): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'vitest-perf-')), name);
}

export function readIndex(out: string): IndexFile {
  return JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8')) as IndexFile;
}

export function readProfile(file: string): Profile {
  return decode(readFileSync(file));
}

/**
 * `go tool pprof <args> <file>` output. go is a test dependency that npm test installs where it
 * can: its callers are guarded by needs('go') or crossCheck('go', ...) (scripts/tools.mjs).
 */
export function pprof(file: string, ...args: string[]): string {
  const r = spawnSync(toolPath('go'), ['tool', 'pprof', ...args, file], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`go tool pprof could not run (${r.error.message})`);
  if (r.status !== 0) throw new Error(`go tool pprof failed: ${r.stderr}`);
  return r.stdout;
}

/** `go tool pprof -top` output for a profile. */
export function pprofTop(file: string): string {
  return pprof(file, '-top');
}

/** The rows of `pprof -top` output (highest flat first): the function column, and its file:line with -lines. */
export function topRows(top: string): string[] {
  const lines = top.split('\n');
  const start = lines.findIndex((l) => /^\s*flat\s+flat%/.test(l));
  return lines
    .slice(start + 1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/).slice(5).join(' '));
}

/** The first function row (highest flat) of `pprof -top` output. */
export function topFunction(top: string): string {
  return topRows(top)[0];
}

/** Benchmark label values on the samples of a profile. */
export function benchmarkLabels(profile: Profile): Set<string> {
  const out = new Set<string>();
  for (const s of profile.samples) for (const l of s.labels) if (l.key === 'benchmark' && l.str) out.add(l.str);
  return out;
}

/** The 1-based line of the first line of `file` (relative to the fixture) that contains `text`. */
export function lineOf(file: string, text: string): number {
  const lines = readFileSync(path.join(FIXTURE, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${text} not in ${file}`);
  return i + 1;
}

/**
 * The hot function each fixture benchmark is built around. `acceptV8`: what event=v8 may report
 * instead, for a known limitation of V8's own profiler, not ours: code V8 compiled by on-stack
 * replacement during the warm-up is not among the code it lists when a profile starts, so
 * samples in it land on the caller, the benchmark callback `bench: <name>` (insertionSort,
 * after bubble 400 in the same worker; how often: the package README's known limits). The
 * native sources follow code events from before the warm-up.
 */
export interface HotFunction {
  readonly fn: string;
  readonly file: string;
  readonly decl: string;
  readonly acceptV8?: readonly string[];
}

/** The functions a run of `source` (index.json `config.source`) may report as the top one. */
export function acceptedTop(hot: HotFunction, source: string): string[] {
  return [hot.fn, ...(source === 'v8' ? (hot.acceptV8 ?? []) : [])];
}

export const HOT: Record<string, HotFunction> = {
  'sorting > quadratic > bubble 400': { fn: 'bubbleSort', file: 'src/sort.ts', decl: 'export function bubbleSort' },
  'sorting > insertion 400': {
    fn: 'insertionSort',
    file: 'src/sort.ts',
    decl: 'export function insertionSort',
    acceptV8: ['bench: insertion 400'],
  },
  'hash > fnv1a sync': { fn: 'hashRounds', file: 'src/hash.ts', decl: 'export function hashRounds' },
  'hash > fnv1a async': { fn: 'hashRounds', file: 'src/hash.ts', decl: 'export function hashRounds' },
};

/**
 * The stack memo's check-mode lines in a run's warnings (PERFPROFILE_STACK_MEMO=check: each
 * replayed stack was also walked by V8 and compared), one per profiled run.
 */
export function memoChecks(index: IndexFile): { replayed: number; samples: number; differed: number }[] {
  return (index.config.warnings ?? []).flatMap((w) => {
    const m = /^stack memo check: (\d+) of (\d+) stacks replayed, (\d+) differed/.exec(w);
    return m ? [{ replayed: Number(m[1]), samples: Number(m[2]), differed: Number(m[3]) }] : [];
  });
}
