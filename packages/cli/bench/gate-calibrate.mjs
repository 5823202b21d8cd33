#!/usr/bin/env node
/**
 * Calibrates `perfprofile check` on fixtures/proving-ground, with its defaults (docs/CI.md):
 *
 * - false alarms: N unchanged runs of the whole suite; every ordered pair of single runs, and
 *   k-vs-k comparisons from windows of 2k consecutive runs (alternate runs to each side, both
 *   ways) — how many benchmarks each flags;
 * - sensitivity: one utility slowed by each percentage (PROVING_GROUND_SLOW=<fn>:<pct>, its own
 *   work repeated on pct% of calls), one benchmark only (-t), in `trials` trials of k slowed
 *   runs against k unchanged ones recorded alternately; a trial detects the slowdown when the
 *   benchmark fails and the report names <fn> among the functions that carry the increase.
 *
 *   node packages/cli/bench/gate-calibrate.mjs [--dir <dir>] [--null-runs 20] [--k 5]
 *     [--fn uniq] [--file uniq] [--bench "ours uniq 10k integers"] [--pcts 10,15,20,30]
 *     [--trials 10] [--time <ms>] [--analyze]
 *
 * --time sets every benchmark's measured time (PROVING_GROUND_TIME; the fixture's own: 150 ms).
 * Runs already in --dir are reused (the recording resumes); --analyze records nothing. Needs
 * built packages (dist/) and the fixture's dependencies (npm test installs them). Machine time:
 * one suite run is 1–2 min, one single-benchmark run ~5 s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkRuns, readRunDir } from '@perfprofile/core';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const VITEST_PERF = path.join(REPO, 'packages/vitest/dist/cli.js');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const o = {
  dir: path.resolve(option('dir', path.join(os.tmpdir(), 'perfprofile-calibration'))),
  fixture: path.resolve(option('fixture', path.join(REPO, 'fixtures/proving-ground'))),
  nullRuns: Number(option('null-runs', 20)),
  k: Number(option('k', 5)),
  fn: option('fn', 'uniq'),
  file: option('file', 'uniq'),
  bench: option('bench', 'ours uniq 10k integers'),
  pcts: option('pcts', '10,15,20,30')
    .split(',')
    .map(Number)
    .sort((a, b) => a - b),
  trials: Number(option('trials', 10)),
  time: option('time', ''),
  analyze: process.argv.includes('--analyze'),
};

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const log = (line) => process.stderr.write(`${line}\n`);

/** One `vitest-perf bench` run into `out`, unless a complete one is there. */
function record(out, env = {}, args = []) {
  if (
    existsSync(path.join(out, 'index.json')) &&
    JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8')).complete
  )
    return;
  if (o.analyze) throw new Error(`--analyze: ${out} is missing`);
  mkdirSync(path.dirname(out), { recursive: true });
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^VITEST|^TINYPOOL|^PROVING_GROUND|^GITHUB_STEP_SUMMARY$/.test(k)),
  );
  const time = o.time ? { PROVING_GROUND_TIME: o.time } : {};
  const r = spawnSync(process.execPath, [VITEST_PERF, 'bench', '--run', ...args, '--perfprofile', out], {
    cwd: o.fixture,
    encoding: 'utf8',
    env: { ...clean, NO_COLOR: '1', CI: '1', ...time, ...env },
  });
  if (r.status !== 0) throw new Error(`vitest-perf failed in ${out} (${r.status}): ${r.stderr.slice(-2000)}`);
  log(`  ${path.relative(o.dir, out)} (load ${load()})`);
}

const nullDir = (i) => path.join(o.dir, 'null', `run-${i}`);
const sensDir = (what, t, j) => path.join(o.dir, `sens-${o.fn}`, `${what}-${t}-${j}`);
const subset = ['-t', o.bench];
const subsetEnv = { PROVING_GROUND_FILES: o.file };

log(`gate calibration in ${o.dir} (load ${load()})`);
console.log(
  `Recorded ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${os.cpus().length} CPUs, load average ${load()} at the start; benchmark time ${o.time ? `${o.time} ms` : "the fixture's own"}.\n`,
);
const started = Date.now();
for (let i = 1; i <= o.nullRuns; i++) record(nullDir(i));
for (let t = 1; t <= o.trials; t++) {
  for (let j = 1; j <= o.k; j++) {
    // Alternating unchanged and slowed runs: a drift of the machine falls on both sides alike.
    record(sensDir('base', t, j), subsetEnv, subset);
    for (const pct of o.pcts)
      record(sensDir(`slow${pct}`, t, j), { ...subsetEnv, PROVING_GROUND_SLOW: `${o.fn}:${pct}` }, subset);
  }
}
log(`recorded in ${((Date.now() - started) / 60_000).toFixed(1)} min (load ${load()})`);

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const pct = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- false alarms -------------------------------------------------------------------------
const runs = Array.from({ length: o.nullRuns }, (_, i) => readRunDir(nullDir(i + 1)));
const comparisons = [];
for (let a = 0; a < runs.length; a++)
  for (let b = 0; b < runs.length; b++) if (a !== b) comparisons.push({ k: 1, base: [runs[a]], head: [runs[b]] });
for (let s = 0; s + 2 * o.k <= runs.length; s += 2) {
  const w = runs.slice(s, s + 2 * o.k);
  const even = w.filter((_, i) => i % 2 === 0),
    odd = w.filter((_, i) => i % 2 === 1);
  comparisons.push({ k: o.k, base: even, head: odd }, { k: o.k, base: odd, head: even });
}
console.log(`## False alarms: ${o.nullRuns} unchanged runs of the proving ground, defaults\n`);
console.log(
  '| runs a side | comparisons | benchmarks each | benchmarks flagged | largest increase seen (its z) | noise per run, median | smallest flaggable increase, median |',
);
console.log('|---:|---:|---:|---:|---|---:|---:|');
for (const k of [...new Set(comparisons.map((c) => c.k))]) {
  const rs = comparisons.filter((c) => c.k === k).map((c) => checkRuns(c.base, c.head));
  const flagged = rs.flatMap((r) => r.benchmarks.filter((b) => b.regressions.length).map((b) => b.fullName));
  const worst = rs.flatMap((r) => r.benchmarks).reduce((w, b) => (b.time.change > w.time.change ? b : w));
  const what =
    k === 1 ? `every ordered pair of ${o.nullRuns} runs` : `windows of ${2 * k} runs, alternate runs a side, both ways`;
  console.log(
    `| ${k} | ${rs.length} (${what}) | ${rs[0].benchmarks.length} | ${flagged.length}${flagged.length ? `: ${[...new Set(flagged)].join(', ')}` : ''} | ${pct(worst.time.change)} ${worst.fullName} (z ${f1(worst.time.z)}) | ±${f1(100 * median(rs.map((r) => r.limits.noise)))}% | ${pct(median(rs.map((r) => r.limits.detectable)))} |`,
  );
}

// ---- sensitivity --------------------------------------------------------------------------
console.log(`\n## Sensitivity: \`${o.fn}\` slowed in "${o.bench}", ${o.k} runs a side, ${o.trials} trials\n`);
console.log(
  `| slowdown | detected (benchmark failed, \`${o.fn}\` named) | measured change, median | z, median | p, median | named |`,
);
console.log('|---:|---:|---:|---:|---:|---|');
let smallest;
for (const p of o.pcts) {
  const trials = Array.from({ length: o.trials }, (_, t) => {
    const side = (what) => Array.from({ length: o.k }, (_, j) => readRunDir(sensDir(what, t + 1, j + 1)));
    const b = checkRuns(side('base'), side(`slow${p}`)).benchmarks[0];
    return { b, detected: b.regressions.length > 0 && b.carriers.some((c) => c.name === o.fn) };
  });
  const hits = trials.filter((t) => t.detected).length;
  if (hits >= Math.ceil(0.9 * o.trials) && smallest === undefined) smallest = p;
  const named = [
    ...new Set(
      trials
        .filter((t) => t.b.regressions.length)
        .map((t) => [...t.b.carriers.map((c) => c.name)].join(' → ') || '(none)'),
    ),
  ].join('; ');
  console.log(
    `| +${p}% | ${hits}/${o.trials} | ${pct(median(trials.map((t) => t.b.time.change)))} | ${f1(median(trials.map((t) => t.b.time.z)))} | ${median(trials.map((t) => t.b.time.p ?? 1)).toFixed(3)} | ${named} |`,
  );
}
console.log(
  `\nSmallest slowdown detected in at least 9 of 10 trials: ${smallest === undefined ? `none of ${o.pcts.map((p) => `+${p}%`).join(', ')}` : `+${smallest}%`}.`,
);
console.log(`Load average at the end: ${load()} (${os.cpus().length} CPUs).`);
