// Stress under the sampler: the main thread sampled at 20 kHz (task-clock) while it forces
// compacting GCs, runs promise storms and churns through 100 Workers, each sampling itself at
// 20 kHz too. Prints one JSON line; any crash, hang or lost profile shows up to the test.
//   node --expose-gc --compact-on-every-full-gc native/test/stress.mjs
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const s = require('../index.js').status();
if (!s.ok) throw new Error(s.reason);
const TASK_CLOCK = { type: 1, config: 1 };
const sampled = new URL('./sampled.mjs', import.meta.url);

async function promiseStorm(n) {
  let chain = Promise.resolve(0);
  for (let i = 0; i < n; i++) chain = chain.then((x) => x + 1);
  const all = await Promise.all(Array.from({ length: n }, (_, i) => Promise.resolve(i).then((x) => x * 2)));
  return (await chain) + all.length;
}

function garbage() {
  const keep = [];
  for (let i = 0; i < 20_000; i++) keep.push({ i, s: 'x'.repeat(i % 64), a: new Array(i % 16).fill(i) });
  globalThis.gc();
  return keep.length;
}

function worker() {
  return new Promise((resolve, reject) => {
    const w = new Worker(sampled, {
      workerData: { sampled: { workload: 'split', ms: 60, sampler: { events: [TASK_CLOCK], period: 5e4 } } },
    });
    w.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m.raw)));
    w.once('error', reject);
  });
}

const main = new s.binding.Sampler({ events: [TASK_CLOCK], period: 5e4 });
main.start();
let workers = 0,
  workerSamples = 0,
  storms = 0,
  gcs = 0;
for (let batch = 0; batch < 10; batch++) {
  const pending = Array.from({ length: 10 }, worker);
  storms += await promiseStorm(20_000);
  gcs += garbage() > 0 ? 1 : 0;
  for (const raw of await Promise.all(pending)) {
    workers++;
    workerSamples += raw.samples;
  }
}
const raw = main.stop();
console.log(
  JSON.stringify({
    mainSamples: raw.samples,
    mainLost: raw.lost,
    stacks: raw.stacks.length,
    workers,
    workerSamples,
    storms,
    gcs,
  }),
);
