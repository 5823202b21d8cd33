// Runs a fixture workload under the native sampler and returns the raw profile plus the
// workload's measured truth. Used in-process, in a Worker (workerData) and in child processes
// (argv[2] = JSON options, result printed as JSON), so tests cover every thread and flag setup.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const native = require('../index.js');
const workloads = new URL('../../fixtures/workloads/', import.meta.url);

/**
 * options: { workload: 'split'|'alloc'|'recursion'|'builtins', ms, cold, warmMs, track, gcEveryMs, sampler: SamplerOptions }
 */
export async function sampleWorkload(options) {
  const s = native.status();
  if (!s.ok) throw new Error(s.reason);
  // Follow code events from here on (before the workload is imported and warmed), as the
  // Vitest integration does before a benchmark's warm-up.
  if (options.track) s.binding.trackCode();
  const sampler = new s.binding.Sampler(options.sampler);
  const ms = options.ms ?? 2000;
  let run;
  if (options.workload === 'builtins') {
    run = (t) => {
      let sink = 0;
      const arr = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000);
      const end = performance.now() + t;
      while (performance.now() < end) {
        sink += arr.slice().sort((a, b) => a - b)[3];
        sink += JSON.parse(JSON.stringify({ a: arr.slice(0, 200) })).a.length;
        sink += 'abc,def,ghi'
          .repeat(50)
          .split(',')
          .map((x) => x.toUpperCase())
          .join('').length;
        const m = new Map();
        for (let i = 0; i < 500; i++) m.set('k' + i, i);
        sink += m.size;
      }
      return { sink };
    };
  } else {
    const file = { split: 'split-70-30.mjs', alloc: 'alloc.mjs', recursion: 'recursion.mjs' }[options.workload];
    // Cold: a fresh module instance, imported after start(), so tiering happens while sampled.
    const url = new URL(file, workloads).href + (options.cold ? `?cold=${Date.now()}` : '');
    if (!options.cold) run = (await import(url)).run;
    // Warm: optimized (and OSR) code compiled before start(), as after a benchmark's warm-up.
    if (options.warmMs) runWithGc(run, options.warmMs, undefined, options);
    sampler.start();
    if (options.cold) run = (await import(url)).run;
    const truth = runWithGc(run, ms, options.gcEveryMs, options);
    return { truth, raw: sampler.stop() };
  }
  sampler.start();
  const truth = runWithGc(run, ms, options.gcEveryMs, options);
  return { truth, raw: sampler.stop() };
}

function runWithGc(run, ms, gcEveryMs, options) {
  if (options.workload === 'recursion') return run(ms, options.depth ?? 10_000);
  // The split's truth in this thread's CPU time, as the native sources count (wall time also
  // counts the time other processes hold the core).
  if (options.workload === 'split') {
    const clock = native.status().binding.threadCpuNs;
    const timed = run;
    run = (t) => timed(t, clock);
  }
  if (!gcEveryMs) return run(ms);
  // Several short runs with a full (compacting, given --compact-on-every-full-gc) GC between.
  const parts = [];
  for (let t = 0; t < ms; t += gcEveryMs) {
    parts.push(run(gcEveryMs));
    globalThis.gc();
  }
  const keys = Object.keys(parts[0]).filter((k) => k !== 'sink');
  const truth = {};
  for (const k of keys) truth[k] = parts.reduce((a, p) => a + p[k], 0) / parts.length;
  return truth;
}

if (!isMainThread && workerData?.sampled) {
  sampleWorkload(workerData.sampled).then(
    (r) => parentPort.postMessage(r),
    (e) => parentPort.postMessage({ error: String(e?.stack ?? e) }),
  );
} else if (isMainThread && import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2]) {
  const r = await sampleWorkload(JSON.parse(process.argv[2]));
  process.stdout.write(JSON.stringify(r));
}
