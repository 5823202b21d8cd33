/**
 * The README compatibility table, cell by cell, on the Node running this file: for each Vitest
 * major this Node can run, a profiled run with the native source (event=auto → task-clock) and
 * one with V8's sampler, and the off-Linux behavior (simulated: auto → v8 with a notice, native
 * events refused with "Linux only"). `.ci/run` runs this file on Node 20 (Vitest 4.1), and on
 * Node 22 and 24 (Vitest 4.1 and 5). On Node 20 + Vitest 4.1 the two Linux cells are e2e.test.ts's.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkRun, requireSupported, VITEST4, VITEST5 } from './compat.js';
import { CLI, readIndex, run, tmpOut } from './helpers.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

for (const P of [VITEST4, VITEST5]) {
  requireSupported(P);
  const linuxCells = !(P.major === 4 && NODE_MAJOR === 20);

  describe.skipIf(P.unsupported || !linuxCells)(`Node ${NODE_MAJOR} × Vitest ${P.major} on Linux`, () => {
    it.each([
      ['perf_event', 'event=auto'],
      ['v8', 'event=v8 rate=1000'],
    ])('source %s (%s)', (source, config) => {
      const out = tmpOut('perf.out');
      const r = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', config], { cwd: P.dir });
      expect(r.status, r.stderr).toBe(0);
      const index = readIndex(out);
      checkRun(P, out, index);
      expect(index.config.source).toBe(source);
    });
  });

  describe.skipIf(P.unsupported)(`Node ${NODE_MAJOR} × Vitest ${P.major} off Linux (simulated darwin)`, () => {
    const offLinux = { PERFPROFILE_SIMULATE_PLATFORM: 'darwin' };

    it('event=auto becomes v8 with a notice in the summary and index.json', () => {
      const out = tmpOut('perf.out');
      const r = run([CLI, 'bench', '--run', '--perfprofile', out], { cwd: P.dir, env: offLinux });
      expect(r.status, r.stderr).toBe(0);
      const index = readIndex(out);
      checkRun(P, out, index);
      expect(index.config.source).toBe('v8');
      const notice = "event=auto uses v8 (V8's sampler, wall clock): no native event here (Linux only)";
      expect(index.config.warnings).toContain(notice);
      expect(index.config.warnings).toContain('per-op counters need the native engine: Linux only');
      expect(r.stdout).toContain(`warning: ${notice}`);
      for (const b of index.benchmarks) expect(b.counters).toEqual({});
    });

    it.each(['task-clock', 'cycles', 'timer'])(
      'event=%s is refused with "Linux only" before anything runs',
      (event) => {
        const out = tmpOut('never.out');
        const r = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', `event=${event}`], {
          cwd: P.dir,
          env: offLinux,
        });
        expect(r.status).toBe(2);
        expect(r.stderr.trim()).toMatch(new RegExp(`^vitest-perf: event ${event} is unavailable: Linux only`));
        expect(r.stderr).toContain('use event=v8 off Linux');
        expect(r.stdout).not.toContain('bench');
        expect(existsSync(out)).toBe(false);
      },
    );
  });
}
