#!/usr/bin/env node
/**
 * How noisy is `perfprofile check` on this machine? Runs fixtures/vitest4 N times unchanged
 * (and once with PERFPROFILE_FIXTURE_SLOW=1), then compares every ordered pair of unchanged runs
 * the way the gate does and prints, per benchmark: the largest self-share increase (pp, with its
 * z), the largest increase the gate counts (the smaller of self and total growth, with its z),
 * the largest counted z, and the largest per-op counter increases. The defaults of `check` must
 * sit above the unchanged figures and below the planted regression's.
 *
 *   node packages/cli/bench/gate-noise.mjs [runs=8] [--keep]
 *   node packages/cli/bench/gate-noise.mjs --from <dir kept by --keep>   # analyse again, no runs
 *
 * Needs built packages (dist/). Takes ~5 s per run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffProfiles, matchBenchmarks, readRunDir, shareGrowth } from '@perfprofile/core';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const VITEST_PERF = path.join(REPO, 'packages/vitest/dist/cli.js');
const FIXTURE = path.join(REPO, 'fixtures/vitest4');
const argv = process.argv.slice(2);
const from = argv.includes('--from') ? argv[argv.indexOf('--from') + 1] : undefined;
const runs = from ? readdirSync(from).filter((d) => /^run\d+$/.test(d)).length : Number(argv.find((a) => /^\d+$/.test(a)) ?? 8);
const keep = argv.includes('--keep') || from !== undefined;
const work = from ?? mkdtempSync(path.join(tmpdir(), 'perfprofile-noise-'));

function bench(name, slow = false) {
  const out = path.join(work, name);
  if (from && existsSync(out)) return readRunDir(out);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^VITEST|^TINYPOOL|^GITHUB_STEP_SUMMARY$/.test(k)));
  const r = spawnSync(process.execPath, [VITEST_PERF, 'bench', '--run', '--perfprofile', out], { cwd: FIXTURE, encoding: 'utf8', env: { ...env, NO_COLOR: '1', CI: '1', ...(slow ? { PERFPROFILE_FIXTURE_SLOW: '1' } : {}) } });
  if (r.status !== 0) throw new Error(`vitest-perf failed (${r.status}): ${r.stderr}`);
  process.stderr.write(`  ${name} done\n`);
  return readRunDir(out);
}

/** Per benchmark of head vs base: largest self increase, largest counted increase, largest z, counters. */
function compare(base, head) {
  const out = new Map();
  for (const [b, h] of matchBenchmarks(base, head).pairs) {
    const d = diffProfiles(base.load(b), head.load(h), { sampleIndex: 'samples' });
    const self = { pp: 0, z: 0, name: '' }, counted = { pp: 0, z: 0, name: '' }, maxZ = { pp: 0, z: 0 };
    for (const r of d.rows) {
      if (r.delta <= 0) continue;
      const g = shareGrowth(r, d.baseSamples, d.headSamples);
      if (r.delta > self.pp) Object.assign(self, { pp: r.delta, z: g.selfZ, name: r.name });
      if (g.increase > counted.pp) Object.assign(counted, { pp: g.increase, z: g.z, name: r.name });
      if (g.increase > 0 && g.z > maxZ.z) Object.assign(maxZ, { pp: g.increase, z: g.z });
    }
    const counters = {};
    for (const [k, before] of Object.entries(b.counters ?? {})) {
      const after = h.counters?.[k];
      if (before > 0 && after !== undefined) counters[k] = (after / before - 1) * 100;
    }
    out.set(b.fullName, { self, counted, maxZ, counters, samples: [d.baseSamples, d.headSamples] });
  }
  return out;
}

process.stderr.write(`gate noise: ${runs} unchanged runs + 1 slow run of fixtures/vitest4 in ${work}${keep ? ' (kept)' : ''}\n`);
const base = Array.from({ length: runs }, (_, i) => bench(`run${i + 1}`));
const slow = bench('slow', true);

const worst = new Map();
let pairs = 0;
const max = (w, key, c) => (c.pp > w[key].pp ? c : w[key]);
for (let i = 0; i < runs; i++) {
  for (let j = 0; j < runs; j++) {
    if (i === j) continue;
    pairs++;
    for (const [name, c] of compare(base[i], base[j])) {
      const w = worst.get(name) ?? { self: c.self, counted: c.counted, maxZ: c.maxZ, counters: {}, minSamples: Infinity };
      w.self = max(w, 'self', c.self);
      w.counted = max(w, 'counted', c.counted);
      if (c.maxZ.z > w.maxZ.z) w.maxZ = c.maxZ;
      for (const [k, v] of Object.entries(c.counters)) w.counters[k] = Math.max(w.counters[k] ?? -Infinity, v);
      w.minSamples = Math.min(w.minSamples, ...c.samples);
      worst.set(name, w);
    }
  }
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
const growth = (g) => `${g.name} +${f1(g.pp)} pp (z ${f1(g.z)})`;
const counterText = (counters) => Object.entries(counters).map(([k, v]) => `${k} ${v >= 0 ? '+' : ''}${f1(v)}%`).join(', ');
console.log(`\n## Unchanged runs: worst of ${pairs} ordered pairs (${runs} runs)\n`);
console.log('| benchmark | min samples | largest self-share increase | largest counted increase | largest counted z | largest counter increases |');
console.log('|---|---:|---|---|---:|---|');
for (const [name, w] of worst) {
  console.log(`| ${name} | ${w.minSamples} | ${growth(w.self)} | ${growth(w.counted)} | ${f1(w.maxZ.z)} (+${f1(w.maxZ.pp)} pp) | ${counterText(w.counters)} |`);
}
console.log(`\n## PERFPROFILE_FIXTURE_SLOW=1 against run1\n`);
console.log('| benchmark | largest self-share increase | largest counted increase | counter changes |');
console.log('|---|---|---|---|');
for (const [name, c] of compare(base[0], slow)) console.log(`| ${name} | ${growth(c.self)} | ${growth(c.counted)} | ${counterText(c.counters)} |`);
if (!keep) rmSync(work, { recursive: true, force: true });
