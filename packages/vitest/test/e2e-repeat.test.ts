/**
 * `vitest-perf bench --perfprofile <dir> --perfprofile-runs N`: the suite N times, each in fresh
 * processes, run 1 into <dir> and run k into <dir>/run-k, listed in <dir>/index.json `repeats`
 * (what `perfprofile check` reads as several runs of one side); repeats of an earlier invocation
 * are removed first. Bad values: one line, exit 2, nothing runs.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, readIndex, run, tmpOut } from './helpers.js';

describe('--perfprofile-runs', () => {
  it('runs the suite in fresh processes, into the directory and its listed repeats', () => {
    const out = tmpOut('perf.out');
    // Left by an earlier invocation of 3 runs: not part of this set.
    mkdirSync(path.join(out, 'run-3'), { recursive: true });
    writeFileSync(path.join(out, 'run-3', 'index.json'), '{"schema":1,"benchmarks":[]}');
    const r = run([
      CLI,
      'bench',
      '--run',
      'bench/hash.bench.ts',
      '--perfprofile',
      out,
      '--perfprofile-runs',
      '2',
      '--perfprofileconfig',
      'event=v8 rate=500',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`vitest-perf: run 1 of 2 → ${out}\n`);
    expect(r.stderr).toContain(`vitest-perf: run 2 of 2 → ${path.join(out, 'run-2')}\n`);
    const first = readIndex(out),
      second = readIndex(path.join(out, 'run-2'));
    expect((first as { repeats?: string[] }).repeats).toEqual(['run-2']);
    expect(existsSync(path.join(out, 'run-3'))).toBe(false);
    for (const index of [first, second]) {
      expect(index.complete).toBe(true);
      expect(index.config.event).toBe('v8'); // the config reached every run
      expect(index.benchmarks.map((b) => b.fullName).sort()).toEqual(['hash > fnv1a async', 'hash > fnv1a sync']);
    }
    // Each run is its own profile: separate processes, separate samples.
    expect(existsSync(path.join(out, 'run-2', first.benchmarks[0].profile))).toBe(true);
  }, 240_000);

  it('refuses a bad count, or runs without --perfprofile, with one line and exit 2', () => {
    for (const [args, message] of [
      [
        ['--perfprofile', tmpOut('x'), '--perfprofile-runs', '0'],
        /--perfprofile-runs needs a whole number from 1 to 100, got "0"/,
      ],
      [
        ['--perfprofile', tmpOut('x'), '--perfprofile-runs=many'],
        /--perfprofile-runs needs a whole number from 1 to 100, got "many"/,
      ],
      [['--perfprofile-runs', '3'], /--perfprofile-runs needs --perfprofile <dir> too/],
    ] as const) {
      const r = run([CLI, 'bench', '--run', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
