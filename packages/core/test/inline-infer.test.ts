// Inlined functions inferred without V8's code log, from its JIT code events' line tables:
// precision against the exact chains of the log in the same run (fixtures/inline/compare.mjs),
// and a CPUProfile in a node started without the log flags, checked against lines found in the
// fixture sources. Run by scripts/compat.mjs on Node 22 and 24 too (inline*.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decode } from '../src/decode.js';
import { inlineLaunch, V8_LOG_ENV } from '../src/inline/v8-log-file.js';
import type { Profile } from '../src/model.js';
import { nativeStatus } from '../src/sources/native.js';
import { INFERRED_SUFFIX } from '../src/sources/native-stacks.js';
import { needs, toolPath } from '../../../scripts/tools.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = (name: string): string => path.join(root, 'fixtures/inline', name);
const source = (name: string): string => readFileSync(fixture(name), 'utf8');
const scratch = mkdtempSync(path.join(tmpdir(), 'perfprofile-infer-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const native = nativeStatus().ok;
/** This process's env without the variable that points native sources at a V8 log. */
const envWithoutLog: NodeJS.ProcessEnv = { ...process.env };
delete envWithoutLog[V8_LOG_ENV];

/** 1-based line of the only line of fixture `file` containing `marker`. */
function lineOf(file: string, marker: string): number {
  const hits = source(file)
    .split('\n')
    .flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  expect(hits, marker).toHaveLength(1);
  return hits[0];
}

/** Lines of `function <name>(` to its closing `}` at column 0 in fixture `file`. */
function rangeOf(file: string, name: string): number[] {
  const lines = source(file).split('\n');
  const start = lines.findIndex((l) => new RegExp(`function ${name}\\(`).test(l));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('}'));
  expect(start, name).toBeGreaterThanOrEqual(0);
  return Array.from({ length: end - start + 1 }, (_, i) => start + 1 + i);
}

/** Samples per location text `name@file:line < ...` (innermost first), at any depth. */
function locations(p: Profile): Map<string, number> {
  const fn = new Map(p.functions.map((f) => [f.id, f]));
  const text = new Map(
    p.locations.map((l) => [
      l.id,
      l.lines
        .map((x) => `${fn.get(x.functionId)!.name}@${path.basename(fn.get(x.functionId)!.filename)}:${x.line}`)
        .join(' < '),
    ]),
  );
  const out = new Map<string, number>();
  for (const s of p.samples)
    for (const id of new Set(s.locationIds)) out.set(text.get(id)!, (out.get(text.get(id)!) ?? 0) + s.values[0]);
  return out;
}

/** Frames in optimized code, weighted by samples: named by the log, and what inference said of them. */
interface TierCounts {
  frames: number;
  logNamed: number;
  /** The log has an inlined function at the frame's pc. */
  inlinedTruth: number;
  /** Inference named an inlined function (inferredRight: the log's innermost, at its line). */
  inferred: number;
  inferredRight: number;
  /** Inference gave the frame its own line (ownRight: the log has no inlined function there, same line). */
  own: number;
  ownRight: number;
}
interface Comparison {
  tiers: Record<string, TierCounts>;
  /** By the log's innermost inlined function (`name@file`): samples, and those inference named or gave a line. */
  inlinees: Record<string, { n: number; turbofan: number; inferred: number; own: number }>;
  wrong: { n: number; said: string; truth: string }[];
}

describe.skipIf(!native)(`inline frames inferred without V8's log (Node ${process.version})`, () => {
  it("agrees with the log's exact chains: ≥ 99% of confident names right, ambiguous twins and coincident offsets left to the caller, ≥ 90% of unambiguous inlinees named", () => {
    const launch = inlineLaunch(mkdtempSync(path.join(scratch, 'log-')));
    const stdout = execFileSync(process.execPath, [...launch.execArgv, fixture('compare.mjs')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        ...launch.env,
        PERFPROFILE_FIXTURE_MS: '2000',
        PERFPROFILE_CORE_DIST: path.join(root, 'packages/core/dist'),
      },
    });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as Comparison;
    const shown = JSON.stringify(r);
    const none = { n: 0, turbofan: 0, inferred: 0, own: 0 };
    // Confident names (an inferred inlinee, or the frame's own line) are right, in every tier
    // (≥ 99%: one wrong frame-sample in ~15,000 was seen once, docs/PERFORMANCE.md)...
    for (const t of Object.values(r.tiers)) {
      expect(t.logNamed / t.frames, shown).toBeGreaterThan(0.9);
      const confident = t.inferred + t.own;
      expect(t.inferredRight + t.ownRight, shown).toBeGreaterThanOrEqual(0.99 * confident);
    }
    // ...and TurboFan frames mostly get one: the inlined functions, and the lines of the rest.
    // (Maglev code on Node 24 has no line table: its frames stay function-level.)
    // Byte-identical twins in two files (copies.mjs) are ambiguous: their frames stay the caller's.
    const twins = ['twin@twin-a.mjs', 'twin@twin-b.mjs'].map((k) => r.inlinees[k] ?? none);
    for (const t of twins) {
      expect(t.n, shown).toBeGreaterThan(0);
      expect(t.inferred + t.own, shown).toBe(0);
    }
    // first() is inlined with no bytecode table of it held (compiled before code was tracked),
    // and whole() in another file holds two of its offsets: no name is certain there.
    const first = r.inlinees['first@first.mjs'] ?? none;
    expect(first.n, shown).toBeGreaterThan(0);
    expect(first.inferred + first.own, shown).toBe(0);
    const tf = r.tiers.turbofan;
    const unambiguous = tf.inlinedTruth - [...twins, first].reduce((a, t) => a + t.turbofan, 0);
    expect(unambiguous, shown).toBeGreaterThan(0);
    expect(tf.inferred / unambiguous, shown).toBeGreaterThan(0.9);
    expect((tf.inferred + tf.own) / (tf.logNamed - (tf.inlinedTruth - unambiguous)), shown).toBeGreaterThan(0.9);
  });

  const out = path.join(scratch, 'infer.pb.gz');
  let profile: Profile | undefined;
  const inferredProfile = (): Profile => {
    if (profile) return profile;
    const stdout = execFileSync(process.execPath, [fixture('infer-profile.mjs')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...envWithoutLog,
        PERFPROFILE_FIXTURE_MS: '2000',
        PERFPROFILE_INFER_OUT: out,
        PERFPROFILE_CORE_URL: pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href,
      },
    });
    expect(JSON.parse(stdout.trim().split('\n').pop()!).warnings).toEqual([]);
    return (profile = decode(readFileSync(out)));
  };

  it('a CPUProfile without the log: inferred inlinees at their lines, the caller at its call lines', () => {
    const locs = locations(inferredProfile());
    const shown = [...locs].map(([k, v]) => `${v} ${k}`).join('\n');
    const callerStart = rangeOf('inline.mjs', 'caller')[0];
    const inferred = (fn: string, file = 'inline.mjs') =>
      new RegExp(
        `^${fn}${INFERRED_SUFFIX.replace(/[()]/g, '\\$&')}@${file.replace('.', '\\.')}:(${rangeOf(file, fn).join('|')}) < caller@inline\\.mjs:${callerStart}$`,
      );
    const weight = (re: RegExp) => [...locs].filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);
    expect(weight(inferred('mix')), shown).toBeGreaterThan(0);
    expect(weight(inferred('twist', 'other.mjs')), shown).toBeGreaterThan(0);
    // No inferred name outside its function's lines, for any function.
    for (const [k] of locs) {
      const m = new RegExp(`^(\\w+)${INFERRED_SUFFIX.replace(/[()]/g, '\\$&')}@([\\w.]+):(\\d+)`).exec(k);
      if (m) expect(rangeOf(m[2], m[1]), k).toContain(Number(m[3]));
    }
    // The caller's own code at its loop's lines, not only at its first line.
    const callLines = ['call:mix', 'call:twist', 'call:a'].map((m) => lineOf('inline.mjs', m));
    const atLoop = [...locs]
      .filter(([k]) => new RegExp(`^caller@inline\\.mjs:(\\d+)$`).test(k))
      .filter(([k]) => Number(k.split(':').pop()) !== callerStart);
    expect(atLoop.length, shown).toBeGreaterThan(0);
    for (const [k] of atLoop) expect(rangeOf('inline.mjs', 'caller'), k).toContain(Number(k.split(':').pop()));
    expect(
      atLoop.some(([k]) => callLines.includes(Number(k.split(':').pop()))),
      shown,
    ).toBe(true);
  });

  it('go tool pprof -top names the inferred inlinee as a function, marked', needs('go'), () => {
    inferredProfile();
    const top = execFileSync(toolPath('go'), ['tool', 'pprof', '-top', '-nodecount=40', out], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(top).toMatch(/^\s*[\d.]+\w*\s+[\d.]+%.*\smix \(inferred\)( \(inline\))?$/m);
  });
});
