/**
 * The performance harness (scripts/bench.mjs, `npm run bench`) with tiny durations, so it
 * cannot rot: every source and peer runs, every section prints, every goal row is decided
 * from a figure of this run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

it('runs every source, the encoder, the Vitest leg, the signal floors and the memory legs, and prints the tables', () => {
  const json = path.join(mkdtempSync(path.join(os.tmpdir(), 'perfprofile-bench-')), 'bench.json');
  const r = spawnSync(process.execPath, ['scripts/bench.mjs', '--smoke', '--json', json], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 330_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  const sources = result.sampling.map((row: { source: string }) => row.source);
  expect(sources).toEqual(['v8', 'task-clock', 'timer', 'thread-cputime', 'cpu-prof', 'datadog']);
  // thread-cputime's helper thread was found and its CPU read.
  expect(
    result.sampling.find((row: { source: string }) => row.source === 'thread-cputime').helperMsPerSec,
  ).toBeGreaterThan(0);
  for (const row of result.sampling) {
    expect(row.error, `${row.source}: ${row.error}`).toBeUndefined();
    expect(row.samplesPerSec).toBeGreaterThan(0);
    expect(Number.isFinite(row.overheadWall.median)).toBe(true);
    expect(row.attributed).toBeGreaterThan(0);
  }
  expect(result.encoder.speedup).toBeGreaterThan(0);
  expect(result.encoder.speedup6).toBeGreaterThan(0);
  expect(result.vitest.ratio.median).toBeGreaterThan(0);
  // The bare trigger at the same rate (1 kHz in smoke mode), with and without its signal, and
  // the cross-core ones (CPU time, wall time) with their helpers' CPU.
  expect(result.floor.map((f: { trigger: string; rate: number }) => `${f.trigger}@${f.rate}`)).toEqual([
    'perf task-clock@1000',
    'perf task-clock, no signal (kernel ring)@1000',
    'cross-core cputime (tgkill)@1000',
    'cross-core wall (tgkill)@1000',
  ]);
  expect(result.floor[2].helperMsPerSec).toBeGreaterThan(0);
  expect(result.floor[3].helperMsPerSec).toBeGreaterThan(0);
  for (const f of result.floor) expect(f.samplesPerSec).toBeGreaterThan(500);
  // Head to head in one process: thread-cputime, its trigger alone (signals counted, no stacks)
  // and v8, each with its own unprofiled passes.
  const h2h = result.headToHead as {
    rate: number;
    rows: { source: string; samplesPerSec: number; attributed: number }[];
    cFloors: { trigger: string; samplesPerSec: number }[];
  };
  expect(h2h.rows.map((r) => r.source)).toEqual(['thread-cputime', 'floor', 'v8']);
  for (const r of h2h.rows) expect(r.samplesPerSec, r.source).toBeGreaterThan(500);
  expect(h2h.rows[1].attributed).toBe(0);
  // ... and signal-floor's cross-core triggers in the same rounds.
  expect(h2h.cFloors.map((f) => f.trigger)).toEqual(['cross-core cputime (tgkill)', 'cross-core wall (tgkill)']);
  for (const f of h2h.cFloors) expect(f.samplesPerSec, f.trigger).toBeGreaterThan(500);
  for (const heading of [
    '## Sampling',
    '## Encoding',
    '## Vitest end to end',
    '## Signal floor',
    '## Cost per sample at 1000 Hz, head to head',
    "## Memory: GC callbacks in Vitest's measured pass",
    '## Memory: the allocation census',
    '## Memory: alloc=on',
    '## Goals',
  ])
    expect(r.stdout).toContain(heading);
  // The census finds each workload's bytes per op exactly; the goal row is decided.
  for (const c of result.memory.census) if (c.truth !== undefined) expect(c.bytesPerOp, c.workload).toBe(c.truth);
  expect(r.stdout).toMatch(/\| memory accounting ≤ 1% of the measured pass's ops\/s \| ≤ \d+\.\d\d% .* \| (yes|no) \|/);
  expect(r.stdout).toMatch(
    /\| overhead ≤ 1% at ~1 kHz, CPU-time source \| task-clock: .*; the bare trigger alone: -?\d+\.\d%/,
  );
  expect(r.stdout).toMatch(/\| task-clock \| 1000 \| -?\d+\.\d/);
  expect(r.stdout).toMatch(/\| thread-cputime at 1 kHz: overhead ≤ max\(1%, v8 at 1 kHz\) \| -?\d+\.\d% on-CPU \(v8: /);
  expect(r.stdout).toMatch(/\| vitest-perf wall time ≤ 1\.15× plain vitest bench \| \d+\.\d\d×/);
}, 350_000);

it('rejects a bad option with one line and exit 2', () => {
  const r = spawnSync(process.execPath, ['scripts/bench.mjs', '--pairs', 'zero'], { cwd: REPO, encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr.trim()).toBe('bench: --pairs needs a positive integer, got "zero"');
});
