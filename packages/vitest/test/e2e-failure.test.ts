/** End to end: a throwing benchmark, bad config, baseline=off, filters and skip. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, pprofTop, readIndex, readProfile, run, tmpOut, topFunction } from './helpers.js';
import { crossCheck } from '../../../scripts/tools.mjs';

describe('a benchmark that throws', () => {
  it('fails as Vitest reports it, keeps its partial profile and marks the run incomplete', () => {
    const out = tmpOut('perf.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out, 'extra/'], { env: { FIXTURE_EXTRA: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain('fixture: deliberate failure');
    const index = readIndex(out);
    expect(index.complete).toBe(false);
    const byName = new Map(index.benchmarks.map((b) => [b.fullName, b]));
    const failed = byName.get('failing > throws every 50th call')!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('deliberate failure');
    expect(failed.samples).toBeGreaterThan(0);
    const partial = readProfile(path.join(out, failed.profile));
    expect(partial.samples.length).toBeGreaterThan(0);
    // A warm-up failure, which plain Vitest 4 passes over silently, is a failure here too.
    const warmup = byName.get('failing in warm-up > throws in warm-up')!;
    expect(warmup.status).toBe('failed');
    expect(warmup.error).toContain('deliberate warm-up failure');
    expect(readProfile(path.join(out, warmup.profile)).sampleTypes.length).toBeGreaterThan(0);
    expect(r.stderr + r.stdout).toContain('fixture: deliberate warm-up failure');
    // The sampler was stopped: the next benchmark's profile is complete and its own.
    const after = byName.get('failing > passes after the failure')!;
    expect(after.status).toBe('passed');
    expect(after.samples).toBeGreaterThan(20);
    crossCheck('go', () => expect(topFunction(pprofTop(path.join(out, after.profile)))).toBe('bubbleSort'));
    // bench.skip is not run, so not profiled.
    expect(byName.has('modes > kept bench')).toBe(true);
    expect(byName.has('modes > skipped bench')).toBe(false);
    expect(r.stdout).toContain('incomplete');
  });
});

describe('a benchmark that throws in its warm-up, baseline=off', () => {
  it('is profiled once and fails the run, where plain Vitest 4 exits 0', () => {
    const out = tmpOut('perf.out');
    const r = run(
      [CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', 'baseline=off', 'extra/warmup-throws'],
      { env: { FIXTURE_EXTRA: '1' } },
    );
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain('fixture: deliberate warm-up failure');
    const index = readIndex(out);
    expect(index.complete).toBe(false);
    const [b] = index.benchmarks;
    expect(b.fullName).toBe('failing in warm-up > throws in warm-up');
    expect(b.status).toBe('failed');
    expect(b.error).toContain('deliberate warm-up failure');
    expect(readProfile(path.join(out, b.profile)).sampleTypes.length).toBeGreaterThan(0);
  });
});

describe('config errors', () => {
  it('prints one line, exits 2, runs nothing and creates no output directory', () => {
    const out = tmpOut('never.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', 'event=cyclez']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^vitest-perf: unknown event "cyclez" \(did you mean "cycles"\?/),
    ]);
    expect(r.stdout).not.toContain('bench');
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a flag without a value', () => {
    const r = run([CLI, 'bench', '--run', '--perfprofile']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vitest-perf: --perfprofile needs a value/);
  });

  it('documents its flags in --help', () => {
    const r = run([CLI, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--perfprofile <dir>');
    expect(r.stdout).toContain('--perfprofileconfig');
    expect(r.stdout).toContain("Every other argument is Vitest's");
  });
});

describe('baseline=off with a -t filter', () => {
  it('profiles the measured pass of the selected benchmark only and says so', () => {
    const out = tmpOut('perf.out');
    const r = run([
      CLI,
      'bench',
      '--run',
      `--perfprofile=${out}`,
      '--perfprofileconfig=event=v8 baseline=off',
      '-t',
      'bubble',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const index = readIndex(out);
    expect(index.complete).toBe(true);
    expect(index.config.baseline).toBe(false);
    expect(index.benchmarks.map((b) => b.fullName)).toEqual(['sorting > quadratic > bubble 400']);
    const [b] = index.benchmarks;
    expect(b.hz.baseline).toBeNull();
    expect(b.hz.profiled).toBeGreaterThan(0);
    expect(b.overheadPct).toBeNull();
    expect(b.top[0].function).toBe('bubbleSort');
    // One pass: its counters are the profiled pass's too.
    expect(b.counters['task-clock/op']).toBeGreaterThan(0);
    expect(b.profiledCounters).toEqual(b.counters);
    expect(r.stdout).toContain('include its overhead');
  });
});
