/**
 * Unit tests of the inline-aware stack transform, the frame names and the V8 log directory,
 * without a Vitest run (the end to end ones: e2e-inline.test.ts, e2e-v8log.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceFrame } from '@perfprofile/core';
import { benchmarkTransform, HARNESS_FRAME } from '../src/harness.js';
import { callbackSite, FrameNamer } from '../src/names.js';
import { SourceMapper } from '../src/sourcemaps.js';
import { sweepLogs } from '../src/v8log.js';

type Inlined = SourceFrame & { inline?: readonly SourceFrame[] };
const js = (name: string, file: string, line = 1, extra: Partial<Inlined> = {}): Inlined => ({
  name,
  file,
  line,
  startLine: line,
  kind: 'js',
  ...extra,
});
const TINYBENCH = '/p/node_modules/tinybench/dist/index.js';
const harness = (f: SourceFrame) => f.file === TINYBENCH;
const names = (frames: readonly SourceFrame[]) =>
  frames.map((f) => [f.name, ...((f as Inlined).inline ?? []).map((g) => `<${g.name}`)].join(' '));

describe('benchmarkTransform with inlined functions', () => {
  const t = benchmarkTransform(harness);

  it("keeps a frame's inlined functions with it", () => {
    const stack = [
      js('cb', '/p/x.bench.ts', 5, { inline: [js('mix', '/p/src/mix.ts', 9)], tier: 'turbofan' }),
      js('run', TINYBENCH),
    ];
    expect(names(t(stack))).toEqual(['cb <mix']);
  });

  it('cuts at an inlined harness function, and a sample whose innermost function is harness is (harness)', () => {
    // The callback inlined a harness helper that inlined a user function: only that one is left.
    expect(
      names(
        t([
          js('cb', '/p/x.bench.ts', 5, { inline: [js('user', '/p/src/u.ts'), js('helper', TINYBENCH)] }),
          js('run', TINYBENCH),
        ]),
      ),
    ).toEqual(['user']);
    expect(names(t([js('cb', '/p/x.bench.ts', 5, { inline: [js('helper', TINYBENCH)] })]))).toEqual([HARNESS_FRAME]);
  });

  it("keeps the benchmark when tinybench's loop inlined it: the outermost user function becomes the frame, with its tier", () => {
    const stack = [
      js('run', TINYBENCH, 280, {
        inline: [js('mix', '/p/src/mix.ts', 9), js('cb', '/p/x.bench.ts', 6)],
        tier: 'turbofan',
      }),
    ];
    const out = t(stack);
    expect(names(out)).toEqual(['cb <mix']);
    expect(out[0]).toMatchObject({ file: '/p/x.bench.ts', line: 6, tier: 'turbofan' });
  });

  it('maps inlined functions through the source map like frames', () => {
    // Generated line N → original line N + 10 (one segment per line).
    const mappings = Array.from({ length: 40 }, (_, i) => (i === 0 ? 'AAUA' : 'AACA')).join(';');
    const mapper = new SourceMapper((file) =>
      file === '/p/src/mix.js' ? { version: 3, sources: ['mix.ts'], mappings } : undefined,
    );
    const out = benchmarkTransform(
      harness,
      mapper,
    )([js('cb', '/p/src/mix.js', 3, { inline: [js('mix', '/p/src/mix.js', 7)] })]);
    expect(out[0]).toMatchObject({ file: '/p/src/mix.ts', line: 13 });
    expect((out[0] as Inlined).inline![0]).toMatchObject({ name: 'mix', file: '/p/src/mix.ts', line: 17 });
  });

  it('maps a position at its column when a transformed line holds several source lines', () => {
    // Generated line 1: column 0 → source line 1, column 20 → source line 4 (a call reflowed onto one line).
    const mapper = new SourceMapper(() => ({ version: 3, sources: ['x.ts'], mappings: 'AAAA,oBAGA' }));
    const at = (column: number | undefined, systemName?: string) =>
      mapper.map(js('cb', '/p/x.js', 1, { column, systemName }));
    // A sampled position: the mapping at or before it.
    expect(at(21)).toMatchObject({ line: 4, startLine: 1 });
    expect(at(15).line).toBe(1);
    expect(at(undefined).line).toBe(1);
    // A function's start (its code name's column): the mapping at or after it, its body's.
    expect(at(5, 'JS:*cb /p/x.js:1:15')).toMatchObject({ line: 1, startLine: 4, systemName: 'JS:*cb /p/x.js:1:15' });
    expect(at(21, 'JS:~cb /p/x.js:1:1')).toMatchObject({ line: 4, startLine: 1 });
    // Or a column the caller knows (the benchmark callback's, for event=v8 frames).
    expect(mapper.map(js('cb', '/p/x.js', 1), 15)).toMatchObject({ line: 1, startLine: 4 });
  });
});

describe('frame names', () => {
  const code = [
    '__vite_ssr_exportName__("compareValues", () => { try { return compareValues } catch {} });',
    '__vite_ssr_exportName__("a\\"b", () => { try { return ab } catch {} });',
    'function compareValues(a, b) { return a - b; }',
  ].join('\n');
  const namer = new FrameNamer((file) => (file === '/p/src/cmp.ts' ? code : undefined));

  it("names Vite's export getters after their export, keeping V8's name as system name", () => {
    const getter = js('(anonymous)', '/p/src/cmp.ts', 1, { column: 42, systemName: 'JS:* /p/src/cmp.ts:1:42' });
    expect(namer.name(getter, false)).toMatchObject({
      name: '(vite export) compareValues',
      systemName: 'JS:* /p/src/cmp.ts:1:42',
    });
    expect(namer.name(js('(anonymous)', '/p/src/cmp.ts', 2, { column: 32 }), false).name).toBe('(vite export) a"b');
    expect(namer.name(js('compareValues', '/p/src/cmp.ts', 3), true).name).toBe('compareValues');
    expect(namer.name(js('(anonymous)', '/p/src/other.ts', 1), false).name).toBe('(anonymous)');
    // Inlined and named from V8's line tables: still marked as inferred.
    expect(namer.name(js('(anonymous) (inferred)', '/p/src/cmp.ts', 1), false).name).toBe(
      '(vite export) compareValues (inferred)',
    );
  });

  it("finds an anonymous callback's position through the inspector; a named function keeps its name", () => {
    const fn = [() => 1][0];
    const site = callbackSite(fn, 'fnv1a 4k')!;
    expect(site).toMatchObject({ name: 'bench: fnv1a 4k', source: '() => 1' });
    expect(site.line).toBeGreaterThan(1);
    function named(): number {
      return 2;
    }
    expect(callbackSite(named, 'x')).toBeUndefined();
    expect(callbackSite(named.bind(null), 'x')).toBeUndefined();
  });

  it('names the callback only at the root, at its position, in the module that holds its source', () => {
    const site = { name: 'bench: x', line: 4, column: 12, source: '() => f()' };
    const bench = new FrameNamer(
      (file) => (file === '/p/x.bench.ts' ? 'a\nb\nc\n  bench("x", () => f())' : 'other'),
      site,
    );
    // The start column is in V8's code name; the frame's own column is the sampled position's.
    const cb = js('time', '/p/x.bench.ts', 4, { column: 31, systemName: 'JS:*time /p/x.bench.ts:4:12' });
    expect(bench.name(cb, true)).toMatchObject({ name: 'bench: x', systemName: 'JS:*time /p/x.bench.ts:4:12' });
    expect(bench.name(cb, false).name).toBe('time');
    expect(bench.name({ ...cb, systemName: 'JS:*inner /p/x.bench.ts:4:20' }, true).name).toBe('time');
    // event=v8 frames have no code name: the line decides.
    expect(bench.name({ ...cb, systemName: undefined }, true).name).toBe('bench: x');
    expect(bench.name({ ...cb, file: '/p/y.bench.ts' }, true).name).toBe('time');
  });
});

describe('sweepLogs', () => {
  it('removes the logs of processes that have exited, and only those', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sweep-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    const files = [
      `isolate-0x1f-${dead}-v8.log`,
      `isolate-0x2f-${process.pid}-v8.log`,
      `isolate-0x3f-${process.ppid}-v8.log`,
      'other.log',
    ];
    for (const f of files) writeFileSync(path.join(dir, f), 'x');
    mkdirSync(path.join(dir, 'sub'));
    sweepLogs(dir);
    expect(readdirSync(dir).sort()).toEqual(files.slice(1).concat('sub').sort());
    sweepLogs(path.join(dir, 'absent'));
    expect(existsSync(dir)).toBe(true);
  });
});
