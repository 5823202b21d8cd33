/**
 * V8's code log on the command lines perfprofile controls (src/v8log.ts), end to end on
 * fixtures/vitest4: which processes get the flags in each setup, that a worker's log is there
 * while it runs, and that the run's log directory is gone at the end, also after SIGINT. Each
 * run gets a TMPDIR of its own, watched while it runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { needs } from '../../../scripts/tools.mjs';
import { childEnv, CLI, FIXTURE, pprof, readIndex, run, tmpOut, topRows, VITEST_BIN } from './helpers.js';

interface Watched {
  code: number | null;
  stderr: string;
  /** The pid of the process started. */
  pid: number;
  /** Every `perfprofile-v8log-*` log file seen under TMPDIR while it ran, with its largest size. */
  logs: Map<string, number>;
  /** What is left under TMPDIR of ours once it exited. */
  left: string[];
}

function ourDirs(tmp: string): string[] {
  return readdirSync(tmp).filter((n) => n.startsWith('perfprofile-v8log-'));
}

/** Runs `args` with node in the fixture, TMPDIR a new directory, noting the logs there every 50 ms; `signal` is sent once `when(logs)` holds. */
function watch(
  args: string[],
  env: Record<string, string>,
  signal?: { sig: NodeJS.Signals; when: (w: Watched) => boolean },
): Promise<Watched> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'v8log-tmp-'));
  const child = spawn(process.execPath, args, {
    cwd: FIXTURE,
    env: childEnv({ ...env, TMPDIR: tmp }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const w: Watched = { code: null, stderr: '', pid: child.pid!, logs: new Map(), left: [] };
  child.stderr.on('data', (d) => (w.stderr += d));
  let sent = false;
  const timer = setInterval(() => {
    for (const dir of ourDirs(tmp)) {
      let names: string[];
      try {
        names = readdirSync(path.join(tmp, dir));
      } catch {
        continue; // removed meanwhile
      }
      for (const name of names) {
        try {
          const size = statSync(path.join(tmp, dir, name)).size;
          w.logs.set(path.join(dir, name), Math.max(size, w.logs.get(path.join(dir, name)) ?? 0));
        } catch {
          // removed meanwhile
        }
      }
    }
    if (signal && !sent && signal.when(w)) {
      sent = true;
      child.kill(signal.sig);
    }
  }, 50);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearInterval(timer);
      w.code = code;
      w.left = ourDirs(tmp);
      resolve(w);
    });
  });
}

/** The pids whose isolates wrote the logs seen (`isolate-<address>-<pid>-v8.log`). */
function loggingPids(w: Watched): number[] {
  return [
    ...new Set(
      [...w.logs.keys()].map((f) => Number(/isolate-0x[0-9a-f]+-(\d+)-v8\.log$/.exec(f)?.[1])).filter(Boolean),
    ),
  ];
}

const bench = (out: string, config = 'event=auto') => [
  CLI,
  'bench',
  '--run',
  '--perfprofile',
  out,
  '--perfprofileconfig',
  config,
];

describe('V8 code log: who gets the flags', () => {
  it('vitest-perf, forks pool: each worker logs (its own process), the main process does not; the directory is removed', async () => {
    const out = tmpOut('perf.out');
    const w = await watch(bench(out), { FIXTURE_INLINE: '1' });
    expect(w.code, w.stderr).toBe(0);
    const pids = loggingPids(w);
    expect(pids.length).toBeGreaterThan(0);
    expect(pids).not.toContain(w.pid);
    // A forks worker's log holds the code it compiled once it tracked code (no script source):
    // hundreds of KB, where the header alone is under 10 KB.
    expect(Math.max(...w.logs.values())).toBeGreaterThan(100_000);
    expect(w.left).toEqual([]);
    expect(readIndex(out).complete).toBe(true);
  });

  it('vitest-perf, threads pool: restarted under the flags, the main isolate and the worker threads log in one process; removed at the end', async () => {
    const out = tmpOut('perf.out');
    const w = await watch(bench(out), { FIXTURE_INLINE: '1', FIXTURE_POOL: 'threads' });
    expect(w.code, w.stderr).toBe(0);
    const pids = loggingPids(w);
    // One process (the restarted one, not the one started), several isolates.
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(w.pid);
    expect(w.logs.size).toBeGreaterThanOrEqual(2);
    expect(w.left).toEqual([]);
    expect(readIndex(out).benchmarks).toHaveLength(3);
  });

  it("event=v8: no flags anywhere (V8's profiler silences the log), no restart for threads", async () => {
    for (const pool of ['forks', 'threads']) {
      const w = await watch(bench(tmpOut('perf.out'), 'event=v8'), { FIXTURE_INLINE: '1', FIXTURE_POOL: pool });
      expect(w.code, w.stderr).toBe(0);
      expect(w.logs.size, pool).toBe(0);
      expect(w.left).toEqual([]);
    }
  });

  it('vitest bench -- --perfprofile (plugin): forks workers log; threads cannot (no restart), nothing is left', async () => {
    const plugin = (out: string) => [
      VITEST_BIN,
      'bench',
      '--run',
      '--config',
      'vitest.plugin.config.ts',
      '--',
      '--perfprofile',
      out,
    ];
    const forks = await watch(plugin(tmpOut('perf.out')), { FIXTURE_INLINE: '1' });
    expect(forks.code, forks.stderr).toBe(0);
    expect(loggingPids(forks).length).toBeGreaterThan(0);
    expect(loggingPids(forks)).not.toContain(forks.pid);
    expect(forks.left).toEqual([]);
    const out = tmpOut('perf.out');
    const threads = await watch(plugin(out), { FIXTURE_INLINE: '1', FIXTURE_POOL: 'threads' });
    expect(threads.code, threads.stderr).toBe(0);
    expect(threads.logs.size).toBe(0);
    expect(readIndex(out).complete).toBe(true);
  });
});

describe('no code log: the plugin in a threads pool', () => {
  it(
    "names the inlined function from V8's line tables, marked inferred, at a line inside it; never another",
    needs('go'),
    () => {
      const out = tmpOut('perf.out');
      const r = run([VITEST_BIN, 'bench', '--run', '--config', 'vitest.plugin.config.ts', '--', '--perfprofile', out], {
        cwd: FIXTURE,
        env: { FIXTURE_INLINE: '1', FIXTURE_POOL: 'threads' },
      });
      expect(r.status, r.stderr).toBe(0);
      const index = readIndex(out);
      const source = readFileSync(path.join(FIXTURE, 'src', 'mix.ts'), 'utf8').split('\n');
      const first = source.findIndex((l) => l.startsWith('export function mixBytes')) + 1;
      const last = source.findIndex((l, i) => i >= first && l.startsWith('}')) + 1;
      for (const name of ['inline > fnv1a 4k', 'inline > named']) {
        const b = index.benchmarks.find((x) => x.fullName === name)!;
        const rows = topRows(pprof(path.join(out, b.profile), '-top', '-lines', '-nodecount=200'));
        // Every inferred frame is mixBytes, at a line of its body.
        const inferred = rows.filter((row) => row.includes('(inferred)'));
        for (const row of inferred) {
          const m = /^mixBytes \(inferred\) \S*src\/mix\.ts:(\d+)(?: \(inline\))?$/.exec(row);
          expect(m, `${name}: ${row}`).not.toBeNull();
          expect(Number(m![1]), row).toBeGreaterThanOrEqual(first);
          expect(Number(m![1]), row).toBeLessThan(last);
        }
        // Node 20 runs this in TurboFan code, whose line table names it: it is the top function
        // (or its own frame, where not inlined). Node 22 and 24 run much of it in Maglev code,
        // which has no line table on 24: part or all of its time stays on the callback.
        if (Number(process.versions.node.split('.')[0]) < 22)
          expect(rows[0], name).toMatch(/^mixBytes(?: \(inferred\))? \S*src\/mix\.ts:\d+(?: \(inline\))?$/);
      }
    },
  );
});

describe('V8 code log: interrupted runs', () => {
  it.each(['forks', 'threads'])(
    'SIGINT while profiled (%s pool): exit 130, index.json says so, the log directory is removed',
    async (pool) => {
      const out = tmpOut('perf.out');
      const profiling = () =>
        existsSync(path.join(out, '.records')) &&
        readdirSync(path.join(out, '.records')).some((f) => f.includes('runs-for-a-minute') && f.endsWith('.progress'));
      const w = await watch(
        bench(out, 'baseline=off'),
        { FIXTURE_FAULTS: 'long', FIXTURE_POOL: pool },
        { sig: 'SIGINT', when: (x) => x.logs.size > 0 && profiling() },
      );
      expect(w.code, w.stderr).toBe(130);
      expect(w.logs.size).toBeGreaterThan(0);
      const index = readIndex(out);
      expect(index.interrupted).toBe('SIGINT');
      expect(index.missing?.map((m) => m.fullName)).toEqual(['long > runs for a minute']);
      expect(w.left).toEqual([]);
    },
    90_000,
  );
});
