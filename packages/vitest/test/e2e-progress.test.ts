/**
 * Live progress on a terminal: `vitest-perf bench` under a pseudo-terminal (util-linux
 * `script`), its output replayed on a small screen model. The live line must update while the
 * benchmark is profiled and leave nothing behind: Vitest's own summary window redraws the
 * bottom of the screen and re-prints whatever else is written above it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childEnv, CLI, FIXTURE, readIndex, tmpOut } from './helpers.js';
import { replay } from './screen.js';

describe('live progress on a terminal', () => {
  it("updates one line in Vitest's summary window while a benchmark is profiled, and leaves no copy behind", () => {
    const out = tmpOut('perf.out');
    // The pseudo-terminal gets a size (else it is 0×0 and Vitest's window cannot measure
    // itself); CI unset: Vitest shows its summary window only on a terminal outside CI.
    const command = `stty cols 160 rows 50; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} bench --run --perfprofile ${JSON.stringify(out)} --perfprofileconfig baseline=off`;
    const r = spawnSync('script', ['-qfec', command, '/dev/null'], {
      cwd: FIXTURE,
      env: childEnv({ FIXTURE_FAULTS: 'slow', CI: '' }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.error, 'util-linux `script` runs the command under a pseudo-terminal').toBeUndefined();
    expect(r.status, r.stdout).toBe(0);
    expect(readIndex(out).complete).toBe(true);
    // While profiled: the count rose through several updates (every 250 ms over two seconds).
    const counts = [...r.stdout.matchAll(/perfprofile: profiling slow > two seconds: (\d+) samples so far/g)].map((m) =>
      Number(m[1]),
    );
    expect(new Set(counts).size).toBeGreaterThanOrEqual(3);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // Afterwards: nothing of the live line left on screen, no line of ours before the summary, then the table.
    const screen = replay(r.stdout);
    expect(
      screen.filter((l) => l.includes('samples so far')),
      screen.join('\n'),
    ).toEqual([]);
    const summary = screen.findIndex((l) => l.startsWith(' perfprofile event='));
    expect(summary).toBeGreaterThan(0);
    expect(screen.slice(0, summary).filter((l) => l.includes('perfprofile'))).toEqual([]);
    expect(screen.slice(summary).some((l) => l.startsWith('slow > two seconds '))).toBe(true);
  });

  it('the screen model erases, rewrites and moves up as a terminal does', () => {
    expect(replay('abc\rX\n12345\x1b[1A\r\x1b[Kq\n\n\x1b[?2026hz')).toEqual(['q', '12345', 'z']);
  });
});
