/**
 * What a person reads: `vitest-perf bench` on fixtures/vitest4/extra/output, piped (a plain log)
 * and under a pseudo-terminal (util-linux `script`) without Vitest's summary window (CI set).
 * In both, Vitest prints a table while a benchmark is being profiled (the fixture holds that
 * table back until then): no line of ours may land among Vitest's, the harness notice is one
 * line, and colours follow picocolors (NO_COLOR, FORCE_COLOR, a terminal).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childEnv, CLI, FIXTURE, readIndex, run, tmpOut } from './helpers.js';
import { replay } from './screen.js';

const COLOR = /\x1b\[[0-9;]*m/;
/** Vitest runs benchmark files one at a time unless told otherwise; the fixture's two files must overlap. */
const PARALLEL = ['--fileParallelism', '--maxWorkers=2'];
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** The fixture's environment: NO_COLOR and CI as the test says, the table held back until `out`'s long benchmark is profiled. */
function fixtureEnv(out: string, extra: Record<string, string>): Record<string, string> {
  return { FIXTURE_OUTPUT: '1', FIXTURE_SYNC_OUT: out, NO_COLOR: '', CI: '', ...extra };
}

/** `vitest-perf bench` under a pseudo-terminal of 160×50; stdout and stderr as the terminal got them. */
function underPty(args: string[], env: Record<string, string>): { status: number | null; output: string } {
  const command = `stty cols 160 rows 50; ${[process.execPath, CLI, 'bench', '--run', ...args].map((a) => JSON.stringify(a)).join(' ')}`;
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], {
    cwd: FIXTURE,
    env: childEnv(env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.error, 'util-linux `script` runs the command under a pseudo-terminal').toBeUndefined();
  return { status: r.status, output: r.stdout };
}

/** Index of the first of `lines` that starts the summary (` perfprofile event=...`). */
function summaryStart(lines: readonly string[]): number {
  return lines.findIndex((l) => plain(l).startsWith(' perfprofile event='));
}

/** The harness notice agrees with index.json: one line, counting the benchmarks at ≥25%. */
function checkHarnessLine(lines: readonly string[], out: string): void {
  const index = readIndex(out);
  const high = index.benchmarks.filter((b) => b.harnessPct >= 25).length;
  // The fixture's premise: its tiny benchmarks are mostly harness, its bubble sort is not.
  expect(high).toBeGreaterThanOrEqual(2);
  expect(high).toBeLessThan(index.benchmarks.length);
  // One line, and none per benchmark (rows whose top function is `(harness)` aside).
  const notices = lines.map(plain).filter((l) => l.startsWith('harness') || l.includes('samples in the harness'));
  expect(notices).toEqual([
    expect.stringMatching(
      new RegExp(
        `^harness: ${high} of ${index.benchmarks.length} benchmarks spent ≥25% of their samples in Vitest/tinybench code: `,
      ),
    ),
  ]);
}

describe('on a plain log (stdout piped)', () => {
  it('prints nothing of its own until Vitest has finished, then the summary without colours; the harness notice is one line', () => {
    const out = tmpOut('perf.out');
    const r = run([CLI, 'bench', '--run', ...PARALLEL, '--perfprofile', out], { env: fixtureEnv(out, {}) });
    expect(r.status, r.stderr).toBe(0);
    expect(readIndex(out).complete).toBe(true);
    const lines = r.stdout.split('\n');
    const start = summaryStart(lines);
    expect(start).toBeGreaterThan(0);
    // Vitest's tables (its own colours: Vitest colours a pipe too), all before anything of ours.
    const tables = lines.map(plain).flatMap((l, i) => (/^ ✓ extra\/output\//.test(l) ? [i] : []));
    expect(tables).toHaveLength(3);
    expect(Math.max(...tables)).toBeLessThan(start);
    expect(lines.slice(0, start).filter((l) => l.includes('perfprofile'))).toEqual([]);
    // Ours: no colour in a pipe (picocolors: no terminal, no NO_COLOR needed).
    expect(lines.slice(start).join('\n')).not.toMatch(COLOR);
    checkHarnessLine(lines.slice(start), out);
  });

  it('colours the summary with FORCE_COLOR, and nothing at all with NO_COLOR', () => {
    const forced = tmpOut('perf.out');
    const f = run([CLI, 'bench', '--run', '--perfprofile', forced, '-t', 'noop'], {
      env: { FIXTURE_OUTPUT: '1', NO_COLOR: '', CI: '', FORCE_COLOR: '1' },
    });
    expect(f.status, f.stderr).toBe(0);
    const lines = f.stdout.split('\n');
    expect(lines[summaryStart(lines)]).toMatch(COLOR);
    const none = tmpOut('perf.out');
    const n = run([CLI, 'bench', '--run', '--perfprofile', none, '-t', 'noop'], {
      env: { FIXTURE_OUTPUT: '1', NO_COLOR: '1', CI: '' },
    });
    expect(n.status, n.stderr).toBe(0);
    expect(n.stdout).toContain(' perfprofile event=');
    expect(n.stdout + n.stderr).not.toMatch(COLOR);
  });
});

describe("on a terminal without Vitest's summary window (CI set)", () => {
  it("keeps one transient live line below Vitest's output: a table printed while it shows is whole on screen, and the line is gone at the end", () => {
    const out = tmpOut('perf.out');
    const r = underPty([...PARALLEL, '--perfprofile', out], fixtureEnv(out, { CI: '1' }));
    expect(r.status, r.output).toBe(0);
    expect(readIndex(out).complete).toBe(true);
    // The held-back table was printed while the live line was on screen: drawn before it, erased, drawn again after it.
    const table = r.output.indexOf('tiny again');
    const live = [...r.output.matchAll(/perfprofile: profiling long > bubble 300: \d+ samples so far/g)].map(
      (m) => m.index!,
    );
    expect(table).toBeGreaterThan(0);
    expect(live.some((i) => i < table)).toBe(true);
    expect(live.some((i) => i > table)).toBe(true);
    const screen = replay(r.output);
    expect(
      screen.filter((l) => l.includes('samples so far')),
      screen.join('\n'),
    ).toEqual([]);
    // Each of Vitest's tables is whole: its title, header and rows on consecutive lines.
    const title = screen.findIndex((l) => l.startsWith(' ✓ extra/output/tiny.bench.ts > tiny again'));
    expect(screen.slice(title + 1, title + 3).map((l) => l.trim().split(/\s+/)[1])).toEqual(['hz', 'string']);
    const start = summaryStart(screen);
    expect(screen.slice(0, start).filter((l) => l.includes('perfprofile'))).toEqual([]);
    // Colours on a terminal.
    expect(r.output.split('\n').find((l) => plain(l).startsWith(' perfprofile event='))).toMatch(COLOR);
    checkHarnessLine(screen.slice(start), out);
  });

  it('NO_COLOR: no colour at all', () => {
    const out = tmpOut('perf.out');
    const r = underPty(['--perfprofile', out, '-t', 'noop'], { FIXTURE_OUTPUT: '1', NO_COLOR: '1', CI: '1' });
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(' perfprofile event=');
    expect(r.output).not.toMatch(COLOR);
  });
});
