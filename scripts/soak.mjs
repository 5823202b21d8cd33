#!/usr/bin/env node
// Soak: one profile held for a long time at a high rate, through the public API
// (CPUProfile, event=task-clock), on the 70/30 fixture. Prints, once a minute and at the end,
// RSS, heap, samples kept and samples lost, then the stop() cost. For docs/RELIABILITY.md:
//   node scripts/soak.mjs [minutes=10] [rate=10000]
import { CPUProfile, encode } from '../packages/core/dist/index.js';
import { unit } from '../fixtures/workloads/split-70-30.mjs';

const minutes = Number(process.argv[2] ?? 10);
const rate = Number(process.argv[3] ?? 10_000);
const mb = (n) => `${(n / 2 ** 20).toFixed(0)} MB`;
const profile = new CPUProfile(`event=task-clock rate=${rate}`);
profile.start();
const t0 = performance.now();
let peakRss = 0;
const acc = { hotNs: 0n, coldNs: 0n, sink: 0 };
for (let minute = 1; minute <= minutes; minute++) {
  while (performance.now() - t0 < minute * 60_000) unit(acc);
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  console.log(`${minute} min: rss ${mb(m.rss)}, heap ${mb(m.heapUsed)}, samples so far ${profile.samplesSoFar()}`);
}
const s0 = performance.now();
const { profile: p, stats } = profile.stop();
const stopMs = performance.now() - s0;
const bytes = encode(p).length;
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(
  JSON.stringify({
    minutes,
    rate,
    samples: stats.samples,
    lost: stats.lost,
    unresolved: stats.unresolved,
    peakRssMB: Math.round(peakRss / 2 ** 20),
    stopMs: Math.round(stopMs),
    profileBytes: bytes,
    distinctStacks: p.samples.length,
  }),
);
