#!/usr/bin/env node
// Overhead of the two CPU-time triggers (perf_event task-clock vs timer_create thread CPU
// timer) at 1 kHz and 10 kHz on the 70/30 fixture: alternating passes of fixed work, median
// of ROUNDS, by wall time and by on-CPU time of this thread (schedstat; this VM has steal).
// Usage: node native/scripts/overhead.mjs [rounds]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const s = require('../index.js').status();
if (!s.ok) throw new Error(s.reason);
const { Sampler } = s.binding;
const { hot, cold } = await import('../../fixtures/workloads/split-70-30.mjs');

const ROUNDS = Number(process.argv[2] ?? 9);
const WORK = 120; // iterations of hot(140k)+cold(60k) per pass (~0.5 s)
const onCpuNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);

function pass(config) {
  const sampler = config && new Sampler(config);
  sampler?.start();
  const w0 = process.hrtime.bigint(),
    c0 = onCpuNs();
  let sink = 0;
  for (let i = 0; i < WORK; i++) sink ^= hot(140_000) ^ cold(60_000);
  const wall = Number(process.hrtime.bigint() - w0),
    cpu = onCpuNs() - c0;
  const samples = sampler ? sampler.stop().samples : 0;
  return { wall, cpu, samples, sink };
}

const configs = {
  none: undefined,
  'task-clock 1k': { events: [{ type: 1, config: 1 }], period: 1e6 },
  'timer 1k': { timer: true, events: [], period: 1e6 },
  'task-clock 10k': { events: [{ type: 1, config: 1 }], period: 1e5 },
  'timer 10k': { timer: true, events: [], period: 1e5 },
  'task-clock 20k': { events: [{ type: 1, config: 1 }], period: 5e4 },
};
pass(undefined); // warm up
const results = Object.fromEntries(Object.keys(configs).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) for (const [k, c] of Object.entries(configs)) results[k].push(pass(c));
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const base = { wall: median(results.none.map((x) => x.wall)), cpu: median(results.none.map((x) => x.cpu)) };
console.log(
  `rounds=${ROUNDS}, baseline pass: ${(base.wall / 1e6).toFixed(1)} ms wall, ${(base.cpu / 1e6).toFixed(1)} ms on-CPU`,
);
for (const [k, xs] of Object.entries(results)) {
  if (k === 'none') continue;
  const pctWall = xs.map((x) => (x.wall / base.wall - 1) * 100);
  const pctCpu = xs.map((x) => (x.cpu / base.cpu - 1) * 100);
  const rate = median(xs.map((x) => x.samples / (x.cpu / 1e9)));
  console.log(
    `${k.padEnd(15)} wall ${median(pctWall).toFixed(2).padStart(6)}% (min ${Math.min(...pctWall).toFixed(2)}, max ${Math.max(...pctWall).toFixed(2)})  on-CPU ${median(pctCpu).toFixed(2).padStart(6)}%  samples/CPU-s ${rate.toFixed(0)}`,
  );
}
