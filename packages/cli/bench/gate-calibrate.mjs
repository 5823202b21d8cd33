#!/usr/bin/env node
/**
 * Calibrates `perfprofile check` on fixtures/proving-ground, with its defaults (docs/CI.md), in
 * one command that fits a budget of wall time, and prints the summary as Markdown to paste:
 *
 * - false alarms: N unchanged runs of the whole suite (63 benchmarks), each reused in several
 *   comparisons: every ordered pair of single runs, and k-vs-k comparisons of null-k runs a side:
 *   windows of 2·null-k consecutive runs with alternate runs to each side (as the workflow
 *   records them), both ways — how many benchmarks each flags; --all-splits adds every split
 *   of runs 1–2·null-k (a harder test: one side may be the first half, the other the second);
 * - sensitivity: one utility slowed by each percentage (PROVING_GROUND_SLOW=<fn>:<pct>, its own
 *   work repeated on pct% of calls), one benchmark only (-t), in `trials` trials of k slowed
 *   runs against k unchanged ones recorded alternately (the unchanged runs of a trial serve every
 *   percentage); a trial detects the slowdown when the benchmark fails and the report names <fn>
 *   among the functions that carry the increase.
 *
 *   node packages/cli/bench/gate-calibrate.mjs [--dir <dir>] [--null-runs 6] [--null-k 3]
 *     [--k 5] [--fn uniq] [--file uniq] [--bench "ours uniq 10k integers"]
 *     [--pcts 10,15,20,30] [--trials 10] [--time <ms>] [--budget 25] [--analyze] [--all-splits]
 *
 * --time sets every benchmark's measured time (PROVING_GROUND_TIME; the fixture's own: 150 ms).
 * Runs already in --dir are reused (the recording resumes); --analyze records nothing. Each
 * recorded run's wall time and load average go to <dir>/runs.jsonl; after each run the
 * projected total is printed on stderr, with a warning when it passes --budget minutes. Needs
 * built packages (dist/) and the fixture's dependencies (npm ci in fixtures/proving-ground).
 * Runs are recorded one at a time (two at once would be each other's noise), the runs of the
 * whole suite spread among the trials, the first of each kind first, so the projection is
 * known within minutes (Ctrl-C and a smaller plan if it is over budget; recorded runs stay).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkRuns, codeNsPerOp, measureRun, readRunDir, timeSource } from '@perfprofile/core';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const VITEST_PERF = path.join(REPO, 'packages/vitest/dist/cli.js');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const o = {
  dir: path.resolve(option('dir', path.join(os.tmpdir(), 'perfprofile-calibration'))),
  fixture: path.resolve(option('fixture', path.join(REPO, 'fixtures/proving-ground'))),
  nullRuns: Number(option('null-runs', 6)),
  nullK: Number(option('null-k', 3)),
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
  budget: Number(option('budget', 25)),
  allSplits: process.argv.includes('--all-splits'),
  analyze: process.argv.includes('--analyze'),
};

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const log = (line) => process.stderr.write(`${line}\n`);
const journal = path.join(o.dir, 'runs.jsonl');

const nullDir = (i) => path.join(o.dir, 'null', `run-${i}`);
const sensDir = (what, t, j) => path.join(o.dir, `sens-${o.fn}`, `${what}-${t}-${j}`);
const subset = ['-t', o.bench];
const subsetEnv = { PROVING_GROUND_FILES: o.file };

// The plan, in recording order: per trial k alternations of base and each slowdown, with the
// runs of the whole suite spread among the trials (the first one first), so both kinds are timed
// within the first minutes and the unchanged runs sample the whole session.
const plan = [];
for (let t = 1, i = 1; t <= o.trials || i <= o.nullRuns; t++) {
  for (; i <= o.nullRuns && (i - 1) * Math.max(1, o.trials) < t * o.nullRuns; i++)
    plan.push({ kind: 'suite', out: nullDir(i), env: {}, args: [] });
  for (let j = 1; t <= o.trials && j <= o.k; j++) {
    // Alternating unchanged and slowed runs: a drift of the machine falls on both sides alike.
    plan.push({ kind: 'single', out: sensDir('base', t, j), env: subsetEnv, args: subset });
    for (const pct of o.pcts)
      plan.push({
        kind: 'single',
        out: sensDir(`slow${pct}`, t, j),
        env: { ...subsetEnv, PROVING_GROUND_SLOW: `${o.fn}:${pct}` },
        args: subset,
      });
  }
}

const complete = (out) =>
  existsSync(path.join(out, 'index.json')) && JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8')).complete;

/** Wall seconds of earlier runs of each kind (this and earlier sessions), for the projection. */
const seconds = { suite: [], single: [] };
if (existsSync(journal))
  for (const line of readFileSync(journal, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    seconds[r.kind]?.push(r.seconds);
  }
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
// Until a kind has been timed: a quiet machine's, from the CPU time such runs took (docs/CI.md).
const guess = { suite: 60, single: 3.5 };
const perRun = (kind) => (seconds[kind].length ? mean(seconds[kind]) : guess[kind]);

/** One `vitest-perf bench` run into `out`, unless a complete one is there. */
function record({ kind, out, env, args }) {
  if (complete(out)) return false;
  if (o.analyze) throw new Error(`--analyze: ${out} is missing`);
  mkdirSync(path.dirname(out), { recursive: true });
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^VITEST|^TINYPOOL|^PROVING_GROUND|^GITHUB_STEP_SUMMARY$/.test(k)),
  );
  const time = o.time ? { PROVING_GROUND_TIME: o.time } : {};
  const started = Date.now();
  const r = spawnSync(process.execPath, [VITEST_PERF, 'bench', '--run', ...args, '--perfprofile', out], {
    cwd: o.fixture,
    encoding: 'utf8',
    env: { ...clean, NO_COLOR: '1', CI: '1', ...time, ...env },
  });
  if (r.status !== 0) throw new Error(`vitest-perf failed in ${out} (${r.status}): ${r.stderr.slice(-2000)}`);
  const s = (Date.now() - started) / 1000;
  seconds[kind].push(s);
  mkdirSync(o.dir, { recursive: true });
  appendFileSync(
    journal,
    `${JSON.stringify({ kind, out: path.relative(o.dir, out), seconds: s, load: os.loadavg(), at: new Date(started).toISOString() })}\n`,
  );
  return true;
}

const started = Date.now();
const left = () => plan.filter((p) => !complete(p.out));
{
  const todo = left();
  const projected = todo.reduce((a, p) => a + perRun(p.kind), 0) / 60;
  log(
    `gate calibration in ${o.dir} (load ${load()}): ${todo.length} of ${plan.length} runs to record ` +
      `(${todo.filter((p) => p.kind === 'suite').length} of the whole suite), about ${projected.toFixed(1)} min`,
  );
  if (projected > o.budget && !o.analyze)
    log(`  that is over the budget of ${o.budget} min: fewer --trials, --pcts or --null-runs, or a quieter machine`);
}
let warned = false;
for (const [n, p] of plan.entries()) {
  if (!record(p)) continue;
  const spent = (Date.now() - started) / 60_000;
  const rest = plan.slice(n + 1).filter((q) => !complete(q.out));
  const eta = rest.reduce((a, q) => a + perRun(q.kind), 0) / 60;
  log(
    `  ${path.relative(o.dir, p.out)}: ${seconds[p.kind].at(-1).toFixed(1)} s (load ${load()}); ${rest.length} left, ~${eta.toFixed(1)} min`,
  );
  if (!warned && spent + eta > o.budget) {
    warned = true;
    log(`  projected ${(spent + eta).toFixed(1)} min in all: over the budget of ${o.budget} min`);
  }
}
const recordedMin = (Date.now() - started) / 60_000;
log(`recorded in ${recordedMin.toFixed(1)} min (load ${load()})`);

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const pct = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sdLog = (v) => {
  const l = v.map(Math.log);
  const m = mean(l);
  return Math.sqrt(l.reduce((a, x) => a + (x - m) ** 2, 0) / (l.length - 1));
};
/** Every way to choose k of 0..n-1, in lexicographic order. */
function* subsets(n, k, from = 0, chosen = []) {
  if (chosen.length === k) yield chosen;
  else for (let i = from; i < n; i++) yield* subsets(n, k, i + 1, [...chosen, i]);
}

console.log(
  `Recorded ${new Date(started).toISOString().slice(0, 16)}Z, Node ${process.version}, ${os.cpus().length} CPUs ` +
    `(${os.cpus()[0]?.model.trim()}); load average ${load()} at the end; benchmark time ` +
    `${o.time ? `${o.time} ms` : "the fixture's own (150 ms, 100 ms for tiny inputs)"}.`,
);
if (seconds.suite.length || seconds.single.length)
  console.log(
    `Wall time per run, mean: whole suite ${seconds.suite.length ? `${f1(mean(seconds.suite))} s` : '–'}, one benchmark ${seconds.single.length ? `${f1(mean(seconds.single))} s` : '–'}; recorded now: ${recordedMin.toFixed(1)} min.\n`,
  );

// ---- false alarms -------------------------------------------------------------------------
/** A run whose profiles are decoded once, however many comparisons read them. */
function cached(run) {
  const profiles = new Map();
  return { ...run, load: (b) => profiles.get(b.id) ?? profiles.set(b.id, run.load(b)).get(b.id) };
}
const runs = Array.from({ length: o.nullRuns }, (_, i) => cached(readRunDir(nullDir(i + 1))));
const comparisons = [];
for (let a = 0; a < runs.length; a++)
  for (let b = 0; b < runs.length; b++) if (a !== b) comparisons.push({ k: 1, base: [runs[a]], head: [runs[b]] });
// As the workflow records them: 2k consecutive runs, alternate runs to each side, both ways.
for (let s = 0; o.nullK > 1 && s + 2 * o.nullK <= runs.length; s++) {
  const w = runs.slice(s, s + 2 * o.nullK);
  const even = w.filter((_, i) => i % 2 === 0),
    odd = w.filter((_, i) => i % 2 === 1);
  comparisons.push(
    { k: o.nullK, what: 'alternate', base: even, head: odd },
    { k: o.nullK, what: 'alternate', base: odd, head: even },
  );
}
// A harder test than any workflow makes: every split of runs 1–2k, drift between halves included.
if (o.allSplits && runs.length >= 2 * o.nullK)
  for (const side of subsets(2 * o.nullK, o.nullK))
    comparisons.push({
      k: o.nullK,
      what: 'split',
      base: side.map((i) => runs[i]),
      head: runs.slice(0, 2 * o.nullK).filter((_, i) => !side.includes(i)),
    });
if (runs.length) {
  console.log(`## False alarms: ${o.nullRuns} unchanged runs of the proving ground, defaults\n`);
  console.log(
    '| runs a side | comparisons | benchmarks each | benchmarks flagged | largest increase seen (its z) | largest z (its increase) | noise per run, median | smallest flaggable increase, median |',
  );
  console.log('|---:|---|---:|---:|---|---|---:|---:|');
}
for (const [k, kind] of [...new Set(comparisons.map((c) => `${c.k} ${c.what ?? ''}`))].map((x) => x.split(' '))) {
  const rs = comparisons
    .filter((c) => c.k === Number(k) && (c.what ?? '') === kind)
    .map((c) => checkRuns(c.base, c.head));
  const flagged = rs.flatMap((r) => r.benchmarks.filter((b) => b.regressions.length).map((b) => b.fullName));
  const all = rs.flatMap((r) => r.benchmarks);
  const worst = all.reduce((w, b) => (b.time.change > w.time.change ? b : w));
  const top = all.reduce((w, b) => (b.time.z > w.time.z ? b : w));
  const what =
    kind === 'split'
      ? `${rs.length}: every split of runs 1–${2 * k} into two sides of ${k} (harder than a workflow)`
      : kind === 'alternate'
        ? `${rs.length}: windows of ${2 * k} consecutive runs, alternate runs a side, both ways`
        : `${rs.length}: every ordered pair of ${o.nullRuns} runs`;
  console.log(
    `| ${k} | ${what} | ${rs[0].benchmarks.length} | **${flagged.length}**${flagged.length ? `: ${[...new Set(flagged)].join(', ')}` : ''} | ${pct(worst.time.change)} \`${worst.fullName}\` (z ${f1(worst.time.z)}) | ${f1(top.time.z)} \`${top.fullName}\` (${pct(top.time.change)}) | ±${f1(100 * median(rs.map((r) => r.limits.noise)))}% | ${pct(median(rs.map((r) => r.limits.detectable)))} |`,
  );
}

// ---- sensitivity --------------------------------------------------------------------------
if (o.trials) {
  console.log(
    `\n## Sensitivity: \`${o.fn}\` slowed in "${o.bench}", ${o.k} runs a side, ${o.trials} trials, defaults\n`,
  );
  // The benchmark's own run-to-run noise from the unchanged runs: within trials (what a trial's
  // test sees) and over all of them; and how far consecutive base and slowed runs move together.
  const sides = new Map();
  const side = (what, t) => {
    const key = `${what}-${t}`;
    if (!sides.has(key))
      sides.set(
        key,
        Array.from({ length: o.k }, (_, j) => cached(readRunDir(sensDir(what, t, j + 1)))),
      );
    return sides.get(key);
  };
  // The time check gates (the profiled pass's CPU time when every run has it), and the measured
  // pass's for comparison.
  const measures = new WeakMap();
  const measure = (r) => measures.get(r) ?? measures.set(r, measureRun(r, r.benchmarks[0])).get(r);
  const runsOf = (what) => Array.from({ length: o.trials }, (_, t) => side(what, t + 1)).flat();
  const source = timeSource([...runsOf('base'), ...o.pcts.flatMap((p) => runsOf(`slow${p}`))].map(measure));
  const ns = (r, from = source) => codeNsPerOp(measure(r), from);
  const bases = Array.from({ length: o.trials }, (_, t) => side('base', t + 1).map((r) => ns(r)));
  const within = Math.sqrt(mean(bases.map((v) => sdLog(v) ** 2)));
  const measuredWithin = Math.sqrt(
    mean(Array.from({ length: o.trials }, (_, t) => sdLog(side('base', t + 1).map((r) => ns(r, 'task-clock'))) ** 2)),
  );
  const corr = (() => {
    // Within-trial deviations, so the slowdown and trial-to-trial drift do not count as agreement.
    const dev = (v) => v.map((x) => x - mean(v));
    const byTrial = [];
    for (let t = 0; t < o.trials; t++) {
      const b = bases[t].map(Math.log);
      for (const p of o.pcts) {
        const s = side(`slow${p}`, t + 1).map((r) => Math.log(ns(r)));
        byTrial.push(...dev(b).map((x, j) => [x, dev(s)[j]]));
      }
    }
    const sxy = byTrial.reduce((a, [x, y]) => a + x * y, 0);
    const sxx = byTrial.reduce((a, [x]) => a + x * x, 0);
    const syy = byTrial.reduce((a, [, y]) => a + y * y, 0);
    return { r: sxy / Math.sqrt(sxx * syy), n: byTrial.length };
  })();
  const pass =
    source === 'profiled'
      ? `the profiled pass's CPU time (the measured pass's: ±${f1(100 * measuredWithin)}% within a trial)`
      : `the ${source === 'wall' ? 'wall' : "measured pass's CPU"} time (not every run here counted the profiled pass)`;
  console.log(
    `Unchanged runs of the benchmark: ${f1(median(bases.flat()) / 1000)} µs per op outside the harness (median), ` +
      `noise per run ±${f1(100 * within)}% within a trial, ±${f1(100 * sdLog(bases.flat()))}% over all ${bases.flat().length}, in ${pass}; ` +
      `base and slowed runs recorded back to back correlate ${corr.r.toFixed(2)} (${corr.n} pairs, deviations from each trial's mean). ` +
      `At that noise, +15% clears the default bar of 4 standard errors with about ${plural(Math.ceil(2 * ((4 * within) / Math.log(1.15)) ** 2), 'run')} a side.\n`,
  );
  console.log(
    `| slowdown | detected (time per op failed, \`${o.fn}\` named) | measured change, median | z, median | p, median | failed on (trials) | named, where time failed |`,
  );
  console.log('|---:|---:|---:|---:|---:|---|---|');
  let smallest;
  for (const p of o.pcts) {
    const trials = Array.from({ length: o.trials }, (_, t) => {
      const b = checkRuns(side('base', t + 1), side(`slow${p}`, t + 1)).benchmarks[0];
      const timeFailed = b.regressions.some((f) => f.kind === 'time');
      return { b, timeFailed, detected: timeFailed && b.carriers.some((c) => c.name === o.fn) };
    });
    const hits = trials.filter((t) => t.detected).length;
    if (hits >= Math.ceil(0.9 * o.trials) && smallest === undefined) smallest = p;
    // Memory per op can fail too: the injected repeat allocates what the utility allocates.
    const kinds = new Map();
    for (const t of trials)
      for (const n of new Set(t.b.regressions.map((f) => f.name))) kinds.set(n, (kinds.get(n) ?? 0) + 1);
    const named = [
      ...new Set(
        trials.filter((t) => t.timeFailed).map((t) => t.b.carriers.map((c) => c.name).join(' → ') || '(none)'),
      ),
    ].join('; ');
    console.log(
      `| +${p}% | ${hits}/${o.trials} | ${pct(median(trials.map((t) => t.b.time.change)))} | ${f1(median(trials.map((t) => t.b.time.z)))} | ${median(trials.map((t) => t.b.time.p ?? 1)).toFixed(3)} | ${[...kinds].map(([n, c]) => `${n} ${c}`).join(', ') || '–'} | ${named} |`,
    );
  }
  console.log(
    `\nSmallest slowdown detected in at least ${Math.ceil(0.9 * o.trials)} of ${o.trials} trials: ${smallest === undefined ? `none of ${o.pcts.map((p) => `+${p}%`).join(', ')}` : `+${smallest}%`}.`,
  );
}
console.log(`Load average at the end: ${load()} (${os.cpus().length} CPUs).`);
