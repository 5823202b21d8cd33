/**
 * Live progress on a terminal: `vitest-perf bench` under a pseudo-terminal (util-linux
 * `script`), its output replayed on a small screen model. The live line must update while the
 * benchmark is profiled and leave nothing behind: Vitest's own summary window redraws the
 * bottom of the screen and re-prints whatever else is written above it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childEnv, CLI, FIXTURE, readIndex, tmpOut } from './helpers.js';

/** The screen after `output`: text, \r, \n, erase to end of line, cursor up; other escapes ignored. */
export function replay(output: string): string[] {
  const screen: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = screen[row].padEnd(col);
    screen[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < output.length; i++) {
    const ch = output[i];
    if (ch === '\x1b') {
      const csi = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(output.slice(i));
      if (!csi) continue;
      i += csi[0].length - 1;
      if (csi[2] === 'K') screen[row] = screen[row].slice(0, col);
      else if (csi[2] === 'A') row = Math.max(0, row - Number(csi[1] || 1));
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      while (screen.length <= row) screen.push('');
    } else put(ch);
  }
  return screen.map((l) => l.trimEnd());
}

describe('live progress on a terminal', () => {
  it('updates one line in Vitest\'s summary window while a benchmark is profiled, and leaves no copy behind', () => {
    const out = tmpOut('perf.out');
    // The pseudo-terminal gets a size (else it is 0×0 and Vitest's window cannot measure
    // itself); CI unset: Vitest shows its summary window only on a terminal outside CI.
    const command = `stty cols 160 rows 50; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} bench --run --perfprofile ${JSON.stringify(out)} --perfprofileconfig baseline=off`;
    const r = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: FIXTURE, env: childEnv({ FIXTURE_FAULTS: 'slow', CI: '' }), encoding: 'utf8', timeout: 120_000 });
    expect(r.error, 'util-linux `script` runs the command under a pseudo-terminal').toBeUndefined();
    expect(r.status, r.stdout).toBe(0);
    expect(readIndex(out).complete).toBe(true);
    // While profiled: the count rose through several updates (every 250 ms over two seconds).
    const counts = [...r.stdout.matchAll(/perfprofile: profiling slow > two seconds: (\d+) samples so far/g)].map((m) => Number(m[1]));
    expect(new Set(counts).size).toBeGreaterThanOrEqual(3);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // Afterwards: no live line left on screen, one line for the written profile, then the table.
    const screen = replay(r.stdout);
    expect(screen.filter((l) => l.includes('samples so far')), screen.join('\n')).toEqual([]);
    expect(screen.filter((l) => l.startsWith('perfprofile: slow > two seconds: '))).toEqual([expect.stringMatching(/^perfprofile: slow > two seconds: \d+ samples in \d\.\d\d s$/)]);
    expect(screen.some((l) => l.startsWith('slow > two seconds '))).toBe(true);
  });

  it('the screen model erases, rewrites and moves up as a terminal does', () => {
    expect(replay('abc\rX\n12345\x1b[1A\r\x1b[Kq\n\n\x1b[?2026hz')).toEqual(['q', '12345', 'z']);
  });
});
