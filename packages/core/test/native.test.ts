// The native engine end to end: real signals, real V8, fixture workloads with measured truth.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isProfileError } from '../src/errors.js';
import { nativeStatus, simulatePlatform } from '../src/sources/native.js';
import { reasonForErrno } from '../src/sources/native-engine.js';
import { truncate } from '../src/profile.js';
import {
  child,
  engine,
  ev,
  inWorker,
  leafShare,
  nativeBinding,
  samplesOf,
  settings,
  shares,
  split,
  split7030,
  status,
  TASK_CLOCK,
} from './native-helpers.js';

/** V8 major.minor of this Node: the native facts (frame layout, code events) are per version. */
const V8_VERSION = process.versions.v8.split('.').slice(0, 2).join('.');
const V8_MAJOR = Number(V8_VERSION.split('.')[0]);

// As the Vitest integration does in each worker before any warm-up: follow this thread's code,
// so profiles started after the in-process warm-ups below name optimized code (V8 >= 12).
if (status.ok) engine.trackCode();

describe.skipIf(!status.ok)('native engine', () => {
  afterEach(() => simulatePlatform(undefined));

  it('recovers the 70/30 split within 1 pp at task-clock 1 kHz', async () => {
    const { run } = await import(split);
    run(300); // warm: the functions are compiled before sampling starts (enumerated, not re-logged)
    const src = engine.createSource(settings(['task-clock'], 1000));
    src.start();
    // The truth in this thread's CPU time, as the sources count: in wall time, another test
    // file holding the core while `cold` runs would move it (seen: 1.4 pp at 10 kHz).
    const truth = run(3000, nativeBinding().threadCpuNs);
    const r = src.stop();
    const got = split7030(r.samples);
    expect(r.source).toBe('perf_event');
    // One sample per ms of this thread's CPU time (not of wall time: another process holding
    // the core leaves fewer; seen: 1,704 in 3 s of wall time on a loaded machine).
    expect(r.samples.reduce((a, s) => a + s.count, 0)).toBeGreaterThan(0.9 * (truth.ns / 1e6));
    expect(Math.abs(got.hot - truth.hot)).toBeLessThan(0.01);
    expect(got.covered).toBeGreaterThan(0.95);
    expect(r.unresolved).toBe(0);
    expect(r.lost).toBe(0);
    // JS frames carry file, start line and tier.
    const hot = r.samples.flatMap((s) => s.frames).find((f) => f.name === 'hot')!;
    expect(hot.file).toBe(fileURLToPath(split));
    expect(hot.startLine).toBeGreaterThan(0); // Vite's transform shifts lines here; exact in the child test
    // Warmed before start: most of hot's weight is in TurboFan code (V8 >= 12 may also catch a
    // few samples in its baseline code; context-specialized code is named `*'hot`).
    const byTier = new Map<string | undefined, number>();
    for (const s of r.samples) {
      const f = s.frames.find((x) => x.name === 'hot');
      if (f) byTier.set(f.tier, (byTier.get(f.tier) ?? 0) + s.count);
    }
    expect([...byTier].sort((a, b) => b[1] - a[1])[0][0]).toBe('turbofan');
    expect(
      r.samples.flatMap((s) => s.frames).find((f) => f.name === 'hot' && f.tier === 'turbofan')!.systemName,
    ).toMatch(/^JS:\*'?hot /);
  });

  it('recovers the 70/30 split within 1 pp at task-clock 10 kHz, and with the timer trigger', async () => {
    const { run } = await import(split);
    for (const [name, rate] of [
      ['task-clock', 10_000],
      ['timer', 1000],
    ] as const) {
      const src = engine.createSource(settings([name], rate));
      src.start();
      const truth = run(name === 'timer' ? 3000 : 2000, nativeBinding().threadCpuNs);
      const r = src.stop();
      expect(r.source).toBe(name === 'timer' ? 'timer' : 'perf_event');
      const got = split7030(r.samples);
      // The thread CPU-time timer fires on scheduler ticks (CONFIG_HZ), so it is coarser.
      expect(Math.abs(got.hot - truth.hot), `${name} ${got.hot} vs ${truth.hot}`).toBeLessThan(
        name === 'timer' ? 0.03 : 0.01,
      );
      // Nearly all weight in hot's or cold's own frame: neither was inlined into unit() (the
      // fixture's bodies are above V8's inlining limit; below it, unit() took 80% at 10 kHz).
      expect(got.covered, name).toBeGreaterThan(0.95);
      expect(r.unresolved).toBe(0);
    }
  });

  it('recovers the split cold (tiering while sampled) and in a Worker', async () => {
    const cold = child({ workload: 'split', ms: 2500, cold: true, sampler: { events: [TASK_CLOCK], period: 2.5e5 } });
    const c = split7030(samplesOf(cold));
    const source = readFileSync(fileURLToPath(split), 'utf8').split('\n');
    const hotFrame = samplesOf(cold)
      .flatMap((s) => s.frames)
      .find((f) => f.name === 'hot')!;
    expect(hotFrame.startLine).toBe(source.findIndex((l) => l.includes('function hot(')) + 1);
    expect(hotFrame.file).toBe(fileURLToPath(split));
    expect(Math.abs(c.hot - cold.truth.hot)).toBeLessThan(0.01);
    const tiers = new Set(
      samplesOf(cold)
        .flatMap((s) => s.frames)
        .filter((f) => f.name === 'hot')
        .map((f) => f.tier),
    );
    // Which tiers get caught depends on timing (1 ms samples vs a fast tier-up): at least one.
    expect(tiers.size).toBeGreaterThan(0);

    const w = await inWorker({ workload: 'split', ms: 2500, sampler: { events: [TASK_CLOCK], period: 2.5e5 } });
    const got = split7030(samplesOf(w));
    expect(w.raw.samples).toBeGreaterThan(2000);
    expect(Math.abs(got.hot - w.truth.hot)).toBeLessThan(0.01);
    expect(w.raw.unresolved).toBe(0);
  });

  it('names code optimized before start when the thread tracks code (needed since V8 12)', () => {
    // Warm first, start after: as every per-benchmark profile does. The code V8 enumerates at
    // start() lacks existing optimized code since V8 12, so untracked, hot/cold vanish there.
    const runs = [true, false].map((track) =>
      child({ workload: 'split', ms: 1500, warmMs: 400, track, sampler: { events: [TASK_CLOCK], period: 2.5e5 } }),
    );
    const [tracked, untracked] = runs;
    const got = split7030(samplesOf(tracked));
    expect(tracked.raw.seededCode).toBeGreaterThan(1000);
    expect(untracked.raw.seededCode).toBe(0);
    expect(Math.abs(got.hot - tracked.truth.hot), `${got.hot} vs ${tracked.truth.hot}`).toBeLessThan(0.01);
    expect(got.covered).toBeGreaterThan(0.95);
    expect(tracked.raw.unresolved).toBe(0);
    const lost = split7030(samplesOf(untracked)).covered;
    if (V8_MAJOR < 12)
      expect(lost).toBeGreaterThan(0.95); // V8 11.3 enumerates optimized code itself
    else if (V8_MAJOR === 12) expect(lost, `V8 ${V8_VERSION} untracked`).toBeLessThan(0.8);
    // V8 13.6 often re-optimizes hot and cold after start (new code, reported as events), so
    // whether an untracked run loses them depends on timing: covered 0.47 to 1.0 across runs.
    // Only the tracked run's figures above are a requirement there.
  });

  it("gives a tracked thread's script lines by V8's script id (a code log without sources reads them)", () => {
    const script = fileURLToPath(new URL('../../../native/test/script-lines.mjs', import.meta.url));
    const got = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })) as {
      name: string;
      lines: number[];
      truth: number[];
      unknown: null;
    };
    expect(got.name).toBe('lines-fixture.js');
    // Script offsets at line 10, column 4 of their file: first-line columns shifted too.
    expect(got.lines).toEqual(got.truth);
    expect(got.truth.slice(0, 2)).toEqual([11, 5]);
    expect(got.unknown).toBeNull();
  });

  it('recovers the split under forced GC compaction (--expose-gc --compact-on-every-full-gc)', () => {
    const flags = ['--expose-gc', '--compact-on-every-full-gc'];
    for (const nodeFlags of [flags, [...flags, '--no-opt', '--no-sparkplug', '--no-maglev']]) {
      // 4 kHz: ~10,000 samples, so the 1 pp bound is several times the sampling noise (at
      // 1 kHz it was ~1 sigma: 1.01 pp once on a loaded machine).
      const r = child(
        { workload: 'split', ms: 2500, gcEveryMs: 50, sampler: { events: [TASK_CLOCK], period: 2.5e5 } },
        nodeFlags,
      );
      const got = split7030(samplesOf(r));
      expect(Math.abs(got.hot - r.truth.hot), `${nodeFlags.join(' ')}: ${got.hot} vs ${r.truth.hot}`).toBeLessThan(
        0.01,
      );
      expect(r.raw.unresolved).toBe(0);
    }
  });

  it('keeps every sample of a long profile in a small ring: drained and aggregated while sampling', () => {
    // A 1 MiB ring holds ~10,000 of the fixture's records (~104 bytes each); 5 s at 10 kHz is
    // ~50,000 samples. Drained only at stop, ~40,000 were counted as lost; the consumer thread
    // now drains it every 50 ms (or when half full) and merges identical stacks. Also through
    // compacting GCs (code moves: samples on either side of a code event are never merged).
    const runs = [
      { nodeFlags: [] as string[], gcEveryMs: undefined },
      { nodeFlags: ['--expose-gc', '--compact-on-every-full-gc'], gcEveryMs: 100 },
    ];
    for (const { nodeFlags, gcEveryMs } of runs) {
      const r = child(
        {
          workload: 'split',
          ms: gcEveryMs ? 3000 : 5000,
          gcEveryMs,
          sampler: { events: [TASK_CLOCK], period: 1e5, ringBytes: 1 << 20 },
        },
        nodeFlags,
      );
      const kept = r.raw.stacks.reduce((a, s) => a + s.count, 0);
      const label = `${nodeFlags.join(' ') || 'no flags'}: ${kept} kept, ${r.raw.lost} lost, ${r.raw.stacks.length} stacks`;
      expect(r.raw.lost, label).toBe(0);
      expect(kept, label).toBe(r.raw.samples);
      expect(kept, label).toBeGreaterThan(gcEveryMs ? 15_000 : 25_000); // well past the ring's ~10,000
      expect(r.raw.unresolved, label).toBe(0);
      const got = split7030(samplesOf(r));
      expect(Math.abs(got.hot - r.truth.hot), `${label}: ${got.hot} vs ${r.truth.hot}`).toBeLessThan(0.01);
      // Weights add up: every sample counted once, at 100 µs each.
      const weight = r.raw.stacks.reduce((a, s) => a + s.values[0], 0);
      expect(weight, label).toBeGreaterThanOrEqual(kept * 1e5);
    }
  });

  it('attributes >= 90% of page faults to the allocating function', async () => {
    const { run } = await import(new URL('../../../fixtures/workloads/alloc.mjs', import.meta.url).href);
    const src = engine.createSource(settings(['page-faults'], 16));
    src.start();
    run(1500);
    const r = src.stop();
    const s = shares(r.samples, ['allocate', 'compute']);
    expect(r.valueTypes[0]).toEqual({ type: 'page-faults', unit: 'count' });
    // Under ASan (native/scripts/asan.sh) its runtime faults in shadow and allocator pages of its
    // own wherever the thread runs: 81.5% was seen there.
    expect(s.allocate).toBeGreaterThanOrEqual(process.env.PERFPROFILE_SANITIZE ? 0.7 : 0.9);
  });

  it('reads extra events at each sample (task-clock,page-faults as one perf group)', async () => {
    const { allocate } = await import(new URL('../../../fixtures/workloads/alloc.mjs', import.meta.url).href);
    const src = engine.createSource(settings(['task-clock', 'page-faults'], 1000));
    src.start();
    // 40 MiB > glibc's largest mmap threshold (32 MiB): always fresh pages, whatever ran before.
    for (let i = 0; i < 20; i++) allocate(40);
    const r = src.stop();
    expect(r.valueTypes.map((v) => v.type)).toEqual(['cpu', 'page-faults']);
    for (const s of r.samples) expect(s.values).toHaveLength(2);
    const faults = r.samples.reduce((a, s) => a + s.values[1], 0);
    expect(faults).toBeGreaterThan(1000);
    // Deltas are read when task-clock overflows, so they land on the stack sampled next, not
    // where each fault happened (as with `perf record -e '{task-clock,page-faults}'`).
  });

  it('survives depth-10,000 recursion and truncates at depth', () => {
    const r = child(
      { workload: 'recursion', ms: 1500, depth: 10_000, sampler: { events: [TASK_CLOCK], period: 1e6, depth: 63 } },
      ['--stack-size=7600'],
    );
    // The addon keeps `depth` frames plus the marker; NativeSource asks it for depth 63 when the
    // profile's depth is 64.
    const samples = samplesOf(r);
    expect(r.raw.samples).toBeGreaterThan(500);
    const deep = samples.filter((s) => s.frames.at(-1)?.kind === 'truncated');
    const deepWeight = deep.reduce((a, s) => a + s.count, 0);
    expect(deepWeight / r.raw.samples).toBeGreaterThan(0.9);
    const inSpin = deep.filter((s) => s.frames[0].name === 'spin').reduce((a, s) => a + s.count, 0);
    expect(inSpin / deepWeight).toBeGreaterThan(0.5);
    for (const s of deep) {
      // depth frames in all: depth - 1 innermost ones plus the marker, exactly as truncate() cuts,
      // so buildProfile leaves a native stack alone.
      expect(s.frames).toHaveLength(64);
      expect(truncate(s.frames, 64)).toBe(s.frames);
      expect(s.frames[10].name).toBe('recurse');
      const n = Number(/\(truncated (\d+) frames\)/.exec(s.frames[63].name)![1]);
      expect(n).toBeGreaterThan(0);
      // At the bottom (in spin) the whole 10,000-deep stack is below the cut.
      if (s.frames[0].name === 'spin') expect(n).toBeGreaterThan(9900);
    }
  });

  it('names all of 10,000 distinct functions, compiled before and after start', async () => {
    const { load, run } = await import(new URL('../../../fixtures/workloads/many-functions.mjs', import.meta.url).href);
    const { file, fns } = await load(10_000);
    run(fns.slice(0, 5000), 1, 2000); // half compiled before start: must come from kJitCodeEventEnumExisting
    const src = engine.createSource(settings(['task-clock'], 20_000));
    src.start();
    run(fns, 3, 3000);
    const r = src.stop();
    const total = r.samples.reduce((a, s) => a + s.count, 0);
    // Measured 0 on Node 20, 22 and 24 (18 runs). Before the fix, V8 13.6 left 36–59 per ~80k
    // samples: frames[0] at a pc V8 derived from garbage (an interpreter frame before its offset
    // slot is written; a frame under InterpreterOnStackReplacement_ToBaseline's INTERNAL frame,
    // "return address" 0x67), now named from the frame's BytecodeArray slot (kRecOwnerBytecode).
    expect(r.unresolved).toBeLessThanOrEqual(Math.ceil(total / 20_000));
    const named = new Set<string>();
    let unnamedLeafWeight = 0;
    for (const s of r.samples) {
      const f = s.frames[0];
      if (f.file === file && /^fn_\d+$/.test(f.name)) named.add(f.name);
      else if (f.kind === 'unknown') unnamedLeafWeight += s.count;
    }
    expect(unnamedLeafWeight).toBeLessThanOrEqual(Math.ceil(total / 20_000));
    // Every function gets ~3 µs per call × 3 rounds; at 20 kHz most are hit at least once.
    expect(named.size).toBeGreaterThan(2000);
    expect([...named].some((n) => Number(n.slice(3)) < 5000)).toBe(true);
    // A correctness test: ~45k distinct (code, offset) frames take a while to replay on a loaded
    // machine; stop()'s speed is the harness's to measure.
  }, 180_000);

  it('writes the sample count to a progress file from a helper thread while the JS thread is busy', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'perfprofile-progress-')), 'bench.progress');
    const src = engine.createSource({ ...settings(['task-clock'], 1000), progressFile: file });
    src.start();
    // A failed expectation must not leave this thread sampled for the tests after it.
    try {
      // Spins for `ms` of this thread's CPU time: samples follow CPU time, not the wall clock.
      const cpuNow = nativeBinding().threadCpuNs;
      const spinUntil = (ms: number) => {
        const end = cpuNow() + BigInt(ms * 1e6);
        let x = 0;
        while (cpuNow() < end) x += Math.sqrt(x + 1);
        return x;
      };
      // No event-loop turn while this runs: only the native thread can move the file's count.
      // The file is rewritten every 250 ms of wall time, which a loaded machine stretches, so
      // spin until it shows 150 samples, for at most 10 s of CPU time.
      let during = 0;
      for (let spun = 0; spun < 10_000 && during <= 150; spun += 50) {
        spinUntil(50);
        during = Number(readFileSync(file, 'utf8'));
      }
      expect(during).toBeGreaterThan(150);
      expect(during).toBeLessThanOrEqual(src.samplesSoFar());
      spinUntil(300);
      const r = src.stop();
      const taken = r.samples.reduce((a, s) => a + s.count, 0) + r.lost;
      expect(Number(readFileSync(file, 'utf8'))).toBeGreaterThanOrEqual(taken - 1);
      expect(Number(readFileSync(file, 'utf8'))).toBeGreaterThan(during);
    } finally {
      src.stop();
    }
  });

  it('survives 20 kHz sampling through compacting GCs, promise storms and 100 sampled Workers', () => {
    const script = fileURLToPath(new URL('../../../native/test/stress.mjs', import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', '--compact-on-every-full-gc', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.workers).toBe(100);
    expect(out.workerSamples).toBeGreaterThan(100 * 50); // every Worker's own profile came back
    expect(out.mainSamples).toBeGreaterThan(1000);
    expect(out.mainLost).toBe(0);
    expect(out.gcs).toBe(10);
  }, 130_000);

  it('reports cycles as unavailable: no hardware PMU (ENOENT)', () => {
    expect(engine.probe(ev('cycles'), false)).toBe('no hardware PMU (ENOENT)');
    expect(engine.probe(ev('task-clock'), false)).toBeUndefined();
    expect(engine.probe(ev('timer'), false)).toBeUndefined();
    expect(() => engine.createSource(settings(['cycles'], 2_000_003)).start()).toThrow(/no hardware PMU \(ENOENT\)/);
  });

  it('refuses kernel=true without privilege (EACCES, paranoid remedy)', () => {
    const paranoid = Number(execFileSync('cat', ['/proc/sys/kernel/perf_event_paranoid'], { encoding: 'utf8' }));
    expect(reasonForErrno(13, ev('task-clock'))).toBe(
      `perf_event_paranoid=${paranoid}: needs CAP_PERFMON or \`sysctl kernel.perf_event_paranoid=1\` (EACCES)`,
    );
    // An unprivileged user (nobody) probing kernel=true: the kernel says EACCES at paranoid >= 2.
    let readable = true;
    try {
      accessSync(createRequire(import.meta.url).resolve('@perfprofile/native'), constants.R_OK);
    } catch {
      readable = false;
    }
    const probe = `const b=require(${JSON.stringify(createRequire(import.meta.url).resolve('@perfprofile/native'))}).status().binding;console.log(b.probe(1,1,true),b.probe(1,1,false))`;
    const r = spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8' });
    if (readable && r.status === 0 && paranoid >= 2) {
      const [kernelErrno, userErrno] = r.stdout.trim().split(' ').map(Number);
      expect([1, 13]).toContain(kernelErrno);
      expect(userErrno).toBe(0);
      expect(reasonForErrno(kernelErrno, ev('task-clock'))).toMatch(
        /^perf_event_paranoid=\d+: needs CAP_PERFMON or `sysctl kernel.perf_event_paranoid=1`/,
      );
    } else {
      expect.soft(r.stderr, 'could not run the probe as nobody').toBe('');
    }
  });

  it('says "Linux only" off Linux', () => {
    simulatePlatform('darwin');
    expect(engine.probe(ev('task-clock'), false)).toBe('Linux only');
    expect(nativeStatus()).toEqual({ ok: false, reason: 'Linux only' });
  });

  it('refuses a second profile on one thread; threads are independent; stop is idempotent and clean after a throw', async () => {
    const a = engine.createSource(settings(['task-clock'], 1000));
    a.start();
    const b = engine.createSource(settings(['timer'], 1000));
    let err: unknown;
    try {
      b.start();
    } catch (e) {
      err = e;
    }
    expect(isProfileError(err) && err.code).toBe('ERR_PROFILE_RUNNING');
    // A Worker samples independently while this thread is sampled.
    const w = await inWorker({ workload: 'split', ms: 800, sampler: { events: [TASK_CLOCK], period: 1e6 } });
    expect(w.raw.samples).toBeGreaterThan(400);
    const { run } = await import(split);
    try {
      run(200);
      throw new Error('benchmark failed');
    } catch {
      // the benchmark threw; the profile must still stop cleanly
    }
    const r = a.stop();
    expect(a.stop()).toBe(r);
    expect(r.samples.length).toBeGreaterThan(0);
    // The thread is free again, and no late signal arrives after stop.
    const c = engine.createSource(settings(['task-clock'], 10_000));
    c.start();
    run(100);
    expect(c.stop().samples.length).toBeGreaterThan(0);
  });

  it('counts events per op in counting mode', async () => {
    const { allocate } = await import(new URL('../../../fixtures/workloads/alloc.mjs', import.meta.url).href);
    const counters = engine.createCounters([ev('task-clock'), ev('page-faults'), ev('context-switches')]);
    counters.start();
    for (let i = 0; i < 10; i++) allocate(40); // > 32 MiB: mmap'd, so fresh pages every op
    const totals = counters.stop();
    expect(totals['task-clock']).toBeGreaterThan(1e6);
    expect(totals['page-faults'] / 10).toBeGreaterThan(5000); // 40 MiB = 10,240 pages per op
    expect(totals).toHaveProperty('context-switches');
  });

  describe('the prototype fixes (each test fails with its fix switched off)', () => {
    it('leaf: the executing frame comes from regs.pc', () => {
      for (const leaf of [true, false]) {
        const r = child({
          workload: 'split',
          ms: 1200,
          sampler: { events: [TASK_CLOCK], period: 2.5e5, fixes: { leaf } },
        });
        const got = split7030(samplesOf(r));
        if (leaf) expect(Math.abs(got.hot - r.truth.hot)).toBeLessThan(0.01);
        else expect(got.covered).toBeLessThan(0.5); // optimized hot/cold vanish: samples land on run
      }
    });

    it('frameless: an interpreted leaf inside a bytecode handler is recovered from its frame', () => {
      // Interpreter-only: samples land in bytecode handlers. V8 11.3 (Node 20) drops the
      // interpreted frame in about half of them; V8 12.4/13.6 (Node 22/24) report it
      // themselves except in ~2-3% of all samples, which only this fix recovers.
      const flags = ['--no-opt', '--no-sparkplug', '--no-maglev'];
      const runs = [true, false].map((frameless) => {
        // 4 kHz: ~6,000 samples with the fix, ~16,000 without, where the rarer drops of V8 >= 12
        // are counted.
        const r = child(
          {
            workload: 'split',
            ms: frameless ? 1500 : 4000,
            sampler: { events: [TASK_CLOCK], period: 2.5e5, fixes: { frameless } },
          },
          flags,
        );
        return { r, got: split7030(samplesOf(r)), unitSelf: leafShare(samplesOf(r), 'unit') };
      });
      const [on, off] = runs;
      // 2 pp: ~1,500 samples, and a loaded machine preempts mid-phase (CI saw 1.16 pp once).
      expect(Math.abs(on.got.hot - on.r.truth.hot)).toBeLessThan(0.02);
      expect(on.got.covered).toBeGreaterThan(0.85); // the rest is (garbage collector)
      expect(off.r.raw.fixed.frameless).toBe(0);
      // Without the fix the dropped samples land on `unit`, the interpreted caller.
      expect(off.unitSelf).toBeGreaterThan(on.unitSelf);
      if (V8_VERSION === '11.3') {
        expect(on.r.raw.fixed.frameless / on.r.raw.samples).toBeGreaterThan(0.3);
        expect(off.got.covered).toBeLessThan(0.7);
      } else {
        expect(on.r.raw.fixed.frameless / on.r.raw.samples, `V8 ${V8_VERSION}`).toBeGreaterThan(0.005);
        // 0.08-0.17% of samples on Node 22 (5-11 of ~6,350 in 8 runs; CI once saw 4): ~13-27
        // of ~16,000. At least 4, which the lowest of those rates misses with probability ~0.2%.
        expect(Math.round(off.unitSelf * off.r.raw.samples), `V8 ${V8_VERSION}`).toBeGreaterThanOrEqual(4);
      }
    });

    it('frameless: a Sparkplug frame under a frameless *_Baseline builtin is recovered too', () => {
      // Baseline-only: Sparkplug code calls builtins such as Add_Baseline that build no frame,
      // so GetStackSample takes the baseline frame for the builtin's and drops the function
      // (measured: ~60% of samples on Node 20, 22 and 24). The frame keeps the interpreter
      // layout, with a feedback object where the offset would be.
      const flags = ['--no-opt', '--no-maglev', '--always-sparkplug'];
      const [on, off] = [true, false].map((frameless) => {
        const r = child(
          { workload: 'split', ms: 1500, sampler: { events: [TASK_CLOCK], period: 1e6, fixes: { frameless } } },
          flags,
        );
        return { r, got: split7030(samplesOf(r)) };
      });
      // 2 pp: ~1,500 samples, and a loaded machine preempts mid-phase (CI saw 1.16 pp once).
      expect(Math.abs(on.got.hot - on.r.truth.hot)).toBeLessThan(0.02);
      expect(on.got.covered).toBeGreaterThan(0.85);
      expect(on.r.raw.fixed.frameless / on.r.raw.samples).toBeGreaterThan(0.3);
      const tiers = new Set(
        samplesOf(on.r)
          .flatMap((s) => s.frames)
          .filter((f) => f.name === 'hot')
          .map((f) => f.tier),
      );
      expect([...tiers]).toEqual(['sparkplug']);
      expect(off.got.covered).toBeLessThan(0.6);
    });

    it('frameless reads only interpreter-frame slots verified for this V8 (built for this Node)', () => {
      const s = nativeBinding();
      // The addon was compiled against this Node's own headers (per-ABI build directory).
      expect(s.frameLayout.v8).toBe(V8_VERSION);
      const verified: Record<string, number> = { '11.3': 54, '12.4': 64, '13.6': 64 };
      expect(s.frameLayout.verified).toBe(V8_VERSION in verified);
      if (s.frameLayout.verified) {
        expect(s.frameLayout).toMatchObject({
          bytecodeArrayFromFp: -32,
          bytecodeOffsetFromFp: -40,
          bytecodeHeader: verified[V8_VERSION],
        });
      }
    });

    it('remap: pcs in the remapped builtins copy are translated via /proc/self/maps', () => {
      // V8 runs builtins from a copy of the embedded blob. V8 11.3 (Node 20) reports no code
      // events for it, so only the translation names those pcs; V8 >= 12 reports the copy's
      // builtins itself (`Builtin:X`), so the fix is redundant there: names must agree.
      const runs = [true, false].map((remap) =>
        child({ workload: 'builtins', ms: 1000, sampler: { events: [TASK_CLOCK], period: 2e5, fixes: { remap } } }),
      );
      const [on, off] = runs;
      // V8 >= 12, where the fix is redundant: the rare unnamed frame both runs may have (the
      // bound of `off` below; CI read 1 of ~5,000 on Node 24 once).
      const rare = V8_VERSION === '11.3' ? 0 : Math.ceil(on.raw.samples / 1000);
      expect(on.raw.unresolved).toBeLessThanOrEqual(rare);
      expect(on.raw.fixed.remap).toBeGreaterThan(on.raw.samples / 4);
      expect(off.raw.fixed.remap).toBe(0);
      const leaves = runs.map((r) => new Set(samplesOf(r).map((s) => s.frames[0].name)));
      expect(leaves[0]).toContain('(builtin) ArrayTimSort');
      if (V8_VERSION === '11.3') {
        expect(off.raw.unresolved).toBeGreaterThan(off.raw.samples / 4);
      } else {
        expect(off.raw.unresolved).toBeLessThanOrEqual(Math.ceil(off.raw.samples / 1000));
        expect(leaves[1]).toContain('(builtin) ArrayTimSort');
      }
    });
  });
});
