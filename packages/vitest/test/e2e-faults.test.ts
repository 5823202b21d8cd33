/**
 * Faults during `vitest-perf bench` (fixtures/vitest4/extra/faults, one file per fault): the run is
 * interrupted by SIGINT or SIGTERM, a worker exits or is killed, the output directory cannot
 * be written. Each time: finished profiles stay valid, index.json is valid JSON with
 * `complete: false` saying what did not finish and why, no worker is left running (so no
 * sampler either), and the exit code is non-zero.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv, CLI, FIXTURE, readIndex, readProfile, run, tmpOut } from './helpers.js';

/** Child pids of `pid` (Linux). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // Thread gone.
    }
  }
  return out;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The phase a benchmark's marker file shows, if it is running. */
function phaseOf(out: string, idPrefix: string): string | undefined {
  const name = records(out).find((f) => f.startsWith(idPrefix) && f.endsWith('.running'));
  if (!name) return undefined;
  try {
    return (JSON.parse(readFileSync(path.join(out, '.records', name), 'utf8')) as { phase: string }).phase;
  } catch {
    return undefined; // being replaced
  }
}

/** Starts a fault fixture, waits until `ready(out)`, sends `sig`; resolves with the outcome. */
async function interrupt(fixture: string, sig: NodeJS.Signals, args: string[], ready: (out: string) => boolean, before?: (pid: number) => Promise<void>) {
  const out = tmpOut('perf.out');
  const child = spawn(process.execPath, [CLI, 'bench', '--run', '--perfprofile', out, ...args], { cwd: FIXTURE, env: childEnv({ FIXTURE_FAULTS: fixture }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => ready(out), 30_000, `the ${fixture} fixture to reach the point of interruption`);
  const workers = childrenOf(child.pid!);
  expect(workers.length).toBeGreaterThan(0);
  await before?.(child.pid!);
  child.kill(sig);
  const code = await exited;
  return { out, code, stdout, workers };
}

const records = (out: string) => (existsSync(path.join(out, '.records')) ? readdirSync(path.join(out, '.records')) : []);

describe('interrupted runs', () => {
  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s while a benchmark is profiled: finished profiles kept, the cut one named with its samples, workers gone, exit %i', async (sig, exitCode) => {
    // baseline=off: the minute-long measured pass is the profiled one.
    const r = await interrupt('long', sig, ['--perfprofileconfig', 'baseline=off'], (out) => records(out).some((f) => f.includes('runs-for-a-minute') && f.endsWith('.progress')));
    expect(r.code).toBe(exitCode);
    const index = readIndex(r.out);
    expect(index.complete).toBe(false);
    expect(index.interrupted).toBe(sig);
    expect(index.benchmarks.map((b) => [b.fullName, b.status])).toEqual([['long > quick one first', 'passed']]);
    expect(readProfile(path.join(r.out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
    expect(index.missing).toEqual([{ file: 'extra/faults/long.bench.ts', fullName: 'long > runs for a minute', reason: expect.stringMatching(new RegExp(`^interrupted by ${sig} while profiled \\(\\d+ samples taken, profile not written\\)$`)) }]);
    expect(r.stdout).toContain(`interrupted by ${sig}`);
    // The worker sampling inside the loop is gone, so is its sampler; nothing else is left behind.
    await waitFor(() => !r.workers.some(alive), 5000, 'the workers to exit');
    expect(records(r.out)).toEqual([]);
  }, 60_000);

  it('SIGTERM during the unprofiled measured pass: index.json names the benchmark and its pass, exit 143', async () => {
    const r = await interrupt('long', 'SIGTERM', [], (out) => phaseOf(out, 'long.bench--long--runs-for-a-minute') === 'measured');
    expect(r.code).toBe(143);
    const index = readIndex(r.out);
    expect(index.complete).toBe(false);
    expect(index.interrupted).toBe('SIGTERM');
    expect(index.benchmarks.map((b) => b.fullName)).toEqual(['long > quick one first']);
    expect(readProfile(path.join(r.out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
    expect(index.missing).toEqual([{ file: 'extra/faults/long.bench.ts', fullName: 'long > runs for a minute', reason: 'interrupted by SIGTERM in its measured pass, before it was profiled' }]);
    await waitFor(() => !r.workers.some(alive), 5000, 'the workers to exit');
  }, 60_000);

  it('a benchmark that never returns: no Vitest timeout ends it (even with --testTimeout), SIGTERM does; named in index.json', async () => {
    const r = await interrupt('endless', 'SIGTERM', ['--testTimeout', '500'], (out) => phaseOf(out, 'endless.bench--endless--never-returns') === 'measured', async (pid) => {
      // Well past --testTimeout: Vitest 4 times out tests and hooks, never benchmarks.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(alive(pid)).toBe(true);
    });
    expect(r.code).toBe(143);
    const index = readIndex(r.out);
    expect(index.complete).toBe(false);
    expect(index.interrupted).toBe('SIGTERM');
    expect(index.benchmarks.map((b) => [b.fullName, b.status])).toEqual([['endless > quick one first', 'passed']]);
    expect(readProfile(path.join(r.out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
    expect(index.missing).toEqual([{ file: 'extra/faults/endless.bench.ts', fullName: 'endless > never returns', reason: 'interrupted by SIGTERM in its measured pass, before it was profiled' }]);
    expect(r.stdout).toContain('no profile: endless > never returns');
    // The worker spinning in the benchmark cannot read Vitest's close message: it was signalled.
    await waitFor(() => !r.workers.some(alive), 5000, 'the workers to exit');
  }, 60_000);
});

describe('workers that die', () => {
  it('process.exit in a benchmark: Vitest fails it, its partial profile is kept and marked failed', () => {
    const out = tmpOut('perf.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out], { env: { FIXTURE_FAULTS: 'crash' } });
    expect(r.status).toBe(1);
    const index = readIndex(out);
    expect(index.complete).toBe(false);
    const [first, crashed] = index.benchmarks;
    expect([first.fullName, first.status]).toEqual(['crash > finishes first', 'passed']);
    expect([crashed.fullName, crashed.status]).toEqual(['crash > exits the worker', 'failed']);
    expect(crashed.error).toMatch(/process\.exit unexpectedly called with "3"/);
    for (const b of index.benchmarks) expect(readProfile(path.join(out, b.profile)).samples.length).toBeGreaterThan(0);
  });

  it('a worker killed outright (SIGKILL): index.json names the benchmark that left no profile', () => {
    const out = tmpOut('perf.out');
    const r = run([CLI, 'bench', '--run', '--perfprofile', out], { env: { FIXTURE_FAULTS: 'kill' } });
    expect(r.status).not.toBe(0);
    const index = readIndex(out);
    expect(index.complete).toBe(false);
    expect(index.benchmarks.map((b) => [b.fullName, b.status])).toEqual([['kill > finishes first', 'passed']]);
    expect(readProfile(path.join(out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
    expect(index.missing).toEqual([{ file: 'extra/faults/kill.bench.ts', fullName: 'kill > kills the worker', reason: expect.stringMatching(/^no profile was written: /) }]);
    expect(r.stdout).toMatch(/no profile: kill > kills the worker/);
  });
});

describe('an output directory that cannot be written', () => {
  it('fails before any benchmark runs, with one line and exit 2, and leaves the file in the way alone', () => {
    const blocker = tmpOut('a-file');
    writeFileSync(blocker, 'not a directory\n');
    const r = run([CLI, 'bench', '--run', '--perfprofile', path.join(blocker, 'perf.out')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^vitest-perf: output directory .*a-file\/perf\.out is not writable \(ENOTDIR\)/)]);
    expect(r.stdout).not.toMatch(/BENCH|hashRounds|bubbleSort/);
    expect(readFileSync(blocker, 'utf8')).toBe('not a directory\n');
  });

  it('a path under /proc (root can write anywhere else): one line and exit 2, where Node\'s recursive mkdir would spin forever', () => {
    const r = run([CLI, 'bench', '--run', '--perfprofile', '/proc/perfprofile/perf.out']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['vitest-perf: output directory /proc/perfprofile/perf.out is not writable (ENOENT) (pass a writable directory to --perfprofile)']);
    expect(r.stdout).not.toMatch(/BENCH|hashRounds|bubbleSort/);
  });
});
