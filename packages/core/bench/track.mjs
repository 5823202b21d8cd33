// What following code events costs a process (`trackCode()`: the native code map, and the line
// tables and bytecode positions the inference reads, native/src/line_tables.h), for
// docs/PERFORMANCE.md: the same work in child processes with and without it, alternating.
// The work: MANY distinct functions compiled and run (a benchmark file's worth of code), then
// fixtures/inline's loops until optimized. Reports CPU time of that work, and RSS and the JS
// heap after it (after a full GC), medians over PAIRS processes per mode.
// `node bench/track.mjs` (after `pnpm build`); env PAIRS, MANY.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === 'child') {
  const track = process.argv[3] === 'track';
  const many = await import('../../../fixtures/workloads/many-functions.mjs');
  const inline = await import('../../../fixtures/inline/inline.mjs');
  const { trackCode } = await import('../dist/index.js');
  globalThis.gc();
  const rss0 = process.memoryUsage().rss;
  const c0 = process.cpuUsage();
  const tracking = track ? trackCode('event=task-clock') : false;
  const { fns } = await many.load(Number(process.env.MANY ?? 10_000));
  many.run(fns, 2, 200);
  inline.run(500);
  const c = process.cpuUsage(c0);
  globalThis.gc();
  const m = process.memoryUsage();
  console.log(JSON.stringify({ tracking, cpuMs: (c.user + c.system) / 1000, rss: m.rss - rss0, heap: m.heapUsed }));
} else {
  const { median } = await import('../dist/gate-compare.js');
  const pairs = Number(process.env.PAIRS ?? 5);
  const child = (mode) =>
    JSON.parse(
      execFileSync(process.execPath, ['--expose-gc', path.join(here, 'track.mjs'), 'child', mode], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .pop(),
    );
  const runs = { off: [], track: [] };
  for (let i = 0; i < pairs; i++) for (const mode of ['off', 'track']) runs[mode].push(child(mode));
  if (!runs.track.every((r) => r.tracking)) throw new Error('trackCode() did not follow code events here');
  const mb = (x) => (x / 1e6).toFixed(1);
  const row = (mode) => {
    const r = runs[mode];
    const cpu = r.map((x) => x.cpuMs);
    return `${mode}: CPU ${median(cpu).toFixed(0)} ms (${Math.min(...cpu).toFixed(0)} … ${Math.max(...cpu).toFixed(0)}), RSS +${mb(median(r.map((x) => x.rss)))} MB, JS heap ${mb(median(r.map((x) => x.heap)))} MB`;
  };
  console.log(`node ${process.version}, ${process.env.MANY ?? 10_000} functions, ${pairs} processes per mode`);
  console.log(row('off'));
  console.log(row('track'));
}
