/** Helpers shared by core's tests: what a call throws, and profiles and output directories built by hand. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode, ProfileBuilder, type Profile, type ProfileError } from '../src/index.js';

/** The ProfileError `fn` throws; fails the test when it throws none. */
export function thrown(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    return e as ProfileError;
  }
  throw new Error('expected an error, none was thrown');
}

/** What `fn` throws as `CODE: message`, or 'no error'. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as ProfileError).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

export const types = [
  { type: 'samples', unit: 'count' },
  { type: 'cpu', unit: 'nanoseconds' },
];
/** A frame of function `name` in src/<name>.ts. */
export const frame = (name: string) => ({ name, file: `src/${name}.ts`, line: 2, startLine: 1 });

/** A profile from root-first stacks and sample counts: { 'bench;work;leaf': 60, ... }. */
export function profileOf(stacks: Record<string, number>): Profile {
  const b = new ProfileBuilder({ sampleTypes: types, mapping: { filename: 'test' } });
  for (const [stack, n] of Object.entries(stacks)) b.addFrames(stack.split(';').map(frame).reverse(), [n, n * 1e6]);
  return b.build();
}

export interface BenchSpec {
  readonly stacks: Record<string, number>;
  readonly counters?: Record<string, number>;
  readonly status?: string;
  /** More fields of its index.json entry (`hz`, `memory`). */
  readonly index?: Record<string, unknown>;
}

/**
 * An output directory as vitest-perf writes it: index.json plus one pprof per benchmark; `dir`
 * (created if missing) instead of a new temporary one, `extra` fields for index.json.
 */
export function runDir(
  benchmarks: Record<string, BenchSpec>,
  complete = true,
  extra: Record<string, unknown> = {},
  dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-rundir-')),
): string {
  mkdirSync(dir, { recursive: true });
  const index = {
    schema: 1,
    complete,
    benchmarks: Object.entries(benchmarks).map(([id, spec]) => {
      writeFileSync(path.join(dir, `${id}.pb.gz`), encode(profileOf(spec.stacks)));
      return {
        id,
        file: 'bench/x.bench.ts',
        name: id,
        fullName: `x > ${id}`,
        profile: `${id}.pb.gz`,
        counters: spec.counters ?? {},
        status: spec.status ?? 'passed',
        ...spec.index,
      };
    }),
    ...extra,
  };
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}
