/**
 * Faults during `vitest-perf bench` (fixtures/vitest4/extra/faults, one file per fault): the run is
 * interrupted by SIGINT or SIGTERM, a worker exits or is killed, the output directory cannot
 * be written. Each time: finished profiles stay valid, index.json is valid JSON with
 * `complete: false` saying what did not finish and why, no worker is left running (so no
 * sampler either), and the exit code is non-zero.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchId } from '../src/slug.js';
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

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

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
async function interrupt(
  fixture: string,
  sig: NodeJS.Signals,
  args: string[],
  ready: (out: string) => boolean,
  before?: (pid: number) => Promise<void>,
) {
  const out = tmpOut('perf.out');
  const child = spawn(process.execPath, [CLI, 'bench', '--run', '--perfprofile', out, ...args], {
    cwd: FIXTURE,
    env: childEnv({ FIXTURE_FAULTS: fixture }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

const records = (out: string) =>
  existsSync(path.join(out, '.records')) ? readdirSync(path.join(out, '.records')) : [];

describe('interrupted runs', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s while a benchmark is profiled: finished profiles kept, the cut one named with its samples, workers gone, exit %i',
    async (sig, exitCode) => {
      // baseline=off: the minute-long measured pass is the profiled one.
      const r = await interrupt('long', sig, ['--perfprofileconfig', 'baseline=off'], (out) =>
        records(out).some((f) => f.includes('runs-for-a-minute') && f.endsWith('.progress')),
      );
      expect(r.code).toBe(exitCode);
      const index = readIndex(r.out);
      expect(index.complete).toBe(false);
      expect(index.interrupted).toBe(sig);
      expect(index.benchmarks.map((b) => [b.fullName, b.status])).toEqual([['long > quick one first', 'passed']]);
      expect(readProfile(path.join(r.out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
      expect(index.missing).toEqual([
        {
          file: 'extra/faults/long.bench.ts',
          fullName: 'long > runs for a minute',
          reason: expect.stringMatching(
            new RegExp(`^interrupted by ${sig} while profiled \\(\\d+ samples taken, profile not written\\)$`),
          ),
        },
      ]);
      expect(r.stdout).toContain(`interrupted by ${sig}`);
      // The worker sampling inside the loop is gone, so is its sampler; nothing else is left behind.
      await waitFor(() => !r.workers.some(alive), 5000, 'the workers to exit');
      expect(records(r.out)).toEqual([]);
    },
    60_000,
  );

  it('SIGTERM during the unprofiled measured pass: index.json names the benchmark and its pass, exit 143', async () => {
    const r = await interrupt(
      'long',
      'SIGTERM',
      [],
      (out) => phaseOf(out, 'long.bench--long--runs-for-a-minute') === 'measured',
    );
    expect(r.code).toBe(143);
    const index = readIndex(r.out);
    expect(index.complete).toBe(false);
    expect(index.interrupted).toBe('SIGTERM');
    expect(index.benchmarks.map((b) => b.fullName)).toEqual(['long > quick one first']);
    expect(readProfile(path.join(r.out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
    expect(index.missing).toEqual([
      {
        file: 'extra/faults/long.bench.ts',
        fullName: 'long > runs for a minute',
        reason: 'interrupted by SIGTERM in its measured pass, before it was profiled',
      },
    ]);
    await waitFor(() => !r.workers.some(alive), 5000, 'the workers to exit');
  }, 60_000);

  it('a benchmark that never returns: no Vitest timeout ends it (even with --testTimeout), SIGTERM does; named in index.json', async () => {
    const r = await interrupt(
      'endless',
      'SIGTERM',
      ['--testTimeout', '500'],
      (out) => phaseOf(out, 'endless.bench--endless--never-returns') === 'measured',
      async (pid) => {
        // Well past --testTimeout: Vitest 4 times out tests and hooks, never benchmarks.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        expect(alive(pid)).toBe(true);
      },
    );
    expect(r.code).toBe(143);
    const index = readIndex(r.out);
    expect(index.complete).toBe(false);
    expect(index.interrupted).toBe('SIGTERM');
    expect(index.benchmarks.map((b) => [b.fullName, b.status])).toEqual([['endless > quick one first', 'passed']]);
    expect(readProfile(path.join(r.out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
    expect(index.missing).toEqual([
      {
        file: 'extra/faults/endless.bench.ts',
        fullName: 'endless > never returns',
        reason: 'interrupted by SIGTERM in its measured pass, before it was profiled',
      },
    ]);
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
    expect(index.missing).toEqual([
      {
        file: 'extra/faults/kill.bench.ts',
        fullName: 'kill > kills the worker',
        reason: expect.stringMatching(/^no profile was written: /),
      },
    ]);
    expect(r.stdout).toMatch(/no profile: kill > kills the worker/);
  });
});

describe('an output directory that cannot be written', () => {
  it('fails before any benchmark runs, with one line and exit 2, and leaves the file in the way alone', () => {
    const blocker = tmpOut('a-file');
    writeFileSync(blocker, 'not a directory\n');
    const r = run([CLI, 'bench', '--run', '--perfprofile', path.join(blocker, 'perf.out')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^vitest-perf: output directory .*a-file\/perf\.out is not writable \(ENOTDIR\)/),
    ]);
    expect(r.stdout).not.toMatch(/BENCH|hashRounds|bubbleSort/);
    expect(readFileSync(blocker, 'utf8')).toBe('not a directory\n');
  });

  it("a path under /proc (root can write anywhere else): one line and exit 2, where Node's recursive mkdir would spin forever", () => {
    const r = run([CLI, 'bench', '--run', '--perfprofile', '/proc/perfprofile/perf.out']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'vitest-perf: output directory /proc/perfprofile/perf.out is not writable (ENOENT) (pass a writable directory to --perfprofile)',
    ]);
    expect(r.stdout).not.toMatch(/BENCH|hashRounds|bubbleSort/);
  });
});

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

/** Runs the full fixture with a hard timeout well below the test's; `ms` is how long it took. */
function runTimed(out: string, args: string[] = []) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, 'bench', '--run', '--perfprofile', out, ...args], {
    cwd: FIXTURE,
    env: childEnv({ FIXTURE_FAULTS: 'full' }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

const NO_SPACE = /no space left on \S+perf\.out \(ENOSPC\): free space or pass another --perfprofile directory/;

describe('a full disk', () => {
  // A 64 KiB tmpfs of our own (mounting needs root; CI runs as root). Mounted while the file is
  // collected, so the tests can be skipped with the reason when it cannot be.
  const mount = mkdtempSync(path.join(os.tmpdir(), 'vitest-perf-tinyfs-'));
  const why = (() => {
    if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `mount -t tmpfs failed: ${(r.error?.message ?? r.stderr).trim()}`;
    return undefined;
  })();
  const skip = (name: string) => (why ? `${name} (skipped: ${why})` : name);
  afterAll(() => {
    if (!why) spawnSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  /** Empties the tmpfs and fills it so that `free` bytes are left; returns the output directory. */
  function fill(free: number): string {
    for (const f of readdirSync(mount)) rmSync(path.join(mount, f), { recursive: true, force: true });
    const out = path.join(mount, 'perf.out');
    mkdirSync(out);
    const fs = statfsSync(mount);
    writeFileSync(path.join(mount, 'filler'), Buffer.alloc(fs.bavail * fs.bsize - free));
    return out;
  }

  it.skipIf(why !== undefined)(
    skip(
      'room for the first benchmark only: no hang, exit 1, its profile valid, the failure named in index.json and one stderr line, no temp files',
    ),
    () => {
      // 12 KiB: the first benchmark's marker, profile and record fit; the second's marker does not.
      const out = fill(12 * 1024);
      const r = runTimed(out);
      // A worker waiting forever for the failed benchmark would be killed by runTimed's timeout.
      expect(r.signal).toBeNull();
      expect(r.ms).toBeLessThan(30_000);
      expect(r.status).toBe(1);
      const files = filesUnder(mount);
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(files.filter((f) => f.includes('.records'))).toEqual([]);
      const profiles = files.filter((f) => f.endsWith('.pb.gz') && !f.endsWith('merged.pb.gz'));
      expect(profiles).toContain(`perf.out/${benchId('extra/faults/full.bench.ts', ['full', 'first fits'])}.pb.gz`);
      for (const p of profiles) expect(readProfile(path.join(mount, p)).samples.length).toBeGreaterThan(0);
      const stderrLines = r.stderr.split('\n').filter((l) => l.startsWith('perfprofile:'));
      expect(stderrLines).toHaveLength(1);
      if (existsSync(path.join(out, 'index.json'))) {
        const index = readIndex(out);
        expect(index.complete).toBe(false);
        expect(index.benchmarks.map((b) => [b.fullName, b.status])).toEqual([['full > first fits', 'passed']]);
        expect(index.missing.map((m) => m.fullName)).toEqual(['full > second', 'full > third']);
        expect(index.missing[0].reason).toMatch(new RegExp(`^profile not written: ${NO_SPACE.source}$`));
        expect(index.missing[1].reason).toMatch(
          new RegExp(`^not profiled after an earlier write failed: ${NO_SPACE.source}$`),
        );
        expect(stderrLines[0]).toMatch(
          new RegExp(
            `^perfprofile: ${NO_SPACE.source} \\(2 benchmarks not profiled; index.json lists them under "missing"\\)$`,
          ),
        );
      } else {
        expect(stderrLines[0]).toMatch(new RegExp(`^perfprofile: could not write index.json: ${NO_SPACE.source}`));
      }
      // Vitest's report names the benchmark whose write failed.
      expect(r.stderr).toMatch(
        new RegExp(
          `PerfprofileWriteError: perfprofile: could not write the \\w[\\w ]* of "full > second": ${NO_SPACE.source}`,
        ),
      );
      expect(r.stdout).toMatch(/no profile: full > second/);
      // The summary's hint names a profile go tool pprof reads, never index.json.
      expect(r.stdout).not.toMatch(/go tool pprof -top \S*index\.json/);
    },
    90_000,
  );

  it.skipIf(why !== undefined)(
    skip('no room at all: nothing profiled, no index.json, one stderr line saying so and why, exit 1, no temp files'),
    () => {
      const out = fill(0);
      const r = runTimed(out);
      expect(r.signal).toBeNull();
      expect(r.ms).toBeLessThan(30_000);
      expect(r.status).toBe(1);
      expect(filesUnder(mount)).toEqual(['filler']);
      const stderrLines = r.stderr.split('\n').filter((l) => l.startsWith('perfprofile:'));
      expect(stderrLines).toEqual([
        expect.stringMatching(
          new RegExp(
            `^perfprofile: could not write index.json: ${NO_SPACE.source} \\(3 benchmarks left no profile\\)$`,
          ),
        ),
      ]);
    },
    90_000,
  );
});

describe('a write that fails while the sampler runs', () => {
  it('a directory in the way of the second profile (written after its profiled pass): that benchmark failed and named, the third not profiled, no hang, exit 1', () => {
    const out = tmpOut('perf.out');
    // rename() cannot replace a non-empty directory: the profile write fails after the profiled pass.
    const second = path.join(out, `${benchId('extra/faults/full.bench.ts', ['full', 'second'])}.pb.gz`);
    mkdirSync(second, { recursive: true });
    writeFileSync(path.join(second, 'keep'), 'x');
    const r = runTimed(out);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    const index = readIndex(out);
    expect(index.complete).toBe(false);
    expect(index.benchmarks.map((b) => [b.fullName, b.status])).toEqual([['full > first fits', 'passed']]);
    expect(readProfile(path.join(out, index.benchmarks[0].profile)).samples.length).toBeGreaterThan(0);
    expect(index.missing).toEqual([
      {
        file: 'extra/faults/full.bench.ts',
        fullName: 'full > second',
        reason: expect.stringMatching(
          /^profile not written: cannot write to \S+perf\.out \(EISDIR\): pass another --perfprofile directory$/,
        ),
      },
      {
        file: 'extra/faults/full.bench.ts',
        fullName: 'full > third',
        reason: expect.stringMatching(/^not profiled after an earlier write failed: /),
      },
    ]);
    expect(r.stderr).toMatch(
      /PerfprofileWriteError: perfprofile: could not write the profile of "full > second": cannot write to /,
    );
    // The summary lists what was profiled; the third ran unprofiled and is named as such.
    expect(r.stdout).toMatch(/^full > first fits +\d+ /m);
    expect(r.stdout).not.toMatch(/^full > third /m);
    expect(r.stdout).toMatch(
      /^no profile: full > third \(extra\/faults\/full\.bench\.ts\): not profiled after an earlier write failed: /m,
    );
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(path.join(second, 'keep'), 'utf8')).toBe('x');
  }, 90_000);
});
