/**
 * Inlined functions and frame names, end to end on both Vitest majors (fixtures/vitest4 and
 * vitest5 with FIXTURE_INLINE=1: callbacks that only call a small src/ function TurboFan inlines
 * into them). With the native source and V8's code log (forks: the plugin's execArgv; threads:
 * vitest-perf restarted under the flags) the inlined function is the top function at its .ts
 * line, the callback keeps almost no self time, and go tool pprof marks the function `(inline)`.
 * Names: the anonymous callback is `bench: <name>` (V8's name kept as system name), a named one
 * keeps its name, Vite's export getters are `(vite export) <name>`. `.ci/run` runs this file on
 * Node 20 (Vitest 4.1) and, through scripts/compat.mjs, on Node 22 and 24 (4.1 and 5).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../../../scripts/tools.mjs';
import type { IndexFile } from '../src/output.js';
import { lineIn, requireSupported, VITEST4, VITEST5, type FixtureProject } from './compat.js';
import { CLI, pprof, readIndex, readProfile, run, tmpOut, topRows, type RunResult } from './helpers.js';

const BENCHMARKS = ['inline > fnv1a 4k', 'inline > named', 'inline > steps'];

/** flat% of `fn`'s row in `go tool pprof -top` output (0 when it has no row). */
function flatPct(top: string, fn: string): number {
  for (const line of top.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (
      cols.length >= 6 &&
      cols
        .slice(5)
        .join(' ')
        .replace(/ \(inline\)$/, '') === fn
    )
      return Number(cols[1].replace('%', ''));
  }
  return 0;
}

/** The profile file of benchmark `fullName`. */
function profileOf(out: string, index: IndexFile, fullName: string): string {
  const b = index.benchmarks.find((x) => x.fullName === fullName);
  if (!b) throw new Error(`${fullName} not in index.json (${index.benchmarks.map((x) => x.fullName).join(', ')})`);
  return path.join(out, b.profile);
}

function profiledRun(
  P: FixtureProject,
  env: Record<string, string>,
  config = 'event=auto',
): { out: string; result: RunResult } {
  const out = tmpOut('perf.out');
  const result = run([CLI, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', config], {
    cwd: P.dir,
    env: { FIXTURE_INLINE: '1', ...env },
  });
  return { out, result };
}

for (const P of [VITEST4, VITEST5]) {
  requireSupported(P);
  const mixLine = P.unsupported ? 0 : lineIn(P, 'src/mix.ts', 'export function mixBytes');

  for (const pool of ['forks', 'threads'] as const) {
    describe.skipIf(P.unsupported)(`Vitest ${P.major}, ${pool} pool, native source: inlined functions`, () => {
      let out: string;
      let index: IndexFile;
      beforeAll(() => {
        const r = profiledRun(P, { FIXTURE_POOL: pool });
        expect(r.result.status, r.result.stderr).toBe(0);
        out = r.out;
        index = readIndex(out);
        expect(index.complete).toBe(true);
        expect(index.config.source).not.toBe('v8');
        expect(index.benchmarks.map((b) => b.fullName).sort()).toEqual(BENCHMARKS);
      });

      it(
        'the inlined function is the top function, at a line of its own in its .ts file; index.json agrees',
        needs('go'),
        () => {
          for (const name of ['inline > fnv1a 4k', 'inline > named']) {
            const file = profileOf(out, index, name);
            expect(topRows(pprof(file, '-top'))[0], name).toMatch(/^mixBytes( \(inline\))?$/);
            const [fn, at] = topRows(pprof(file, '-top', '-lines'))[0].split(' ');
            expect(fn, name).toBe('mixBytes');
            const m = /^src\/mix\.ts:(\d+)$/.exec(at);
            expect(m, `${name}: ${at}`).not.toBeNull();
            // The sampled line: the declaration or its loop, never the callback's file.
            expect(Number(m![1])).toBeGreaterThanOrEqual(mixLine);
            expect(Number(m![1])).toBeLessThanOrEqual(mixLine + 3);
            expect(index.benchmarks.find((b) => b.fullName === name)!.top[0].function).toBe('mixBytes');
          }
        },
      );

      it(
        'a callback that only calls holds under 2% self; go tool pprof -traces marks the function (inline) inside it',
        needs('go'),
        () => {
          const file = profileOf(out, index, 'inline > fnv1a 4k');
          expect(flatPct(pprof(file, '-top'), 'bench: fnv1a 4k')).toBeLessThan(2);
          const traces = pprof(file, '-traces')
            .split('\n')
            .map((l) => l.trim());
          const at = traces.findIndex(
            (l, i) => /(^|\s)mixBytes \(inline\)$/.test(l) && traces[i + 1] === 'bench: fnv1a 4k',
          );
          expect(at, traces.join('\n')).toBeGreaterThanOrEqual(0);
          const named = pprof(profileOf(out, index, 'inline > named'), '-traces')
            .split('\n')
            .map((l) => l.trim());
          expect(named.some((l, i) => /(^|\s)mixBytes \(inline\)$/.test(l) && named[i + 1] === 'mixNamed')).toBe(true);
        },
      );
    });
  }

  describe.skipIf(P.unsupported)(`Vitest ${P.major}: frame names`, () => {
    // The native source and V8's sampler name frames the same way (event=v8 frames carry no column).
    for (const config of ['event=auto', 'event=v8 rate=2000']) {
      it(`the callback is named after its benchmark, a named function keeps its name, export getters say so (${config})`, () => {
        const { out, result } = profiledRun(P, {}, config);
        expect(result.status, result.stderr).toBe(0);
        const index = readIndex(out);
        for (const [benchmark, callback, line] of [
          ['inline > fnv1a 4k', 'bench: fnv1a 4k', 'sink ^= mixBytes(bytes, 7)'],
          ['inline > steps', 'bench: steps', 'let h = sink'],
        ] as const) {
          const profile = readProfile(profileOf(out, index, benchmark));
          const fn = profile.functions.find((f) => f.name === callback);
          expect(fn, `${benchmark}: ${profile.functions.map((f) => f.name).join(', ')}`).toBeDefined();
          expect(fn!.filename).toBe('extra/inline/mix.bench.ts');
          // The line of its `() => {`, just above its body (Vite's transform puts the whole
          // bench( call on one line: a line-only mapping would give the `bench(` line).
          expect(fn!.startLine).toBe(lineIn(P, fn!.filename, line) - 1);
          // V8's own name stays as the system name; on Vitest 4 it is the options' first key.
          expect(fn!.systemName).not.toBe(callback);
          if (P.major === 4) expect(fn!.systemName).toMatch(/\btime\b/);
          // Nothing else in the benchmark file is left anonymous or named after an options key.
          for (const f of profile.functions)
            if (f.filename === fn!.filename)
              expect(['(anonymous)', 'time'], `${benchmark}: ${f.name}`).not.toContain(f.name);
        }
        const named = readProfile(profileOf(out, index, 'inline > named'));
        expect(named.functions.map((f) => f.name)).toContain('mixNamed');
        expect(named.functions.map((f) => f.name)).not.toContain('bench: named');
        // `steps` reads its import through the module's export getter thousands of times per op.
        // Where TurboFan inlined the getter it is a load with no pc of its own, so no samples
        // (Vitest 5 on Node 24, once); where it has samples, it is named as a getter.
        const steps = readProfile(profileOf(out, index, 'inline > steps'));
        const getter = steps.functions.find((f) => f.name === '(vite export) step');
        if (getter) expect(getter.filename).toBe('src/mix.ts');
        expect(steps.functions.filter((f) => f.filename === 'src/mix.ts' && f.name === '(anonymous)')).toEqual([]);
      });
    }
  });
}
