// One benchmark child: warms up the 70/30 ground-truth workload, then runs PAIRS rounds of
// passes of fixed work in this process, one unprofiled and one per source, their order rotated
// every round so drift cancels, and prints one JSON line. A pass measures wall time, this
// thread's on-CPU time (schedstat: this VM loses CPU to the host), samples taken, and the samples
// whose leaf is hot or cold, next to the split hrtime measured in the same pass (the truth).
//
//   node scripts/bench/pass.mjs '{"source":"task-clock","rate":1000,"pairs":5,"units":150}'
//   node scripts/bench/pass.mjs '{"sources":["thread-cputime","floor","v8"],"rate":10000,"pairs":9,"units":150}'
//
// source: v8 | task-clock | timer | thread-cputime (perfprofile's CPUProfile), datadog (@datadog/pprof's time
// profiler), floor (thread-cputime's trigger with a handler that only counts: the addon's
// signalOnly), none (one unprofiled pass only; the parent runs it under `node --cpu-prof`).
// With "signalFloor": <path of a built native/bench/signal-floor.c>, each round also runs its
// cross-core triggers once (a pair of C-loop passes each), in its turn among the passes.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { shares, unit } from '../../fixtures/workloads/split-70-30.mjs';
import { runSignalFloor } from './signal-floor.mjs';

const opts = JSON.parse(process.argv[2]);
const onCpuNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);

/**
 * On-CPU ns of thread-cputime's helper thread (named pp-cputime by the addon), or 0: it is
 * created at start, so its total before stop is what it cost the pass.
 */
function helperNs() {
  for (const t of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'pp-cputime')
        return Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended while listed
    }
  }
  return 0;
}

/** Fixed work: `units` × (hot 70% + cold 30%), with each call's time measured. */
function work(units) {
  const acc = { hotNs: 0n, coldNs: 0n, sink: 0 };
  for (let i = 0; i < units; i++) unit(acc);
  return { truthHot: shares(acc).hot, sink: acc.sink };
}

function measure(profiler) {
  const session = profiler?.start();
  const w0 = process.hrtime.bigint(),
    c0 = onCpuNs();
  const { truthHot } = work(opts.units);
  const wallNs = Number(process.hrtime.bigint() - w0),
    cpuNs = onCpuNs() - c0;
  const helper = session ? helperNs() : 0;
  const shares = session ? profiler.stop(session) : undefined;
  return { wallNs, cpuNs, helperNs: helper, truthHot, ...shares };
}

/** Samples whose leaf is hot, and cold: the parent pools them over passes into a split. */
function split(counts) {
  return { hotSamples: counts.get('hot') ?? 0, coldSamples: counts.get('cold') ?? 0 };
}

async function perfprofile(config) {
  const core = await import('../../packages/core/dist/index.js');
  return {
    start() {
      const p = new core.CPUProfile(config);
      p.start();
      return p;
    },
    stop(p) {
      const { profile, stats } = p.stop();
      const table = core.functionTable(profile, { sampleIndex: 'samples' });
      const counts = new Map(table.rows.map((r) => [r.name, r.flat]));
      return { samples: stats.samples, lost: stats.lost, ...split(counts) };
    },
  };
}

async function datadog(rate) {
  const { time } = await import('@datadog/pprof');
  return {
    start() {
      time.start({ intervalMicros: Math.round(1e6 / rate), durationMillis: 3_600_000 });
      return true;
    },
    stop() {
      const p = time.stop();
      const strings = p.stringTable.strings;
      const fnName = new Map(p.function.map((f) => [Number(f.id), strings[Number(f.name)]]));
      const leafName = new Map(p.location.map((l) => [Number(l.id), fnName.get(Number(l.line[0]?.functionId))]));
      const counts = new Map();
      let samples = 0;
      for (const s of p.sample) {
        const n = Number(s.value[0]);
        samples += n;
        const name = leafName.get(Number(s.locationId[0]));
        counts.set(name, (counts.get(name) ?? 0) + n);
      }
      return { samples, lost: 0, ...split(counts) };
    },
  };
}

/** The cross-core trigger alone: its signals are counted, nothing is sampled. */
function signalOnly(rate) {
  const native = createRequire(import.meta.url)('../../native/index.js').status();
  if (!native.ok) throw new Error(native.reason);
  return {
    start() {
      const s = new native.binding.Sampler({ clockHelper: true, events: [], period: 1e9 / rate, signalOnly: true });
      s.start();
      return s;
    },
    stop(s) {
      const samples = s.samples();
      return { samples, lost: s.stop().lost, hotSamples: 0, coldSamples: 0 };
    },
  };
}

async function profilerFor(source, rate) {
  if (source === 'datadog') return datadog(rate);
  if (source === 'floor') return signalOnly(rate);
  return perfprofile(`event=${source} rate=${rate}`);
}

work(Math.max(10, opts.units >> 2)); // warm up: tier everything up before the first pass
if (opts.source === 'none') {
  console.log(JSON.stringify({ passes: [measure(undefined)] }));
} else {
  const sources = opts.sources ?? [opts.source];
  const profilers = new Map();
  for (const source of sources) {
    profilers.set(source, await profilerFor(source, opts.rate));
    measure(profilers.get(source)); // the first profiled pass warms the profiler's own code paths
  }
  const kinds = ['base', ...sources, ...(opts.signalFloor ? ['signal-floor'] : [])];
  const rounds = [];
  for (let i = 0; i < opts.pairs; i++) {
    const round = { prof: {} };
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(i + k) % kinds.length];
      if (kind === 'base') round.base = measure(undefined);
      else if (kind === 'signal-floor')
        round.signalFloor = runSignalFloor(opts.signalFloor, ['1', '--json', String(opts.rate), '--cross-core']);
      else round.prof[kind] = measure(profilers.get(kind));
    }
    rounds.push(round);
  }
  console.log(JSON.stringify({ rounds }));
}
