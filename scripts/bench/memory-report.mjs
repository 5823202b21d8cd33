// The memory section of `npm run bench` (scripts/bench.mjs): runs scripts/bench/memory.mjs and
// `vitest-perf bench` on the memory fixtures with alloc=off and alloc=on, alternating, and turns
// the figures into markdown and a goal row.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * All memory figures of this run. `h` carries bench.mjs's helpers: node(args, {cwd, env}),
 * lastJson(stdout), spread(xs) and the repo root.
 */
export function memoryBench(o, h) {
  const child = h.lastJson(
    h.node([
      path.join(h.REPO, 'scripts/bench/memory.mjs'),
      JSON.stringify({ pairs: o.memoryPairs, ms: o.units < 50 ? 40 : 150 }),
    ]),
  );
  const fixture = path.join(h.REPO, 'fixtures/vitest4');
  const cli = path.join(h.REPO, 'packages/vitest/dist/cli.js');
  const off = [],
    on = [],
    ratios = [],
    census = [];
  const once = (alloc) => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'perfprofile-bench-mem-'));
    const t0 = performance.now();
    h.node(
      [cli, 'bench', '--run', '--perfprofile', out, '--perfprofileconfig', `event=v8 alloc=${alloc ? 'on' : 'off'}`],
      { cwd: fixture, env: { FIXTURE_MEMORY: '1' } },
    );
    const ms = performance.now() - t0;
    const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8'));
    rmSync(out, { recursive: true, force: true });
    return { ms, index };
  };
  for (let i = 0; i < Math.max(1, o.vitestPairs); i++) {
    const [a, b] = i % 2 ? [once(false), once(true)] : [undefined, once(true)];
    const plain = a ?? once(false);
    off.push(plain.ms);
    on.push(b.ms);
    ratios.push(b.ms / plain.ms);
    for (const bench of plain.index.benchmarks)
      census.push({
        name: bench.fullName,
        ms: bench.memory?.censusMs ?? NaN,
        share: (bench.memory?.censusMs ?? NaN) / plain.ms,
      });
    if (i === 0)
      Object.assign(child, {
        fixtures: plain.index.benchmarks.map((x) => ({ name: x.fullName, ...x.memory })),
        heapCounter: plain.index.config.heapCounter,
      });
  }
  const med = (xs) => h.spread(xs).median;
  const censusByName = new Map();
  for (const c of census) censusByName.set(c.name, [...(censusByName.get(c.name) ?? []), c.ms]);
  return {
    ...child,
    vitest: {
      pairs: off.length,
      offMs: med(off),
      onMs: med(on),
      ratio: h.spread(ratios),
      censusMs: [...censusByName].map(([name, ms]) => ({ name, ms: med(ms) })),
      wallMs: med(off),
    },
  };
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const range = (s, f = f1) => `${f(s.median)} (${f(s.min)} … ${f(s.max)})`;

/** Worst cost the callbacks can add per workload: the per-GC bound × GCs per op ÷ ns per op, in %. */
function bound(mem, c) {
  return ((mem.perGcNs * c.gcPerOp) / c.nsPerOp) * 100;
}

export function memoryTables(mem) {
  const out = [
    `## Memory: GC callbacks in Vitest's measured pass (tinybench 2), ${mem.pairs} alternating pairs, ${mem.ms} ms passes`,
    '',
  ];
  out.push(
    "| workload | ns/op (on-CPU) | GCs/op | GC ns/op | ops/s change % wall, median (min … max) | on-CPU % | bound from the callbacks' cost per GC % |",
    '|---|---:|---:|---:|---|---:|---:|',
  );
  for (const c of mem.cost) {
    const name = c.control ? `${c.workload} (unchanged: noise floor)` : c.workload;
    out.push(
      `| ${name} | ${f1(c.nsPerOp)} | ${c.control ? '–' : c.gcPerOp.toExponential(1)} | ${c.control ? '–' : f1(c.gcNsPerOp)} | ${range(c.wall)} | ${f1(c.cpu.median)} | ${c.control ? '–' : f2(bound(mem, c))} |`,
    );
  }
  out.push(
    '',
    `The callbacks read V8's heap statistics before and after each collection; the same reads from JS (an upper bound: they also build JS objects) cost ${f1(mem.perGcNs / 1000)} µs per collection in this run.`,
    '',
  );
  out.push("## Memory: the allocation census and V8's own figures (bytes per op of the benchmark's function)", '');
  out.push(
    "| workload | truth | census (interval 1 B) | census ms (its ops, hooks, the full GC at its stop) | V8's sampler at 512 KiB, its own scaling (samples) |",
    '|---|---:|---:|---:|---:|',
  );
  for (const c of mem.census) {
    const s = mem.sampler.find((x) => x.workload === c.workload);
    out.push(
      `| ${c.workload} | ${c.truth ?? '–'} | ${f1(c.bytesPerOp)} | ${f1(c.ms)} | ${s ? `${f1(s.bytesPerOp)} (${s.samples})` : '–'} |`,
    );
  }
  if (mem.fixtures) {
    out.push('', `## Memory: fixtures/vitest4/extra/memory through vitest-perf (heap counter: ${mem.heapCounter})`, '');
    out.push(
      '| benchmark | B/op | allocs/op (± stderr) | external B/op | heap B/op of the measured pass (harness included) | GCs/op | GC ns/op |',
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const b of mem.fixtures)
      out.push(
        `| ${b.name} | ${b.bytesPerOp} | ${b.allocsPerOp} ± ${b.allocsPerOpStdErr} | ${b.externalBytesPerOp} | ${b.heapBytesPerOp} | ${b.gcCountPerOp} | ${b.gcNanosPerOp} |`,
      );
  }
  const v = mem.vitest;
  out.push('', `## Memory: alloc=on, vitest-perf on the memory fixtures, ${v.pairs} alternating pairs`, '');
  out.push(
    '| run | median wall ms |',
    '|---|---:|',
    `| alloc=off (census only) | ${Math.round(v.offMs)} |`,
    `| alloc=on (+ in-use census, profiles written) | ${Math.round(v.onMs)} |`,
    `| ratio | ${range(v.ratio, f2)} |`,
    '',
  );
  out.push(
    `Census wall time per benchmark (alloc=off): ${v.censusMs.map((c) => `${c.name.replace(/^memory > /, '')} ${f1(c.ms)} ms`).join(', ')}.`,
    '',
  );
  return out;
}

/** The goal row: the worst workload's bound (the direct A/B medians are in the table, with their noise floor). */
export function memoryGoal(mem) {
  if (!mem) return { figure: '–', met: undefined };
  const rows = mem.cost.filter((c) => !c.control);
  const worst = [...rows].sort((a, b) => bound(mem, b) - bound(mem, a))[0];
  const control = mem.cost.find((c) => c.control);
  return {
    figure: `≤ ${f2(bound(mem, worst))}% (${worst.workload}: ${worst.gcPerOp.toExponential(1)} GCs/op × ≤ ${f1(mem.perGcNs / 1000)} µs per GC); direct A/B, on-CPU: ${rows.map((c) => `${c.workload} ${f1(c.cpu.median)}%`).join(', ')}, unchanged ${f1(control?.cpu.median)}%`,
    met: bound(mem, worst) <= 1,
  };
}
