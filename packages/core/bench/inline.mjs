// Inline-chain figures for docs/PERFORMANCE.md: what naming native frames from V8's code log
// costs per profile, and the log's size and parse cost. One child node per mode, the same
// profiles in each: `log` (node started with inlineLaunch's flags, PERFPROFILE_V8_LOG set) and
// `off` (neither), PROFILES profiles of task-clock at RATE Hz, each over the fixtures/inline
// workloads plus MANY distinct functions (a benchmark file's worth of code).
// `node bench/inline.mjs` (after `pnpm build`); env PROFILES, RATE, MANY, MS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROFILES = Number(process.env.PROFILES ?? 8);

if (process.argv[2] === 'child') {
  // One process's profiles, each like a benchmark's: start, run the workloads, stop.
  const { CPUProfile, isolateLogFiles } = await import('../dist/index.js');
  const { inlineStats } = await import('../dist/sources/native-inline.js');
  const inline = await import('../../../fixtures/inline/inline.mjs');
  const loops = await import('../../../fixtures/inline/loops.mjs');
  const many = await import('../../../fixtures/workloads/many-functions.mjs');
  const { fns } = await many.load(Number(process.env.MANY ?? 2000));
  // As the Vitest integration does before a benchmark's warm-up.
  const { trackCode } = await import('../dist/index.js');
  trackCode('event=task-clock');
  const ms = Number(process.env.MS ?? 300);
  const rows = [];
  for (let i = 0; i < PROFILES; i++) {
    const before = inlineStats();
    const p = new CPUProfile(`event=task-clock rate=${process.env.RATE ?? 2000}`);
    p.start();
    inline.run(ms);
    loops.run(ms / 2);
    many.run(fns, 1, 500);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { profile, stats } = p.stop();
    const stopMs = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    const stopCpuMs = (c1.user + c1.system) / 1000;
    const after = inlineStats();
    rows.push({
      samples: stats.samples,
      stopMs,
      stopCpuMs,
      locations: profile.locations.length,
      inlined: profile.locations.filter((l) => l.lines.length > 1).length,
      parseMs: after.parseMs - before.parseMs,
      bytes: after.bytes - before.bytes,
      lookupMs: after.lookupMs - before.lookupMs,
      frames: after.frames - before.frames,
      named: after.named - before.named,
      tableBytes: after.tableBytes,
      warnings: stats.warnings,
    });
  }
  const log = process.env.PERFPROFILE_V8_LOG
    ? isolateLogFiles(process.env.PERFPROFILE_V8_LOG, process.pid)[0]
    : undefined;
  globalThis.gc();
  console.log(
    JSON.stringify({
      rows,
      logBytes: log ? statSync(log.path).size : 0,
      rss: process.memoryUsage().rss,
      heap: process.memoryUsage().heapUsed,
    }),
  );
} else {
  const { inlineLaunch } = await import('../dist/index.js');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const run = (withLog) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-inline-bench-'));
    const launch = withLog ? inlineLaunch(dir) : { execArgv: [], env: {} };
    try {
      const out = execFileSync(
        process.execPath,
        ['--expose-gc', ...launch.execArgv, path.join(here, 'inline.mjs'), 'child'],
        { encoding: 'utf8', env: { ...process.env, ...launch.env }, maxBuffer: 1 << 24 },
      );
      return JSON.parse(out.trim().split('\n').pop());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const off = run(false);
  const on = run(true);
  const f = (x) => x.toFixed(1);
  console.log(`node ${process.version}, ${PROFILES} profiles per process`);
  const med = (rows, k) => f(median(rows.map((r) => r[k])));
  console.log(
    `stop() median wall (CPU) ms: ${med(off.rows, 'stopMs')} (${med(off.rows, 'stopCpuMs')}) without the log, ${med(on.rows, 'stopMs')} (${med(on.rows, 'stopCpuMs')}) with it`,
  );
  console.log(
    'with the log, per profile: samples, stop ms (CPU), log bytes parsed, parse ms, frames looked up (named), lookup ms, locations (inlined)',
  );
  for (const r of on.rows) {
    console.log(
      `  ${r.samples}  ${f(r.stopMs)} (${f(r.stopCpuMs)})  ${r.bytes}  ${f(r.parseMs)}  ${r.frames} (${r.named})  ${f(r.lookupMs)}  ${r.locations} (${r.inlined})${r.warnings.length ? `  ${r.warnings.join('; ')}` : ''}`,
    );
  }
  const parsed = on.rows.reduce((a, r) => a + r.bytes, 0);
  const parseMs = on.rows.reduce((a, r) => a + r.parseMs, 0);
  console.log(
    `log: ${(on.logBytes / 1e6).toFixed(2)} MB at exit; parsed ${(parsed / 1e6).toFixed(2)} MB in ${f(parseMs)} ms (${f(parseMs / (parsed / 1e6))} ms/MB); tables kept ${(on.rows.at(-1).tableBytes / 1e6).toFixed(2)} MB`,
  );
  const mb = (x) => (x / 1e6).toFixed(0);
  console.log(
    `at exit, rss (JS heap after a full GC): ${mb(off.rss)} (${mb(off.heap)}) MB without the log, ${mb(on.rss)} (${mb(on.heap)}) MB with it`,
  );
}
