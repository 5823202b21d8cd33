// event=v8 lines of inlined functions: V8 files the ticks of a function inlined at the sampled
// pc under its caller, with lines from the inlined function's script. A real profile of
// fixtures/v8-inline (callees from the same file and another module inlined into `caller`)
// must show no line of `caller` outside caller's own body; lines given to an inlined function
// must lie in that function. The owner rules are also checked on hand-made coverage.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decode } from '../src/decode.js';
import { lineOwners, lineStarts } from '../src/sources/v8-lines.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = (name: string): string => path.join(root, 'fixtures/v8-inline', name);
const scratch = mkdtempSync(path.join(tmpdir(), 'perfprofile-v8-lines-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Lines of `function <name>(` to its closing `}` at column 0 in fixture `file`. */
function rangeOf(file: string, name: string): [number, number] {
  const lines = readFileSync(fixture(file), 'utf8').split('\n');
  const start = lines.findIndex((l) => new RegExp(`function ${name}\\(`).test(l));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('}'));
  expect(start, name).toBeGreaterThanOrEqual(0);
  return [start + 1, end + 1];
}

interface Hit {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  /** An inline entry of the frame (not its physical function). */
  readonly inlined: boolean;
  /** The sample's innermost function (its self time). */
  readonly innermost: boolean;
  readonly count: number;
}

/** The leaf location's lines of every sample of an event=v8 profile of hot.mjs. */
function profileHot(nodeFlags: string[] = [], script = 'profile.mjs', ms = 2500): { hits: Hit[]; samples: number } {
  const out = path.join(scratch, `hot-${Date.now()}-${Math.random()}.pb.gz`);
  const r = spawnSync(process.execPath, [...nodeFlags, fixture(script)], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PERFPROFILE_CORE_URL: pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href,
      PERFPROFILE_OUT: out,
      PERFPROFILE_CONFIG: 'event=v8 rate=4000',
      PERFPROFILE_FIXTURE_MS: String(ms),
    },
  });
  expect(r.status, r.stderr).toBe(0);
  const { warnings } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { warnings: string[] };
  expect(warnings).toEqual([]);
  const profile = decode(readFileSync(out));
  const fns = new Map(profile.functions.map((f) => [f.id, f]));
  const locs = new Map(profile.locations.map((l) => [l.id, l]));
  const hits: Hit[] = [];
  let samples = 0;
  for (const s of profile.samples) {
    samples += s.values[0];
    const lines = locs.get(s.locationIds[0])!.lines;
    lines.forEach((l, i) => {
      const fn = fns.get(l.functionId)!;
      hits.push({
        name: fn.name,
        file: fn.filename,
        line: l.line,
        inlined: i < lines.length - 1,
        innermost: i === 0,
        count: s.values[0],
      });
    });
  }
  return { hits, samples };
}

describe('event=v8 lines of inlined functions', { timeout: 60_000 }, () => {
  it('never files a line of another function under the caller (fixtures/v8-inline)', () => {
    const { hits, samples } = profileHot();
    // Wall-clock sampler on a shared machine: enough samples that every line of the loop shows.
    expect(samples).toBeGreaterThan(1000);
    const ranges: Record<string, [string, [number, number]]> = {
      caller: ['hot.mjs', rangeOf('hot.mjs', 'caller')],
      fold: ['hot.mjs', rangeOf('hot.mjs', 'fold')],
      spread: ['other.mjs', rangeOf('other.mjs', 'spread')],
      // Node 22 and 24 inline `caller` into `run`'s loop too.
      run: ['hot.mjs', rangeOf('hot.mjs', 'run')],
    };
    let loopSamples = 0;
    for (const h of hits) {
      const r = ranges[h.name];
      if (!r) continue;
      if ((h.name === 'caller' || h.name === 'run') && !h.inlined) loopSamples += h.count;
      // Every frame of these functions, physical or inlined, sits in its own file and body.
      expect(path.basename(h.file), `${h.name}:${h.line}`).toBe(r[0]);
      expect(h.line, `${h.name} at ${h.line}`).toBeGreaterThanOrEqual(r[1][0]);
      expect(h.line, `${h.name} at ${h.line}`).toBeLessThanOrEqual(r[1][1]);
    }
    // The loop (with whatever V8 inlined into it) is nearly all of the profile.
    expect(loopSamples / samples).toBeGreaterThan(0.8);
  });

  it('gives inlined functions their samples, as many as without inlining (vm scripts with line offsets)', () => {
    // Each script's lines start far past any other script's, so every line has one possible owner.
    const offsetRange = (file: string, name: string, offset: number): [number, number] => {
      const [a, b] = rangeOf(file, name);
      return [a + offset, b + offset];
    };
    const ranges: Record<string, [string, [number, number]]> = {
      spread: ['vm-other.js', offsetRange('vm-other.js', 'spread', 100_000)],
      fold: ['vm-hot.js', offsetRange('vm-hot.js', 'fold', 200_000)],
      caller: ['vm-hot.js', offsetRange('vm-hot.js', 'caller', 200_000)],
    };
    const shares = (hits: Hit[], samples: number) => {
      const self: Record<string, number> = { spread: 0, fold: 0 };
      for (const h of hits) {
        const r = ranges[h.name];
        if (r) {
          expect(path.basename(h.file), `${h.name}:${h.line}`).toBe(r[0]);
          expect(h.line, `${h.name} at ${h.line}`).toBeGreaterThanOrEqual(r[1][0]);
          expect(h.line, `${h.name} at ${h.line}`).toBeLessThanOrEqual(r[1][1]);
        }
        if (h.name in self && h.innermost) self[h.name] += h.count;
      }
      return { spread: self.spread / samples, fold: self.fold / samples };
    };
    // Two processes of each, alternating, pooled: what V8 compiles varies from run to run
    // (±1 pp per run here), and shifts spread's share +1.3 pp with inlining (its call is gone).
    const pool = (runs: { hits: Hit[]; samples: number }[]) => ({
      hits: runs.flatMap((r) => r.hits),
      samples: runs.reduce((n, r) => n + r.samples, 0),
      least: Math.min(...runs.map((r) => r.samples)),
    });
    const noInlining = ['--no-turbo-inlining', '--no-maglev-inlining'];
    const runs = [[], noInlining, [], noInlining].map((flags) => profileHot(flags, 'vm.mjs', 3000));
    const inlined = pool([runs[0], runs[2]]);
    const truth = pool([runs[1], runs[3]]);
    expect(inlined.least).toBeGreaterThanOrEqual(4000);
    expect(truth.least).toBeGreaterThanOrEqual(4000);
    // V8 inlined both: their frames are inline entries of caller's, which holds their samples.
    expect(inlined.hits.some((h) => h.name === 'spread' && h.inlined)).toBe(true);
    expect(inlined.hits.some((h) => h.name === 'fold' && h.inlined)).toBe(true);
    const a = shares(inlined.hits, inlined.samples);
    const b = shares(truth.hits, truth.samples);
    // Before: 0 (all of it on caller's first line). The loops are long enough that calling
    // them costs little: the same shares as without inlining (the 3 pp).
    expect(a.spread + a.fold).toBeGreaterThan(0.8);
    expect(Math.abs(a.spread - b.spread) * 100).toBeLessThan(3);
    expect(Math.abs(a.fold - b.fold) * 100).toBeLessThan(3);
  });

  it("deoptimizes nothing when its stop enables V8's debugger to read sources", () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', fixture('debugger.mjs')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PERFPROFILE_CORE_URL: pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href,
        PERFPROFILE_OUT: path.join(scratch, 'debugger.pb.gz'),
      },
    });
    expect(r.status, r.stderr).toBe(0);
    const { before, after, fetched } = JSON.parse(r.stdout.trim()) as Record<string, number>;
    expect(fetched).toBeGreaterThan(0); // the debugger was enabled
    // V8's status bits: 16 optimized, 64 by TurboFan, 8 maybe deoptimized, 16384 marked for
    // deoptimization. Others may change meanwhile: 1024, a concurrent compile job in flight.
    const deopt = 8 | 16 | 64 | 16384;
    expect(before & deopt).toBe(16 | 64);
    expect(after & deopt).toBe(before & deopt);
  });

  it('keeps V8 lines without owners, as before (fromInspectorProfile without them)', async () => {
    const { fromInspectorProfile } = await import('../src/sources/v8.js');
    const profile = {
      startTime: 0,
      endTime: 10,
      samples: [2],
      timeDeltas: [1],
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2] },
        {
          id: 2,
          callFrame: { functionName: 'f', scriptId: '1', url: 'file:///a.js', lineNumber: 9, columnNumber: 10 },
          positionTicks: [{ line: 3, ticks: 1 }],
        },
      ],
    };
    expect(fromInspectorProfile(profile, 1000).samples[0].frames[0].line).toBe(3);
    const none = fromInspectorProfile(profile, 1000, { owner: () => undefined });
    expect(none.samples[0].frames[0]).toMatchObject({ name: 'f', line: 10, startLine: 10 });
    expect(none.samples[0].frames[0].inline).toBeUndefined();
    const other = fromInspectorProfile(profile, 1000, {
      owner: () => ({ own: false, name: 'g', url: 'file:///b.js', startLine: 2 }),
    });
    expect(other.samples[0].frames[0]).toMatchObject({ name: 'f', line: 10, inline: [{ name: 'g', line: 3 }] });
  });
});

describe('lineOwners', () => {
  // a.js: `caller` on lines 3-7 with a nested `inner` on line 5; b.js: `g` on lines 4-6.
  const a = ['// a', '', 'function caller() {', '  x();', '  const inner = () => 1;', '  y();', '}', ''].join('\n');
  const b = ['// b', '', '', 'function g() {', '  z();', '}', ''].join('\n');
  const fn = (src: string, name: string, from: string, to: string, count: number) => ({
    functionName: name,
    ranges: [{ startOffset: src.indexOf(from), endOffset: src.indexOf(to) + to.length, count }],
  });
  const coverage = (gCount: number, innerCount = 0) => [
    {
      scriptId: '1',
      url: 'file:///a.js',
      functions: [
        { functionName: '', ranges: [{ startOffset: 0, endOffset: a.length, count: 1 }] },
        fn(a, 'caller', 'function caller', '  y();\n}', 1),
        fn(a, 'inner', '() => 1', '() => 1', innerCount),
      ],
    },
    {
      scriptId: '2',
      url: 'file:///b.js',
      functions: [
        { functionName: '', ranges: [{ startOffset: 0, endOffset: b.length, count: 1 }] },
        fn(b, 'g', 'function g', '  z();\n}', gCount),
      ],
    },
  ];
  const tables = new Map([
    ['1', lineStarts(a)],
    ['2', lineStarts(b)],
  ]);
  // `caller` starts at line 3 (lineNumber 2), column 0, as V8's callFrame has it.
  const ownerOf = (line: number, gCount = 1, innerCount = 0) =>
    lineOwners(coverage(gCount, innerCount), (id) => tables.get(id)).owner('1', 2, 0, line);

  it('gives a line outside the caller to the one function that ran there, else to no one', () => {
    expect(ownerOf(4)).toEqual(undefined); // b.js's g (line 4) and caller's own line 4
    expect(ownerOf(7)).toEqual({ own: true }); // only caller has line 7 (g ends on line 6)
    expect(ownerOf(2, 1)).toBeUndefined(); // no function has line 2 (top-level code is never inlined)
    expect(ownerOf(6)).toBeUndefined(); // caller's and g's
    expect(ownerOf(6, 0)).toEqual({ own: true }); // g never ran: it cannot have been inlined
  });

  it('a nested function that ran shares the line with its parent', () => {
    expect(ownerOf(5, 0, 0)).toEqual({ own: true });
    expect(ownerOf(5, 0, 3)).toBeUndefined();
  });

  it('resolves to an inlined function when it alone can own the line', () => {
    // Caller at line 3..7 of a.js; g's line 5 in b.js is also caller's line 5 -> ambiguous,
    // so look from g's side: a caller whose range does not cover the line.
    const own = lineOwners(coverage(1), (id) => tables.get(id));
    expect(own.owner('2', 3, 0, 5)).toBeUndefined(); // g asks about line 5: caller's too
    const solo = [coverage(1)[1]];
    const onlyB = lineOwners(solo, (id) => tables.get(id));
    expect(onlyB.owner('2', 3, 0, 5)).toEqual({ own: true });
    const withA = lineOwners([coverage(1)[1], { ...coverage(1)[0], functions: [coverage(1)[0].functions[1]] }], (id) =>
      tables.get(id),
    );
    // From caller's view line 7 is its own; from g's view line 7 belongs to caller alone.
    expect(withA.owner('2', 3, 0, 7)).toEqual({ own: false, name: 'caller', url: 'file:///a.js', startLine: 3 });
  });

  it('a script that ran but whose lines are unknown could own any line', () => {
    const owners = lineOwners(coverage(1), (id) => (id === '1' ? tables.get(id) : undefined));
    expect(owners.owner('1', 2, 0, 7)).toBeUndefined();
  });
});
