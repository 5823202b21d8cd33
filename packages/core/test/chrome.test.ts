import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  fromCpuProfile,
  functionTable,
  looksCpuProfile,
  ProfileBuilder,
  toCpuProfile,
  validateCpuProfile,
  type ChromeCpuProfile,
  type Profile,
} from '../src/index.js';

const WORKLOAD = fileURLToPath(new URL('../../../fixtures/workloads/split-70-30.mjs', import.meta.url));

/** main→a ×30, main→b ×50, main→b→c ×20 at 1 ms per sample, starting at t = 5 s. */
function handBuilt(): Profile {
  const b = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1e6,
    timeNanos: 5e9,
    durationNanos: 100e6,
    defaultSampleType: 'cpu',
  });
  const frame = (name: string, line: number, file = '/app/src/main.ts') => ({ name, file, line, startLine: line });
  b.addFrames([frame('a', 20), frame('main', 10)], [30, 30e6]);
  b.addFrames([frame('b', 30, 'lib/b.js'), frame('main', 10)], [50, 50e6]);
  b.addFrames([frame('c', 40, 'node:internal/x'), frame('b', 30, 'lib/b.js'), frame('main', 10)], [20, 20e6]);
  return b.build();
}

/** A fresh copy of a .cpuprofile, to break one invariant at a time. */
const copy = (p: ChromeCpuProfile): ChromeCpuProfile => JSON.parse(JSON.stringify(p)) as ChromeCpuProfile;

describe('toCpuProfile', () => {
  it('writes the call tree, one sample per count and one time delta per sample', () => {
    const cp = toCpuProfile(handBuilt());
    expect(validateCpuProfile(cp)).toEqual([]);
    const byName = new Map(cp.nodes.map((n) => [n.callFrame.functionName, n]));
    expect([...byName.keys()]).toEqual(['(root)', 'main', 'a', 'b', 'c']);
    expect(byName.get('(root)')!.children).toEqual([byName.get('main')!.id]);
    expect(byName.get('main')!.children).toEqual([byName.get('a')!.id, byName.get('b')!.id]);
    expect(cp.nodes.map((n) => n.hitCount)).toEqual([0, 0, 30, 50, 20]);
    expect(cp.samples).toHaveLength(100);
    expect(cp.timeDeltas).toEqual(new Array(100).fill(1000));
    expect([cp.startTime, cp.endTime]).toEqual([5e6, 5e6 + 100_000]);
    // Interleaved, so a flame chart over time is not one block per stack.
    expect(cp.samples.slice(0, 3)).toEqual([byName.get('a')!.id, byName.get('b')!.id, byName.get('c')!.id]);
    // Frames: file URLs for absolute paths, others as they are; 0-based lines; one script id per url.
    expect(byName.get('a')!.callFrame).toEqual({
      functionName: 'a',
      scriptId: '1',
      url: 'file:///app/src/main.ts',
      lineNumber: 19,
      columnNumber: 0,
    });
    expect(byName.get('b')!.callFrame).toMatchObject({ url: 'lib/b.js', scriptId: '2', lineNumber: 29 });
    expect(byName.get('c')!.callFrame.url).toBe('node:internal/x');
    expect(byName.get('main')!.callFrame.scriptId).toBe('1');
  });

  it('reads back as the same shares', () => {
    const back = fromCpuProfile(toCpuProfile(handBuilt()));
    const t = functionTable(back, { sampleIndex: 'samples' });
    expect(t.rows.map((r) => [r.name, r.flatPct, r.cumPct])).toEqual([
      ['b', 50, 70],
      ['a', 30, 30],
      ['c', 20, 20],
      ['main', 0, 100],
    ]);
    expect(back.functions.find((x) => x.name === 'a')!.filename).toBe('/app/src/main.ts');
    expect(back.durationNanos).toBe(100e6);
  });
});

describe('validateCpuProfile', () => {
  it('accepts what node --cpu-prof writes, and what we write from it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-chrome-'));
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, WORKLOAD], {
      env: { ...process.env, PERFPROFILE_FIXTURE_MS: '200' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const real = JSON.parse(readFileSync(path.join(dir, readdirSync(dir)[0]), 'utf8')) as ChromeCpuProfile;
    expect(looksCpuProfile(real)).toBe(true);
    expect(validateCpuProfile(real)).toEqual([]);
    const profile = fromCpuProfile(real);
    expect(functionTable(profile).rows[0].name).toBe('hot');
    expect(validateCpuProfile(toCpuProfile(profile))).toEqual([]);
  });

  it('names each broken invariant', () => {
    const good = toCpuProfile(handBuilt());
    const broken = (edit: (p: ChromeCpuProfile & { nodes: { id: number; children?: number[] }[] }) => void) => {
      const p = copy(good);
      edit(p);
      return validateCpuProfile(p);
    };
    expect(broken((p) => ((p.nodes[2] as { id: number }).id = p.nodes[1].id))).toContain('node id 2 is not unique');
    expect(broken((p) => p.nodes[1].children!.push(99))).toContain('node 2 names child 99, which does not exist');
    expect(broken((p) => p.nodes[0].children!.push(p.nodes[2].id))).toContain('node 3 has two parents (1 and 2)');
    expect(broken((p) => (p.nodes[0].children = []))).toContain('2 root nodes (expected exactly one)');
    expect(broken((p) => p.samples.push(77))).toContain('a sample names node 77, which does not exist');
    expect(broken((p) => p.timeDeltas.pop())).toContain('100 samples but 99 time deltas');
    expect(broken((p) => ((p as { endTime: number }).endTime = p.startTime - 1))).toContain(
      `endTime ${good.startTime - 1} is before startTime ${good.startTime}`,
    );
    expect(broken((p) => (p.timeDeltas[0] = 10_000_000))).toEqual([
      expect.stringMatching(/^samples run to \d+, past endTime \d+$/),
    ]);
    expect(broken((p) => ((p.nodes[1] as { hitCount: number }).hitCount = -1))).toContain(
      'node 2: hitCount -1 is not a count',
    );
    // Two nodes that are each other's child: one parent each, one root, but unreachable.
    const cycle = { ...copy(good), samples: [], timeDeltas: [] } as ChromeCpuProfile;
    const frameOf = (id: number) => ({
      id,
      callFrame: { functionName: `f${id}`, scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
      hitCount: 0,
    });
    cycle.nodes.splice(
      0,
      cycle.nodes.length,
      { ...frameOf(1), children: [2] },
      frameOf(2),
      { ...frameOf(3), children: [4] },
      { ...frameOf(4), children: [3] },
    );
    expect(validateCpuProfile(cycle)).toEqual(['2 nodes are not reachable from the root (a cycle)']);
    expect(validateCpuProfile(null)).toEqual(['not an object']);
    expect(validateCpuProfile({ nodes: [] })).toEqual(['nodes: missing or empty']);
  });

  it('refuses a broken file on input with the first problem', () => {
    const p = copy(toCpuProfile(handBuilt()));
    p.samples.push(1234);
    p.timeDeltas.push(0);
    expect(() => fromCpuProfile(p, 'x.cpuprofile')).toThrow(
      /^x\.cpuprofile is not a valid \.cpuprofile: a sample names node 1234, which does not exist$/,
    );
  });
});
