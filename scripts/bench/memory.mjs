// The memory child of the harness: what memory accounting costs and what V8's own figures say,
// in this process, on tinybench 2 (Vitest 4's harness) with four workloads of known allocation.
// Prints one JSON line.
//
//   node scripts/bench/memory.mjs '{"pairs":9,"ms":150}'
//
//   cost:    Vitest's measured pass with and without the GC callbacks around it (what the
//            worker adds), alternating, throughput and on-CPU ns per op; an unchanged pair as
//            the noise floor.
//   perGcNs: an upper bound of the callbacks' cost per collection (the same reads from JS).
//   census:  the wall time of one allocation census (as the worker runs it) per workload.
//   sampler: V8's heap sampler at its default interval against the census and the truth.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { pathToFileURL } from 'node:url';
import { allocTotals, heapSamples, startHeapSampling, startMemoryWindow } from '../../packages/core/dist/index.js';

const opts = JSON.parse(process.argv[2] ?? '{}');
const PAIRS = opts.pairs ?? 9;
const MS = opts.ms ?? 150;
const require = createRequire(import.meta.url);
const tinybench = require.resolve('tinybench', { paths: [require.resolve('vitest/package.json')] });
const { Bench } = await import(pathToFileURL(tinybench).href);

const onCpuNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

const ring = new Array(16).fill(null);
let n = 0;
// name → [function, JS heap bytes one op allocates on Node's x64 builds]
const WORKLOADS = {
  nothing: [
    function allocNothing() {
      n = (n + 1) | 0;
    },
    0,
  ],
  object: [
    function allocObject() {
      ring[n++ & 15] = { a: n, b: n, c: n };
    },
    48,
  ],
  'array 1024': [
    function allocArray() {
      ring[n++ & 15] = new Array(1024).fill(n);
    },
    8240,
  ],
  'float64array 1024': [
    function allocTypedArray() {
      ring[n++ & 15] = new Float64Array(1024);
    },
    undefined,
  ],
};

/** One tinybench task per workload; `pass(hooks)` runs Vitest's measured pass once more. */
function task(fn) {
  let hooks = {};
  const bench = new Bench({ time: MS, warmupTime: 50, now: () => performance.now() });
  bench.add('w', fn, { beforeAll: () => hooks.before?.(), afterAll: () => hooks.after?.() });
  const t = bench.tasks[0];
  return {
    warmup: () => bench.warmup(),
    async pass(h = {}) {
      hooks = h;
      t.reset();
      const c0 = onCpuNs();
      await t.run();
      return { hz: t.result.hz, cpuNsPerOp: (onCpuNs() - c0) / t.runs, runs: t.runs };
    },
  };
}

/** The GC window the worker opens around Vitest's measured pass. */
function accounting() {
  let stop;
  const result = {};
  return {
    hooks: { before: () => void (stop = startMemoryWindow()), after: () => Object.assign(result, stop()) },
    result,
  };
}

async function cost(name, fn, control) {
  const t = task(fn);
  await t.warmup();
  await t.pass();
  const wall = [],
    cpu = [],
    gcPerOp = [],
    gcNsPerOp = [],
    nsPerOp = [];
  for (let i = 0; i < PAIRS; i++) {
    const acc = accounting();
    const run = () => t.pass(control ? {} : acc.hooks);
    const [a, b] = i % 2 ? [await t.pass(), await run()] : [null, await run()];
    const base = a ?? (await t.pass());
    nsPerOp.push(base.cpuNsPerOp);
    wall.push((1 - b.hz / base.hz) * 100);
    cpu.push((b.cpuNsPerOp / base.cpuNsPerOp - 1) * 100);
    if (!control) {
      gcPerOp.push(acc.result.gcCount / b.runs);
      gcNsPerOp.push(acc.result.gcNanos / b.runs);
    }
  }
  return {
    workload: name,
    control,
    nsPerOp: median(nsPerOp),
    wall: spread(wall),
    cpu: spread(cpu),
    gcPerOp: control ? 0 : median(gcPerOp),
    gcNsPerOp: control ? 0 : median(gcNsPerOp),
  };
}

/**
 * An upper bound of what the GC callbacks add to each collection: Node's GCProfiler reads the
 * heap and heap-space statistics in C++ before and after it; the same reads from JS (which also
 * build JS objects of them) cost more. A direct per-GC A/B is lost in this VM's noise.
 */
function perGcBound() {
  const read = () => {
    v8.getHeapStatistics();
    v8.getHeapSpaceStatistics();
  };
  for (let i = 0; i < 2000; i++) read();
  const runs = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 5000; i++) read();
    runs.push(Number(process.hrtime.bigint() - t0) / 5000);
  }
  return 2 * median(runs);
}

/** One census as the worker runs it: 200 ops through tinybench's loop, every allocation sampled, stopped (a full GC). */
async function census(fn) {
  let stop;
  let sampling;
  const bench = new Bench({
    time: 0,
    iterations: 200,
    warmupTime: 0,
    warmupIterations: 0,
    now: () => performance.now(),
  });
  bench.add('c', fn, {
    beforeAll: () => void (stop = startHeapSampling(1, true)),
    afterAll: () => void (sampling = stop()),
  });
  const t0 = performance.now();
  await bench.run();
  const ms = performance.now() - t0;
  const own = allocTotals(heapSamples(sampling), (s) => s.frames[0]?.name === fn.name);
  return { ms, bytesPerOp: own.bytes / 201 };
}

/** V8's own estimate of the workload's bytes per op at its default interval, over a measured pass. */
async function sampler(fn) {
  let stop;
  let sampling;
  const bench = new Bench({ time: MS * 3, warmupTime: 50, now: () => performance.now() });
  bench.add('s', fn, {
    beforeAll: () => void (stop = startHeapSampling(512 * 1024, true)),
    afterAll: () => void (sampling = stop()),
  });
  await bench.run();
  const own = allocTotals(heapSamples(sampling), (s) => s.frames[0]?.name === fn.name);
  return { bytesPerOp: own.bytes / bench.tasks[0].runs, samples: own.samples };
}

const out = { pairs: PAIRS, ms: MS, cost: [], census: [], sampler: [] };
out.cost.push(await cost('object', WORKLOADS.object[0], true));
for (const [name, [fn]] of Object.entries(WORKLOADS)) out.cost.push(await cost(name, fn, false));
out.perGcNs = perGcBound();
for (const [name, [fn, truth]] of Object.entries(WORKLOADS)) {
  const c = await census(fn);
  out.census.push({ workload: name, truth, ...c });
  if (truth) out.sampler.push({ workload: name, truth, census: c.bytesPerOp, ...(await sampler(fn)) });
}
console.log(JSON.stringify(out));
