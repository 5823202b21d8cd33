/**
 * The analysis commands on allocation profiles (Go's heap sample types, as `alloc=on` writes
 * them): top, diff, flame, convert and merge on files, and top/diff --alloc on output
 * directories; bad input stays one line and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildAllocProfile,
  collectGarbage,
  encode,
  loadProfile,
  startHeapSampling,
  type IndexFile,
  type Profile,
} from '@perfprofile/core';
import { pprofTop } from './go-pprof.js';
import { crossCheck } from '../../../scripts/tools.mjs';

const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const tmp = () => mkdtempSync(path.join(tmpdir(), 'perfprofile-alloc-'));

function perfprofile(args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^VITEST|^TINYPOOL|^NODE_ENV$|^TEST$/.test(k)) env[k] = v;
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...env, NO_COLOR: '1' } });
}

const ring: unknown[] = new Array(8).fill(null);
let n = 0;
function makeArrays(count: number): void {
  for (let i = 0; i < count; i++) ring[n++ & 7] = new Array(64).fill(i);
}
function makeObjects(count: number): void {
  for (let i = 0; i < count; i++) ring[n++ & 7] = { i };
}

/** A real allocation profile of this process: every allocation of `work`, and what survives it. */
function allocProfileOf(work: () => void, benchmark: string): Profile {
  const alloc = startHeapSampling(1, true);
  work();
  const allocRun = alloc();
  const inuse = startHeapSampling(1, false);
  work();
  collectGarbage();
  const keep = (f: { name: string }) => f.name === 'makeArrays' || f.name === 'makeObjects';
  return buildAllocProfile(
    { alloc: allocRun, inuse: inuse() },
    {
      depth: 8,
      transform: (frames) => (keep(frames[0] ?? { name: '' }) ? frames.slice(0, 1) : null),
      labels: [{ key: 'benchmark', str: benchmark }],
    },
  );
}

function write(dir: string, name: string, p: Profile): string {
  writeFileSync(path.join(dir, name), encode(p));
  return path.join(dir, name);
}

describe('analysis commands on allocation profiles', () => {
  const dir = tmp();
  const arrays = write(
    dir,
    'a.alloc.pb.gz',
    allocProfileOf(() => makeArrays(500), 'arrays'),
  );
  const objects = write(
    dir,
    'b.alloc.pb.gz',
    allocProfileOf(() => makeObjects(500), 'objects'),
  );

  it('top shows alloc_space by default, any other column on request', () => {
    const top = perfprofile(['top', arrays]);
    expect(top.status, top.stderr).toBe(0);
    expect(top.stdout.split('\n')[0]).toMatch(/^alloc_space\/bytes: total /);
    expect(top.stdout).toMatch(/\bmakeArrays\b/);
    const inuse = perfprofile(['top', arrays, '--sample-index', 'inuse_objects', '--json']);
    expect(JSON.parse(inuse.stdout).rows[0]).toMatchObject({ name: 'makeArrays', flat: 8 }); // the ring's 8 slots
    crossCheck('go', () => expect(pprofTop(arrays).get('makeArrays')).toBe(100));
  });

  it('diff, flame, convert and merge take them as they take CPU profiles', () => {
    const diff = perfprofile(['diff', arrays, objects]);
    expect(diff.status, diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/^alloc_space\/bytes self share/);
    expect(diff.stdout).toMatch(/-100\.00 pp\s+100\.00%\s+0\.00%.*makeArrays/);
    const html = path.join(dir, 'flame.html');
    expect(perfprofile(['flame', arrays, '-o', html]).status).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('alloc_space');
    const collapsed = perfprofile(['convert', arrays, '--to', 'collapsed']);
    expect(collapsed.stdout.trim()).toMatch(/^makeArrays \d+$/);
    const merged = path.join(dir, 'm.pb.gz');
    expect(perfprofile(['merge', arrays, objects, '-o', merged]).status).toBe(0);
    const m = loadProfile(merged);
    expect(m.sampleTypes.map((t) => t.type)).toEqual(['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space']);
    const label = (key: string) => m.samples.map((s) => s.labels.find((l) => l.key === key));
    expect(new Set(label('benchmark').map((l) => l?.str))).toEqual(new Set(['arrays', 'objects']));
    // Each sample keeps its object size (Go's `bytes` label).
    expect(label('bytes').every((l) => l !== undefined && l.num! > 0)).toBe(true);
  });

  it("top and diff --alloc read a directory's allocation profiles, with B/op and allocs/op", () => {
    const run = tmp();
    write(run, 'x.pb.gz', loadProfile(arrays)); // stands in for the CPU profile
    write(run, 'x.alloc.pb.gz', loadProfile(arrays));
    const memory = {
      bytesPerOp: 560,
      externalBytesPerOp: 0,
      allocsPerOp: 1,
      allocsPerOpStdErr: 0.07,
      gcNanosPerOp: 10,
      gcCountPerOp: 0.001,
    };
    const bench = {
      id: 'x',
      file: 'x.bench.ts',
      name: 'x',
      fullName: 'arrays',
      profile: 'x.pb.gz',
      allocProfile: 'x.alloc.pb.gz',
      samples: 1,
      lost: 0,
      durationMs: 1,
      hz: { baseline: 1, profiled: 1 },
      rme: { baseline: 1, profiled: 1 },
      overheadPct: 0,
      counters: {},
      top: [],
      harnessPct: 0,
      status: 'passed' as const,
      memory,
    };
    const index: IndexFile = {
      schema: 1,
      config: {
        text: '',
        event: 'v8',
        events: ['v8'],
        rate: 997,
        period: 1,
        source: 'v8',
        reason: '',
        baseline: true,
        warnings: [],
        alloc: true,
      },
      node: process.version,
      vitest: '4',
      complete: true,
      benchmarks: [bench],
      missing: [],
      merged: null,
    };
    writeFileSync(path.join(run, 'index.json'), JSON.stringify(index));
    const top = perfprofile(['top', run, '--alloc']);
    expect(top.status, top.stderr).toBe(0);
    expect(top.stdout.split('\n')[0]).toBe('== arrays (x.alloc.pb.gz)  560 B/op  1 allocs/op');
    expect(perfprofile(['diff', run, run, '--alloc']).status).toBe(0);
    // A run without alloc=on, and --alloc on a file: one line each, exit 2.
    writeFileSync(
      path.join(run, 'index.json'),
      JSON.stringify({ ...index, benchmarks: [{ ...bench, allocProfile: undefined }] }),
    );
    for (const args of [
      ['top', run, '--alloc'],
      ['top', arrays, '--alloc'],
      ['diff', arrays, objects, '--alloc'],
    ]) {
      const r = perfprofile(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(perfprofile(['top', run, '--alloc']).stderr).toMatch(
      /lists no allocation profile for "arrays" \(run the benchmarks with --perfprofileconfig alloc=on\)/,
    );
  });

  it('refuses to merge an allocation profile with a CPU profile, in one line', () => {
    const cpu = write(tmp(), 'cpu.pb.gz', {
      ...loadProfile(arrays),
      sampleTypes: [
        { type: 'samples', unit: 'count' },
        { type: 'cpu', unit: 'nanoseconds' },
        { type: 'x', unit: 'count' },
        { type: 'y', unit: 'count' },
      ],
    });
    const r = perfprofile(['merge', arrays, cpu, '-o', path.join(tmp(), 'm.pb.gz')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/sample types/);
  });
});
