/**
 * top, diff, check, convert and merge on hand-built profiles (exact expectations) and on real
 * `vitest-perf bench` runs of fixtures/vitest4: three unchanged runs must not trip the gate,
 * the PERFPROFILE_FIXTURE_SLOW variant (slowMix added to hashRounds) must.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  encode,
  fromCollapsed,
  loadProfile,
  ProfileBuilder,
  toCollapsed,
  toCpuProfile,
  validateCpuProfile,
  type Profile,
} from '@perfprofile/core';
import { pprofTop } from './go-pprof.js';
import { crossCheck } from '../../../scripts/tools.mjs';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = path.join(REPO, 'packages/cli/dist/main.js');
const VITEST_PERF = path.join(REPO, 'packages/vitest/dist/cli.js');
const FIXTURE = path.join(REPO, 'fixtures/vitest4');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'perfprofile-cli-'));

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^VITEST|^TINYPOOL|^NODE_ENV$|^TEST$|^GITHUB_STEP_SUMMARY$/.test(k)) out[k] = v;
  return { ...out, NO_COLOR: '1', CI: '1', ...extra };
}

function perfprofile(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: env(extra) });
}

/** main;a ×30, main;b ×50, main;b;c ×20 (leaf last in these lists). */
function handBuilt(): Profile {
  const b = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    defaultSampleType: 'cpu',
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1e6,
    mapping: { filename: 'test' },
  });
  const frame = (name: string, line: number) => ({ name, file: 'src/app.ts', line, startLine: line });
  const add = (names: string[], n: number) =>
    b.addFrames(names.map((x, i) => frame(x, 10 * (i + 1))).reverse(), [n, n * 1e6]);
  add(['main', 'a'], 30);
  add(['main', 'b'], 50);
  add(['main', 'b', 'c'], 20);
  return b.build();
}

function writeProfile(p: Profile, dir = tmp(), name = 'p.pb.gz'): string {
  const file = path.join(dir, name);
  writeFileSync(file, encode(p));
  return file;
}

describe('top', () => {
  it('matches the hand-computed flat and cum shares', () => {
    const r = perfprofile(['top', writeProfile(handBuilt()), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout) as {
      valueType: string;
      total: number;
      rows: { name: string; flatPct: number; cumPct: number; line: number }[];
    };
    expect(t.valueType).toBe('cpu/nanoseconds');
    expect(t.total).toBe(100e6);
    const row = (n: string) => t.rows.find((x) => x.name === n)!;
    expect([row('b').flatPct, row('a').flatPct, row('c').flatPct, row('main').flatPct]).toEqual([50, 30, 20, 0]);
    expect([row('main').cumPct, row('b').cumPct, row('a').cumPct, row('c').cumPct]).toEqual([100, 70, 30, 20]);
    expect(t.rows.map((x) => x.name)).toEqual(['b', 'a', 'c', 'main']);
    const text = perfprofile(['top', writeProfile(handBuilt()), '-n', '2']).stdout.split('\n');
    expect(text[0]).toBe('cpu/nanoseconds: total 100.00ms, showing 2 of 4 functions');
    expect(text[2]).toMatch(/^\s*50\.00ms\s+50\.00%\s+70\.00ms\s+70\.00%\s+b\s+src\/app\.ts:20$/);
  });

  it('narrows by --focus and --tag, and reads the samples column by --sample-index', () => {
    const file = writeProfile(handBuilt());
    const focus = JSON.parse(perfprofile(['top', file, '--focus', '^c$', '--json']).stdout);
    expect(focus.total).toBe(20e6);
    const samples = JSON.parse(perfprofile(['top', file, '--sample-index', 'samples', '--json']).stdout);
    expect(samples.valueType).toBe('samples/count');
    expect(samples.total).toBe(100);
    const none = perfprofile(['top', file, '--tag', 'tier=turbofan']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no samples .* match --focus\/--tag/);
  });
});

describe('convert', () => {
  it('writes a .cpuprofile with the invariants of node --cpu-prof output, checked by one validator', () => {
    const dir = tmp();
    const fixture = path.join(REPO, 'fixtures/workloads/split-70-30.mjs');
    const node = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, fixture], {
      env: env({ PERFPROFILE_FIXTURE_MS: '300' }),
      encoding: 'utf8',
    });
    expect(node.status, node.stderr).toBe(0);
    const real = JSON.parse(
      readFileSync(
        path.join(
          dir,
          readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!,
        ),
        'utf8',
      ),
    );
    expect(validateCpuProfile(real)).toEqual([]);
    // The validator is not a rubber stamp: a broken copy fails it.
    expect(validateCpuProfile({ ...real, samples: [...real.samples, 999_999] })).toContain(
      'a sample names node 999999, which does not exist',
    );
    expect(validateCpuProfile({ ...real, timeDeltas: real.timeDeltas.slice(1) }).join()).toMatch(/time deltas/);

    const profileFile = writeProfile(handBuilt(), dir);
    const out = path.join(dir, 'ours.cpuprofile');
    expect(perfprofile(['convert', profileFile, '--to', 'cpuprofile', '-o', out]).status).toBe(0);
    const ours = JSON.parse(readFileSync(out, 'utf8'));
    expect(validateCpuProfile(ours)).toEqual([]);
    expect(ours.samples).toHaveLength(100);
    expect(ours.endTime - ours.startTime).toBe(100 * 1000); // 100 samples at 1 ms
    // And it reads back as the same shares.
    const back = JSON.parse(perfprofile(['top', out, '--sample-index', 'samples', '--json']).stdout);
    expect(back.rows.find((r: { name: string }) => r.name === 'b').flatPct).toBe(50);
  });

  it('round-trips collapsed stacks exactly', () => {
    const dir = tmp();
    const first = toCollapsed(handBuilt());
    expect(first).toBe('main;a 30\nmain;b 50\nmain;b;c 20\n');
    expect(toCollapsed(fromCollapsed(first))).toBe(first);
    // Through the CLI too, on a real profile.
    const real = writeProfile(loadProfile(path.join(FIXTURE_OUT(), 'merged.pb.gz')), dir);
    const a = path.join(dir, 'a.txt'),
      b = path.join(dir, 'b.txt');
    expect(perfprofile(['convert', real, '--to', 'collapsed', '-o', a]).status).toBe(0);
    expect(perfprofile(['convert', a, '--to', 'collapsed', '-o', b]).status).toBe(0);
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    expect(readFileSync(a, 'utf8')).toMatch(/hashRounds \d+\n/);
  });
});

// ---- Real runs of the fixture ---------------------------------------------------------------

const runs: Record<string, string> = {};
const FIXTURE_OUT = () => runs.base1;

function bench(name: string, slow = false): string {
  const out = path.join(tmp(), name);
  const r = spawnSync(process.execPath, [VITEST_PERF, 'bench', '--run', 'bench/hash.bench.ts', '--perfprofile', out], {
    cwd: FIXTURE,
    encoding: 'utf8',
    env: env(slow ? { PERFPROFILE_FIXTURE_SLOW: '1' } : {}),
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`vitest-perf failed: ${r.stderr}`);
  return out;
}

beforeAll(() => {
  for (const n of ['base1', 'base2', 'base3']) runs[n] = bench(n);
  runs.slow = bench('slow', true);
}, 240_000);

describe('on real runs of the fixture', () => {
  it('top on a directory prints one block per benchmark; on a profile it agrees with go tool pprof', () => {
    const r = perfprofile(['top', runs.base1, '-n', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^== /gm)).toHaveLength(2);
    // Each block's heading carries the benchmark's B/op and allocs/op, as go test -benchmem prints them.
    expect(r.stdout).toMatch(
      /== hash > fnv1a sync \(.*\.pb\.gz\) {2}\d+ B\/op {2}[\d.]+ allocs\/op\ncpu\/nanoseconds: total .*\n.*\n.*hashRounds\s+src\/hash\.ts:\d+/,
    );
    const file = path.join(runs.base1, 'merged.pb.gz');
    const ours = JSON.parse(perfprofile(['top', file, '--json', '-n', '50']).stdout) as {
      rows: { name: string; flatPct: number }[];
    };
    crossCheck('go', () => {
      const theirs = pprofTop(file);
      expect(theirs.get('hashRounds')).toBeGreaterThan(80);
      expect(
        Math.abs(ours.rows.find((r) => r.name === 'hashRounds')!.flatPct - theirs.get('hashRounds')!),
      ).toBeLessThan(0.1);
    });
  });

  it('check passes on three unchanged runs, every pair both ways, and two runs against one', () => {
    const names = ['base1', 'base2', 'base3'];
    for (const [a, b] of names.flatMap((x) => names.filter((y) => y !== x).map((y) => [x, y]))) {
      const r = perfprofile(['check', runs[a], runs[b]]);
      expect(r.status, `${a} vs ${b}: ${r.stdout}`).toBe(0);
      expect(r.stdout).toMatch(
        /^perfprofile check: no regressions in 2 benchmarks\n1 run a side; CPU time per op of the profiled pass \(task-clock\/op\) outside the harness\./,
      );
    }
    const two = perfprofile(['check', runs.base1, runs.base2, '--', runs.base3]);
    expect(two.status, two.stdout).toBe(0);
    expect(two.stdout).toMatch(/\n2 runs of base, 1 run of head; /);
  });

  it('check fails the planted regression and names slowMix, in text, markdown, GITHUB_STEP_SUMMARY, JSON and a flame diff', () => {
    const diff = JSON.parse(perfprofile(['diff', runs.base1, runs.slow, '--json']).stdout) as {
      benchmarks: { fullName: string; rows: { name: string; delta: number; cumDelta: number }[] }[];
    };
    for (const b of diff.benchmarks) {
      // The two largest share changes: slowMix appears, hashRounds gives up the same self share
      // while its total share (it calls slowMix) holds.
      expect(
        b.rows
          .slice(0, 2)
          .map((r) => r.name)
          .sort(),
      ).toEqual(['hashRounds', 'slowMix']);
      const hashRounds = b.rows.find((r) => r.name === 'hashRounds')!;
      expect(hashRounds.delta).toBeLessThan(-40);
      expect(Math.abs(hashRounds.cumDelta)).toBeLessThan(-hashRounds.delta / 4);
    }
    const dir = tmp();
    const md = path.join(dir, 'report.md');
    const summary = path.join(dir, 'step-summary.md');
    const flames = path.join(dir, 'flames');
    writeFileSync(summary, '# earlier step\n');
    const r = perfprofile(['check', runs.base1, runs.slow, '--markdown', md, '--flame-diff', flames], {
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(r.status, r.stdout).toBe(1);
    // slowMix multiplies the time per op; the increase is in slowMix, new in head.
    expect(r.stdout).toMatch(/^perfprofile check: 2 of 2 benchmarks regressed\n/);
    expect(r.stdout).toMatch(
      /\n  FAIL hash > fnv1a sync: [\d.]+ [µm]s → [\d.]+ [µm]s per op \(\+\d+(?:\.\d)?%, z \d+\.\d\)\n\s+in slowMix \(src\/hash\.ts\): 0\.00 ns → [\d.]+ [µm]s per op \(new\), called through hashRounds\n(?:\s+(?:memory|counter) .*\n)*\s+top movers \(self time per op\): slowMix \+/,
    );
    const report = readFileSync(md, 'utf8');
    expect(report).toMatch(/^### perfprofile check: 2 of 2 benchmarks regressed\n/);
    expect(report).toMatch(
      /\n\| ❌ \| hash > fnv1a sync \| [\d.]+ [µm]s \| [\d.]+ [µm]s \| \+\d+(?:\.\d)?% \| – \| – \| \d+\.\d \| `slowMix` \(src\/hash\.ts\): /,
    );
    expect(report).toMatch(
      /\n#### hash > fnv1a sync\n\n- time per op .*; the increase is in `slowMix` .*\n(?:- (?:memory|counter) .*\n)*- differential flame graph: `.*\.html`\n/,
    );
    expect(readFileSync(summary, 'utf8')).toBe('# earlier step\n' + report + '\n');
    const json = JSON.parse(perfprofile(['check', runs.base1, runs.slow, '--json', '--flame-diff', flames]).stdout);
    expect(json.regressions).toBe(2);
    expect(json.benchmarks.map((b: { culprit?: { name: string } }) => b.culprit?.name)).toEqual(['slowMix', 'slowMix']);
    for (const b of json.benchmarks) expect(readFileSync(json.flameDiffs[b.id], 'utf8')).toMatch(/^<!doctype html>/);
    // A higher floor lets it through.
    expect(perfprofile(['check', runs.base1, runs.slow, '--min-change', '1000%']).status).toBe(0);
  });

  it('merges a directory and profiles, refusing mismatched sample types', () => {
    const dir = tmp();
    const out = path.join(dir, 'all.pb.gz');
    const r = perfprofile(['merge', runs.base1, runs.base2, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const total = (p: Profile) => p.samples.reduce((a, s) => a + s.values[0], 0);
    expect(total(loadProfile(out))).toBe(
      total(loadProfile(path.join(runs.base1, 'merged.pb.gz'))) +
        total(loadProfile(path.join(runs.base2, 'merged.pb.gz'))),
    );
    const collapsed = path.join(dir, 'c.txt');
    writeFileSync(collapsed, 'main;x 3\n');
    const bad = perfprofile(['merge', out, collapsed, '-o', path.join(dir, 'bad.pb.gz')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(
      /profile 2 has sample types \[samples\/count\], profile 1 has \[samples\/count,cpu\/nanoseconds\]/,
    );
    expect(existsSync(path.join(dir, 'bad.pb.gz'))).toBe(false);
  });
});

describe('bad input', () => {
  it('answers --help on every command', () => {
    for (const c of ['top', 'diff', 'check', 'flame', 'convert', 'merge', 'record', 'events']) {
      const r = perfprofile([c, '--help']);
      expect(r.status, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^usage: perfprofile ${c}`));
    }
  });

  it('exits 2 with one line on unusable files and arguments', () => {
    const dir = tmp();
    const good = writeProfile(handBuilt(), dir);
    const bytes = readFileSync(good);
    const files: Record<string, Buffer | string> = {
      empty: '',
      garbage: Buffer.from([0x08, 0x96, 0x01, 0xff, 0xff, 0xff, 0x0f, 0x12]),
      truncated: bytes.subarray(0, bytes.length >> 1),
      'bad-json': '{"nodes": [',
      'json-not-profile': '{"hello": 1}',
    };
    const expected: Record<string, RegExp> = {
      empty: /is empty/,
      garbage: /is not a pprof profile|is corrupt/,
      truncated: /truncated gzip stream/,
      'bad-json': /starts like JSON but does not parse/,
      'json-not-profile': /JSON but not a \.cpuprofile/,
    };
    for (const [name, content] of Object.entries(files)) {
      const f = path.join(dir, name);
      writeFileSync(f, content);
      for (const cmd of [
        ['top', f],
        ['convert', f, '--to', 'collapsed'],
        ['flame', f, '-o', path.join(dir, 'x.html')],
        ['diff', good, f],
      ]) {
        const r = perfprofile(cmd);
        expect(r.status, `${cmd.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr.trim().split('\n'), cmd.join(' ')).toHaveLength(1);
        expect(r.stderr, cmd.join(' ')).toMatch(expected[name]);
      }
    }
    // A gzip bomb: 10,000 concatenated members of 1 MiB of zeros, 10 MB inflating to 10 GiB.
    const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = path.join(dir, 'bomb.pb.gz');
    writeFileSync(bomb, Buffer.concat(Array.from({ length: 10_000 }, () => member)));
    const t0 = performance.now();
    const b = perfprofile(['top', bomb]);
    const ms = performance.now() - t0;
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.stderr).toMatch(/inflates beyond the 268435456-byte limit \(a gzip bomb, or a huge profile\)/);
    expect(ms).toBeLessThan(5000); // ~1.1–1.4 s measured here (docs/RELIABILITY.md); generous for a loaded CI
    expect(perfprofile(['top', bomb, '--max-bytes', '16M']).stderr).toMatch(/beyond the 16777216-byte limit/);
    const usage: [string[], RegExp][] = [
      [['top'], /needs exactly one profile/],
      [['top', good, '-n', '0'], /--nodes needs a positive whole number/],
      [['top', good, '--focus', '('], /--focus is not a valid regular expression/],
      [['diff', good], /needs a base and a head/],
      [['diff', good, runs.base1], /is a profile but .* is a directory/],
      [['check', good, good], /is not a vitest-perf output directory/],
      [['check', runs.base1], /needs a base and a head directory/],
      [['check', runs.base1, '--'], /needs base directories before -- and head directories after it/],
      [['check', runs.base1, runs.base1, '--', runs.slow], /is given twice on the base side/],
      [['check', runs.base1, runs.slow, '--min-change', 'lots'], /--min-change needs a number/],
      [['check', runs.base1, runs.slow, '--alpha', '2'], /--alpha must be between 0 and 1/],
      [['check', runs.base1, runs.slow, '--max-share-increase', '5'], /unknown option --max-share-increase/],
      [['convert', good, '--to', 'svg'], /--to must be one of cpuprofile, collapsed, json \(got "svg"\)/],
      [['merge', good], /-o <file> is required/],
      [['top', path.join(dir, 'nope.pb.gz')], /cannot read .*nope\.pb\.gz \(ENOENT\)/],
      [['top', good, '--max-bytes', 'lots'], /--max-bytes needs a size such as 64M or 2G, got "lots"/],
    ];
    for (const [args, message] of usage) {
      const r = perfprofile(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});

it('keeps toCpuProfile and validateCpuProfile in agreement on a real profile', () => {
  const p = loadProfile(path.join(runs.base1, 'merged.pb.gz'));
  expect(validateCpuProfile(toCpuProfile(p))).toEqual([]);
});
