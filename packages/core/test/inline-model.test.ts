// Inline chains through the model and everything reading it: a Location holds one Line per
// function of the chain, innermost first; flat counts the innermost function, cum each function
// once per sample; collapsed, .cpuprofile, merge, diff and the depth cut keep the chain.
import { describe, expect, it } from 'vitest';
import {
  buildProfile,
  decode,
  diffProfiles,
  encode,
  functionTable,
  merge,
  toCollapsed,
  toCpuProfile,
  truncate,
  validateCpuProfile,
  type Profile,
  type SourceFrame,
  type SourceResult,
} from '../src/index.js';

const js = (name: string, file: string, line: number, startLine: number, inline?: SourceFrame[]): SourceFrame => ({
  name,
  file,
  line,
  startLine,
  kind: 'js',
  tier: 'turbofan',
  ...(inline ? { inline } : {}),
});
const root = '/app';
const main = js('main', `${root}/bench.mjs`, 5, 1);
// run's optimized code, with caller inlined into it and mix / twist inlined into caller.
const mixInRun = js('run', `${root}/inline.mjs`, 39, 36, [
  js('mix', `${root}/inline.mjs`, 10, 9),
  js('caller', `${root}/inline.mjs`, 29, 26),
]);
const twistInRun = js('run', `${root}/inline.mjs`, 39, 36, [
  js('twist', `${root}/other.mjs`, 4, 3),
  js('caller', `${root}/inline.mjs`, 30, 26),
]);
const runItself = js('run', `${root}/inline.mjs`, 38, 36);

function result(samples: [SourceFrame[], number][]): SourceResult {
  return {
    source: 'perf_event',
    events: [],
    valueTypes: [{ type: 'cpu', unit: 'nanoseconds' }],
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1e6,
    samples: samples.map(([frames, count]) => ({ frames, count, values: [count * 1e6], vmState: 'JS' })),
    lost: 0,
    unresolved: 0,
    startNanos: 1,
    durationNanos: 1e8,
    warnings: [],
  };
}

const profile = (): Profile =>
  buildProfile(
    result([
      [[mixInRun, main], 60],
      [[twistInRun, main], 30],
      [[runItself, main], 10],
    ]),
    { depth: 128, pathRoot: root },
  );

/** Each location as `name:line < ...`, innermost first. */
function locations(p: Profile): string[] {
  const fn = new Map(p.functions.map((f) => [f.id, f]));
  return p.locations.map((l) => l.lines.map((x) => `${fn.get(x.functionId)!.name}:${x.line}`).join(' < '));
}

describe('inline chains in the model', () => {
  it('builds one Location per physical frame with a Line per function, innermost first, files relative', () => {
    const p = profile();
    expect(locations(p)).toEqual(['mix:10 < caller:29 < run:39', 'main:5', 'twist:4 < caller:30 < run:39', 'run:38']);
    expect(p.functions.map((f) => `${f.name} ${f.filename}:${f.startLine}`)).toEqual([
      'run inline.mjs:36',
      'mix inline.mjs:9',
      'caller inline.mjs:26',
      'main bench.mjs:1',
      'twist other.mjs:3',
    ]);
    expect(p.mappings[0].hasInlineFrames).toBe(true);
    expect(buildProfile(result([[[runItself, main], 1]]), { depth: 128 }).mappings[0].hasInlineFrames).toBe(false);
    // The wire keeps every line.
    expect(locations(decode(encode(p)))).toEqual(locations(p));
  });

  it('counts flat for the innermost function and cum once per function per sample', () => {
    const rows = new Map(
      functionTable(profile(), { sampleIndex: 'samples' }).rows.map((r) => [r.name, [r.flat, r.cum]]),
    );
    expect(Object.fromEntries(rows)).toEqual({
      mix: [60, 60],
      twist: [30, 30],
      run: [10, 100],
      caller: [0, 90],
      main: [0, 100],
    });
  });

  it('writes inlined functions as frames of their own: collapsed stacks and .cpuprofile nodes', () => {
    expect(toCollapsed(profile())).toBe('main;run 10\nmain;run;caller;mix 60\nmain;run;caller;twist 30\n');
    const cp = toCpuProfile(profile());
    expect(validateCpuProfile(cp)).toEqual([]);
    const byId = new Map(cp.nodes.map((n) => [n.id, n]));
    const path = (name: string): string[] => {
      const parent = new Map(cp.nodes.flatMap((n) => (n.children ?? []).map((c) => [c, n.id] as const)));
      const out: string[] = [];
      for (
        let id: number | undefined = cp.nodes.find((n) => n.callFrame.functionName === name)!.id;
        id !== undefined;
        id = parent.get(id)
      )
        out.push(byId.get(id)!.callFrame.functionName);
      return out;
    };
    expect(path('mix')).toEqual(['mix', 'caller', 'run', 'main', '(root)']);
    expect(cp.nodes.find((n) => n.callFrame.functionName === 'twist')!.hitCount).toBe(30);
  });

  it('merges and diffs with the chains kept', () => {
    const merged = merge([
      { profile: profile(), labels: [{ key: 'benchmark', str: 'a' }] },
      { profile: profile(), labels: [{ key: 'benchmark', str: 'b' }] },
    ]);
    expect(locations(merged)).toEqual(locations(profile()));
    expect(functionTable(merged, { sampleIndex: 'samples' }).rows.find((r) => r.name === 'mix')!.flat).toBe(120);
    const head = buildProfile(
      result([
        [[mixInRun, main], 20],
        [[twistInRun, main], 70],
        [[runItself, main], 10],
      ]),
      { depth: 128, pathRoot: root },
    );
    const rows = new Map(diffProfiles(profile(), head, { sampleIndex: 'samples' }).rows.map((r) => [r.name, r]));
    expect([rows.get('mix')!.delta, rows.get('twist')!.delta]).toEqual([-40, 40]);
    expect(rows.get('caller')).toBeUndefined(); // no self time on either side
  });

  it('cuts at depth by physical frames (Locations), keeping the chains of those kept', () => {
    const deep = [
      mixInRun,
      main,
      js('f', `${root}/f.mjs`, 2, 1),
      js('g', `${root}/g.mjs`, 2, 1),
      js('h', `${root}/h.mjs`, 2, 1),
    ];
    const cut = truncate(deep, 3);
    expect(cut.map((f) => f.name)).toEqual(['run', 'main', '(truncated 3 frames)']);
    expect(cut[0].inline?.map((f) => f.name)).toEqual(['mix', 'caller']);
    const p = buildProfile(result([[deep, 1]]), { depth: 3, pathRoot: root });
    expect(locations(p)).toEqual(['mix:10 < caller:29 < run:39', 'main:5', '(truncated 3 frames):0']);
  });
});
