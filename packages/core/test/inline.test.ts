// Inline frames end to end: `perfprofile record` (native task-clock source, V8's code log) on the
// fixtures/inline workloads, checked against lines found in the fixture sources and against the
// same workload run with inlining off; a Worker's own log; go tool pprof reading the result; and
// the fallback when the log cannot be used. Run by scripts/compat.mjs on Node 22 and 24 too.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '@perfprofile/native';
import { functionTotals } from '../src/analysis.js';
import { CPUProfile, trackCode } from '../src/cpuprofile.js';
import { decode } from '../src/decode.js';
import { median } from '../src/gate-compare.js';
import { inlineLaunch, isolateLogFiles, V8_LOG_ENV, v8LogFlags } from '../src/inline/v8-log-file.js';
import type { Profile } from '../src/model.js';
import { resetInlineNamer } from '../src/sources/native-inline.js';
import { INFERRED_SUFFIX } from '../src/sources/native-stacks.js';
import { nativeStatus } from '../src/sources/native.js';
import { needs, toolPath } from '../../../scripts/tools.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = path.join(root, 'packages/cli/dist/main.js');
const fixture = (name: string): string => path.join(root, 'fixtures/inline', name);
const source = (name: string): string => readFileSync(fixture(name), 'utf8');
const scratch = mkdtempSync(path.join(tmpdir(), 'perfprofile-inline-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const native = nativeStatus().ok;
/** `go tool pprof <args>` output (as packages/cli/test/go-pprof.ts runs it). */
const goPprof = (args: string[]): string =>
  execFileSync(toolPath('go'), ['tool', 'pprof', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
let runs = 0;

/** 1-based line of the only line of fixture `file` containing `marker`. */
function lineOf(file: string, marker: string): number {
  const hits = source(file)
    .split('\n')
    .flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  expect(hits, marker).toHaveLength(1);
  return hits[0];
}

/** Lines of `function <name>(` to its closing `}` at column 0 in fixture `file`. */
function rangeOf(file: string, name: string): [number, number] {
  const lines = source(file).split('\n');
  const start = lines.findIndex((l) => new RegExp(`function ${name}\\(`).test(l));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('}'));
  expect(start, name).toBeGreaterThanOrEqual(0);
  return [start + 1, end + 1];
}

interface Recorded {
  readonly profile: Profile;
  readonly out: string;
  readonly stderr: string;
  /** What the recording left in its temporary directory (the V8 logs must be gone). */
  readonly leftInTmp: string[];
}

/** `perfprofile record` of a fixture with the native task-clock source. */
function record(script: string, env: Record<string, string>, config = 'event=task-clock rate=2000'): Recorded {
  const dir = path.join(scratch, `run-${runs++}`);
  const tmp = path.join(dir, 'tmp');
  execFileSync('mkdir', ['-p', tmp]);
  const out = path.join(dir, 'cpu.pb.gz');
  const r = spawnSync(process.execPath, [cli, 'record', '-o', out, '--config', config, '--', fixture(script)], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, TMPDIR: tmp, ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  return { profile: decode(readFileSync(out)), out, stderr: r.stderr, leftInTmp: readdirSync(tmp) };
}

/** Self and total samples per function name (inlined and physical frames alike). */
function byName(p: Profile): Map<string, { self: number; cum: number }> {
  return new Map(
    [...functionTotals(p, { sampleIndex: 'samples' }, (fn) => fn.name).byKey].map(([k, v]) => [
      k,
      { self: v.self, cum: v.cum },
    ]),
  );
}

const samplesOf = (p: Profile): number => p.samples.reduce((a, s) => a + s.values[0], 0);

/** Each sample's locations as `name@file:line < ...` (innermost first), leaf first, with its samples. */
function stacks(p: Profile): { locs: string[]; n: number }[] {
  const fn = new Map(p.functions.map((f) => [f.id, f]));
  const text = new Map(
    p.locations.map((l) => [
      l.id,
      l.lines
        .map((x) => `${fn.get(x.functionId)!.name}@${path.basename(fn.get(x.functionId)!.filename)}:${x.line}`)
        .join(' < '),
    ]),
  );
  return p.samples.map((s) => ({ locs: s.locationIds.map((id) => text.get(id)!), n: s.values[0] }));
}

/** Each location with an inline chain, with its samples (at any depth). */
function chains(p: Profile): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of stacks(p))
    for (const l of new Set(s.locs)) if (l.includes(' < ')) out.set(l, (out.get(l) ?? 0) + s.n);
  return out;
}

/** Samples of chains that match `re`. */
const weightOf = (c: Map<string, number>, re: RegExp): number =>
  [...c].filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);

/** A promise made on first call, so runs start only when a test of theirs runs. */
function lazy<T>(make: () => T): () => T {
  let v: { value: T } | undefined;
  return () => (v ??= { value: make() }).value;
}

describe.skipIf(!native)(`inline frames of native profiles (Node ${process.version})`, () => {
  const inlined = lazy(() => record('inline.mjs', { PERFPROFILE_FIXTURE_MS: '2500' }));

  it('names mix (same file), twist (other module) and c → b → a inlined into caller, at their lines', () => {
    const { profile, leftInTmp } = inlined();
    expect(leftInTmp, 'the V8 logs are removed').toEqual([]);
    expect(profile.mappings[0].hasInlineFrames).toBe(true);
    const c = chains(profile);
    const at = (fn: string, file = 'inline.mjs') => {
      const [first, last] = rangeOf(file, fn);
      return `${fn}@${file}:(${Array.from({ length: last - first + 1 }, (_, i) => first + i).join('|')})`;
    };
    // The innermost function anywhere in its body, each caller at the call site's line.
    const mix = new RegExp(`^${at('mix')} < caller@inline\\.mjs:${lineOf('inline.mjs', 'call:mix')}( |$)`);
    const twist = new RegExp(
      `^${at('twist', 'other.mjs')} < caller@inline\\.mjs:${lineOf('inline.mjs', 'call:twist')}( |$)`,
    );
    const b = new RegExp(
      `^(${at('c')} < )?${at('b')} < a@inline\\.mjs:${lineOf('inline.mjs', 'call:b')} < caller@inline\\.mjs:${lineOf('inline.mjs', 'call:a')}( |$)`,
    );
    const shown = [...c].map(([k, v]) => `${v} ${k}`).join('\n');
    for (const re of [mix, twist, b]) expect(weightOf(c, re), `${re}\n${shown}`).toBeGreaterThan(0);
    // Every chain through caller holds only the fixture's functions, each inside its own body.
    for (const chain of c.keys()) {
      for (const f of chain.split(' < ')) {
        const m = /^(mix|twist|a|b|c|caller)@(\S+):(\d+)$/.exec(f);
        if (!m) continue;
        const [first, last] = rangeOf(m[2], m[1]);
        expect(Number(m[3]), chain).toBeGreaterThanOrEqual(first);
        expect(Number(m[3]), chain).toBeLessThanOrEqual(last);
      }
    }
  });

  it('gives inlined leaves their own flat samples; the callers keep what is theirs', () => {
    const { profile } = inlined();
    const t = byName(profile);
    const total = samplesOf(profile);
    for (const fn of ['mix', 'twist', 'a', 'b']) expect(t.get(fn)?.self ?? 0, fn).toBeGreaterThan(0);
    // Without the log all of it was caller's (or run's, where caller is inlined into run).
    expect(t.get('caller')!.cum / total).toBeGreaterThan(0.8);
    expect((t.get('caller')!.self + (t.get('run')?.self ?? 0)) / t.get('caller')!.cum).toBeLessThan(0.7);
  });

  it('go tool pprof -traces marks inlined functions (inline), -top names them as functions', needs('go'), () => {
    const { out } = inlined();
    const traces = goPprof(['-traces', out]);
    expect(traces).toMatch(/^\s+[\d.]+\w*\s+mix \(inline\)$/m);
    expect(traces).toMatch(/^\s+[\d.]+\w*\s+b \(inline\)\n\s+a \(inline\)\n\s+caller( \(inline\))?$/m);
    const top = goPprof(['-top', '-nodecount=40', out]);
    for (const fn of ['mix', 'twist', 'b'])
      expect(top, fn).toMatch(new RegExp(`^\\s*[\\d.]+\\w*\\s+[\\d.]+%.*\\s${fn}( \\(inline\\))?$`, 'm'));
  });

  it('matches the no-inlining truth where callees are loops: shares within 3 pp, callers ~0 self', () => {
    // ≥ 4,000 samples each: task-clock at 3 kHz over 2 s of CPU.
    const env = { PERFPROFILE_FIXTURE_CPU_MS: '2000' };
    const config = 'event=task-clock rate=3000';
    const noInlining = { ...env, PERFPROFILE_FIXTURE_V8_FLAGS: '--no-turbo-inlining --no-maglev-inlining' };
    // Three processes a side, alternated: each process's JIT code runs the loops at its own speed
    // (docs/PERFORMANCE.md, "Inline chains: V8's code log"), so each side's share is its median
    // process: one slow compilation does not decide it.
    const pairs = [0, 1, 2].map(() => [
      record('loops.mjs', env, config).profile,
      record('loops.mjs', noInlining, config).profile,
    ]);
    const inlinedCallees = (c: Map<string, number>) => weightOf(c, /^(sumSquares|hashAll|heavy)@/);
    for (const [inl, truth] of pairs) {
      expect(samplesOf(inl)).toBeGreaterThanOrEqual(4000);
      expect(samplesOf(truth)).toBeGreaterThanOrEqual(4000);
      // The flags took: the truth has no loop callee inlined; the profile has them all inlined.
      expect(inlinedCallees(chains(truth))).toBe(0);
      expect(inlinedCallees(chains(inl)) / samplesOf(inl)).toBeGreaterThan(0.5);
    }
    const shareOf = (side: number, fn: string) =>
      median(pairs.map((pair) => (100 * (byName(pair[side]).get(fn)?.self ?? 0)) / samplesOf(pair[side])));
    const report: string[] = [];
    for (const fn of ['sumSquares', 'hashAll', 'heavy']) {
      const [a, b] = [shareOf(0, fn), shareOf(1, fn)];
      report.push(`${fn} ${a.toFixed(1)}% vs truth ${b.toFixed(1)}%`);
      expect(Math.abs(a - b), report.join('; ')).toBeLessThan(3);
    }
    // A function that only calls holds (almost) nothing itself; its callee holds (almost) all of it.
    const ti = byName(pairs[0][0]);
    for (const fn of ['caller', 'wrap']) expect(ti.get(fn)!.self / ti.get(fn)!.cum, fn).toBeLessThan(0.02);
    expect(ti.get('heavy')!.cum / ti.get('wrap')!.cum).toBeGreaterThanOrEqual(0.8);
    expect((ti.get('sumSquares')!.cum + ti.get('hashAll')!.cum) / ti.get('caller')!.cum).toBeGreaterThanOrEqual(0.8);
  }, 240_000);

  it("names scale's code before a deopt and after the reoptimization, step inlined into it", () => {
    const { profile } = record('deopt.mjs', { PERFPROFILE_FIXTURE_MS: '3000' });
    const t = byName(profile);
    const all = stacks(profile);
    const loop = `scale@deopt.mjs:${lineOf('deopt.mjs', 'call:step')}`;
    const shown = [...chains(profile)].map(([k, v]) => `${v} ${k}`).join('\n');
    for (const phase of ['intsPhase', 'doublesPhase']) {
      // Most of each phase runs in optimized code (integers, then doubles after the deopt) whose
      // positions put scale at its loop's line, inlined into the phase or not: without the log
      // it would be at its first line.
      const named = all.filter(
        (x) => x.locs.some((l) => l.includes(`${phase}@`)) && x.locs.some((l) => l.split(' < ').includes(loop)),
      );
      expect(
        named.reduce((a, x) => a + x.n, 0),
        `${phase}:\n${shown}`,
      ).toBeGreaterThan(0.5 * t.get(phase)!.cum);
    }
    // step's own line inlined into scale (V8 13.6 files the doubles' multiply under scale's loop).
    const step = new RegExp(`^step@deopt\\.mjs:${lineOf('deopt.mjs', 'body:step')} < ${loop.replace('.', '\\.')}( |$)`);
    expect(weightOf(chains(profile), step), shown).toBeGreaterThan(0);
  });

  it("keeps a recursive executing frame at its own pc, not at its caller's call site", () => {
    const { profile } = record('recursive.mjs', { PERFPROFILE_FIXTURE_MS: '2000' });
    // The leaf's own line per sample where fib executes in optimized code.
    const leaf = new Map<string, number>();
    for (const s of stacks(profile)) {
      const own = s.locs[0].split(' < ')[0];
      if (own.startsWith('fib@') && s.locs[1]?.startsWith('fib@')) leaf.set(own, (leaf.get(own) ?? 0) + s.n);
    }
    const total = [...leaf.values()].reduce((a, n) => a + n, 0);
    expect(total).toBeGreaterThan(200);
    // A return address is always on a call line; the executing fib's own pc is also at its
    // entry, base case and add. Before the fix the executing frame was dropped and every such
    // sample was at a call line.
    const atCalls = ['call:fib1', 'call:fib2'].reduce(
      (a, m) => a + (leaf.get(`fib@recursive.mjs:${lineOf('recursive.mjs', m)}`) ?? 0),
      0,
    );
    expect(1 - atCalls / total, JSON.stringify([...leaf])).toBeGreaterThan(0.05);
  });

  it("names a Worker's frames from the Worker isolate's own log", () => {
    const dir = mkdtempSync(path.join(scratch, 'worker-'));
    const launch = inlineLaunch(dir);
    const out = path.join(dir, 'worker.pb.gz');
    const stdout = execFileSync(process.execPath, [...launch.execArgv, fixture('worker-profile.mjs')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        ...launch.env,
        PERFPROFILE_FIXTURE_MS: '2000',
        PERFPROFILE_WORKER_OUT: out,
        PERFPROFILE_CORE_URL: pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href,
      },
    });
    expect(JSON.parse(stdout.trim().split('\n').pop()!).warnings).toEqual([]);
    expect(isolateLogFiles(launch.logfile)).toHaveLength(2);
    const c = chains(decode(readFileSync(out)));
    expect(
      weightOf(c, new RegExp(`^mix@inline\\.mjs:\\d+ < caller@inline\\.mjs:${lineOf('inline.mjs', 'call:mix')}`)),
    ).toBeGreaterThan(0);
    expect(weightOf(c, /^twist@other\.mjs:\d+ < caller@/)).toBeGreaterThan(0);
  });
});

describe.skipIf(!native)("V8's code log starts when code is tracked", () => {
  /** fixtures/inline/log-start.mjs under v8LogFlags(`options`), in a cwd of its own. */
  function logStart(options: { quiet?: boolean }) {
    const dir = mkdtempSync(path.join(scratch, 'log-start-'));
    const cwd = mkdtempSync(path.join(scratch, 'log-start-cwd-'));
    const logfile = path.join(dir, 'v8.log');
    const stdout = execFileSync(process.execPath, [...v8LogFlags(logfile, options), fixture('log-start.mjs')], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        [V8_LOG_ENV]: logfile,
        PERFPROFILE_CORE_URL: pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href,
      },
    });
    type Records = { main: number; workers: number[] };
    return { ...(JSON.parse(stdout.trim().split('\n').pop()!) as { before: Records; after: Records }), cwd };
  }

  it('writes no code before the tracking, then every isolate logs; Workers get a log whenever they start', () => {
    const r = logStart({});
    expect(r.before).toEqual({ main: 0, workers: [0] });
    expect(r.after.main).toBeGreaterThan(0);
    // The first Worker had exited; the second logs from its start. On V8 >= 12 it may get the
    // first one's isolate address, and so its file name: then one file is left.
    expect(r.after.workers.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...r.after.workers)).toBeGreaterThan(100);
    expect(readdirSync(r.cwd)).toEqual([]);
  });

  it('quiet: a Worker started before the tracking gets no log, not even in the cwd; one started after does', () => {
    const r = logStart({ quiet: true });
    expect(r.before).toEqual({ main: 0, workers: [] });
    expect(r.after.main).toBeGreaterThan(0);
    expect(r.after.workers).toHaveLength(1);
    expect(r.after.workers[0]).toBeGreaterThan(100);
    expect(readdirSync(r.cwd)).toEqual([]);
  });
});

describe.skipIf(!native)('inline frames off, saying why once', () => {
  // The logs below are planted whole, as this thread's; code is tracked first, with no log set,
  // as a worker tracks it before its benchmarks.
  beforeAll(() => {
    expect(trackCode('event=task-clock')).toBe(true);
  });

  const isolate = (): string => {
    const s = (createRequire(import.meta.url)('@perfprofile/native') as { status(): Status }).status();
    if (!s.ok) throw new Error(s.reason);
    return s.binding.isolateAddress();
  };

  /** A native profile of inline.mjs's loop in this process, with PERFPROFILE_V8_LOG set to `logfile`. */
  async function profileWith(logfile: string): Promise<{ profile: Profile; warnings: readonly string[] }> {
    const { run } = await import(pathToFileURL(fixture('inline.mjs')).href);
    const saved = process.env[V8_LOG_ENV];
    process.env[V8_LOG_ENV] = logfile;
    resetInlineNamer();
    try {
      const p = new CPUProfile('event=task-clock rate=2000');
      p.start();
      run(600);
      const { profile, stats } = p.stop()!;
      return { profile, warnings: stats.warnings };
    } finally {
      if (saved === undefined) delete process.env[V8_LOG_ENV];
      else process.env[V8_LOG_ENV] = saved;
      resetInlineNamer();
    }
  }

  /**
   * No chain from the log: `name` is there, and every inlined function is one inferred from V8's
   * line tables (inline-infer.test.ts checks those against the log), marked so, at or after its
   * start. (Lines are the module as Vitest's runner compiled it here, not the file's.)
   */
  function withoutLogChains(profile: Profile, name: string): void {
    const fn = new Map(profile.functions.map((f) => [f.id, f]));
    expect(profile.functions.some((f) => f.name === name)).toBe(true);
    for (const l of profile.locations) {
      for (const x of l.lines.slice(0, -1)) {
        const f = fn.get(x.functionId)!;
        expect(f.name.endsWith(INFERRED_SUFFIX), f.name).toBe(true);
        expect(['mix', 'twist', 'a', 'b', 'c'], f.name).toContain(f.name.slice(0, -INFERRED_SUFFIX.length));
        expect(x.line, f.name).toBeGreaterThanOrEqual(f.startLine);
      }
    }
  }

  it('a log the parser cannot read: one warning, no chain from it', async () => {
    // A real log of this node, one code-source-info record garbled, as this thread's own.
    const real = mkdtempSync(path.join(scratch, 'real-'));
    // The fixture tracks no code: its log must be written from the start.
    execFileSync(
      process.execPath,
      [...v8LogFlags(path.join(real, 'v8.log'), { fromStart: true }), fixture('inline.mjs')],
      {
        env: { ...process.env, PERFPROFILE_FIXTURE_MS: '300' },
      },
    );
    const text = readFileSync(isolateLogFiles(path.join(real, 'v8.log'))[0].path, 'latin1');
    const at = text.indexOf('\ncode-source-info,');
    expect(at).toBeGreaterThan(0);
    const garbled = text.slice(0, at) + text.slice(at).replace(/C(\d+)O/, 'C$1Q');
    const dir = mkdtempSync(path.join(scratch, 'garbled-'));
    writeFileSync(path.join(dir, `isolate-${isolate()}-${process.pid}-v8.log`), garbled, 'latin1');
    const { profile, warnings } = await profileWith(path.join(dir, 'v8.log'));
    expect(warnings.filter((w) => /inline/.test(w))).toEqual([
      expect.stringMatching(
        /^exact inline frames off: V8 log: code-source-info: bad positions .*inferred from V8's line tables/,
      ),
    ]);
    withoutLogChains(profile, 'caller');
  });

  it('no log for this isolate: one warning naming the flags, no chain from it', async () => {
    const { profile, warnings } = await profileWith(path.join(scratch, 'absent', 'v8.log'));
    expect(warnings.filter((w) => /inline/.test(w))).toEqual([
      expect.stringMatching(/^exact inline frames off: no V8 log for isolate 0x[0-9a-f]+ of process \d+ .*v8LogFlags/),
    ]);
    withoutLogChains(profile, 'caller');
  });
});
