#!/usr/bin/env node
// `pnpm fuzz` (from the repo root: `npm run fuzz`): coverage-guided fuzzing of the parsers that
// take untrusted input — the config grammar, the pprof decoder, the .cpuprofile reader and the
// collapsed-stacks reader — for a fixed budget of executions per target.
//
// Coverage: the built modules (dist/) are instrumented with istanbul into .fuzz-build/, so
// every statement and branch arm has a counter; an input that moves a counter off zero is new
// coverage and joins the corpus. (@jazzer.js cannot run here: its prebuilt libFuzzer needs
// glibc 2.38 and its source build downloads from GitHub.) Mutations: bit flips, random bytes,
// inserts, deletes, duplicated ranges, splices of two corpus entries, dictionary tokens.
//
// Each target runs in a Worker watched by the main thread: an exception that is not a
// ProfileError, a broken invariant, or an input running over 2 s (a hang) is saved to
// fuzz-out/<target>-<kind>-<hash> and fails the run (exit 1).
//
//   node fuzz/fuzz.mjs [--runs 250000] [--targets config,pprof,cpuprofile,collapsed] [--save-corpus]
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const BUILD = path.join(PKG, '.fuzz-build');
const CORPUS = path.join(PKG, 'test/fuzz-corpus');
const OUT = path.join(PKG, 'fuzz-out');
const MAX_LEN = 4096;
const HANG_MS = 2000;

if (isMainThread) await main();
else await fuzzWorker(workerData);

// ---- Main thread: instrument, run each target in a watched Worker, report -------------------

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const runs = Number(opt('runs', 250_000));
  const targets = opt('targets', 'config,pprof,cpuprofile,collapsed').split(',');
  if (!(runs > 0)) throw new Error('--runs needs a positive number');
  instrument();
  const rows = [];
  let failed = false;
  for (const target of targets) {
    const r = await runTarget(target, runs, args.includes('--save-corpus'));
    rows.push(r);
    if (r.failure) failed = true;
  }
  console.log(
    '| target | executions | seconds | exec/s | coverage (statements+branch arms hit) | corpus (seed → final) | result |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    console.log(
      `| ${r.target} | ${r.execs.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} | ${Math.round(r.execs / r.seconds).toLocaleString('en-US')} | ${r.covered} | ${r.seeds} → ${r.corpus} | ${r.failure ?? 'no crash, no hang'} |`,
    );
  }
  const total = rows.reduce((a, r) => a + r.execs, 0);
  console.log(`\ntotal: ${total.toLocaleString('en-US')} executions, node ${process.version}`);
  process.exitCode = failed ? 1 : 0;
}

/** Copies dist/ to .fuzz-build/dist with every module instrumented (proto/ alongside). */
function instrument() {
  rmSync(BUILD, { recursive: true, force: true });
  mkdirSync(path.join(BUILD, 'dist'), { recursive: true });
  cpSync(path.join(PKG, 'proto'), path.join(BUILD, 'proto'), { recursive: true });
  const require = createRequire(path.join(PKG, 'package.json'));
  const { createInstrumenter } = require('istanbul-lib-instrument');
  const inst = createInstrumenter({
    esModules: true,
    coverageVariable: '__fuzzCoverage',
    compact: true,
    produceSourceMap: false,
  });
  const walk = (rel) => {
    for (const e of readdirSync(path.join(PKG, 'dist', rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        mkdirSync(path.join(BUILD, 'dist', r), { recursive: true });
        walk(r);
      } else if (e.name.endsWith('.js')) {
        const src = readFileSync(path.join(PKG, 'dist', r), 'utf8');
        writeFileSync(path.join(BUILD, 'dist', r), inst.instrumentSync(src, path.join(PKG, 'dist', r)));
      }
    }
  };
  walk('');
}

function runTarget(target, runs, saveCorpus) {
  return new Promise((resolve) => {
    const shared = new SharedArrayBuffer(8 + MAX_LEN);
    const beat = new Int32Array(shared, 0, 2); // [executions done, current input length]
    const current = new Uint8Array(shared, 8, MAX_LEN);
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { target, runs, shared, saveCorpus } });
    let last = -1,
      stale = 0,
      done = false;
    const started = performance.now();
    const watch = setInterval(() => {
      const n = Atomics.load(beat, 0);
      if (n !== last) {
        last = n;
        stale = 0;
        return;
      }
      stale += 250;
      if (stale >= HANG_MS && !done) {
        done = true;
        clearInterval(watch);
        const input = Buffer.from(current.subarray(0, Atomics.load(beat, 1)));
        const file = save(target, 'hang', input);
        worker.terminate();
        resolve({
          target,
          execs: n,
          seconds: (performance.now() - started) / 1000,
          covered: '-',
          seeds: '-',
          corpus: '-',
          failure: `HANG (> ${HANG_MS} ms) saved to ${file}`,
        });
      }
    }, 250);
    worker.on('message', (m) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      if (m.failure)
        m.failure = `${m.failure.kind.toUpperCase()}: ${m.failure.message} (saved to ${save(target, m.failure.kind, Buffer.from(m.failure.input))})`;
      resolve({ target, ...m, seconds: (performance.now() - started) / 1000 });
    });
    worker.on('error', (e) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      resolve({
        target,
        execs: Atomics.load(beat, 0),
        seconds: (performance.now() - started) / 1000,
        covered: '-',
        seeds: '-',
        corpus: '-',
        failure: `worker died: ${e.message}`,
      });
    });
  });
}

function save(target, kind, input) {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${target}-${kind}-${createHash('sha1').update(input).digest('hex').slice(0, 12)}`);
  writeFileSync(file, input);
  return path.relative(process.cwd(), file);
}

// ---- Worker: the fuzz loop for one target -----------------------------------------------------

async function fuzzWorker({ target, runs, shared, saveCorpus }) {
  const core = await import(path.join(BUILD, 'dist/index.js'));
  const { TARGETS } = await import('./targets.mjs');
  const spec = TARGETS[target];
  if (!spec) throw new Error(`unknown target ${target} (${Object.keys(TARGETS).join(', ')})`);
  const check = spec.check(core);
  const beat = new Int32Array(shared, 0, 2);
  const current = new Uint8Array(shared, 8, MAX_LEN);

  // Counters of the instrumented modules, flattened once (the objects stay the same).
  const cov = globalThis.__fuzzCoverage;
  const counters = [];
  for (const file of Object.values(cov)) {
    counters.push({ obj: file.s, keys: Object.keys(file.s), arm: false });
    counters.push({ obj: file.b, keys: Object.keys(file.b), arm: true });
  }
  const seen = new Set();
  const newCoverage = () => {
    let found = false;
    for (let c = 0; c < counters.length; c++) {
      const { obj, keys, arm } = counters[c];
      for (const k of keys) {
        if (arm) {
          const arms = obj[k];
          for (let i = 0; i < arms.length; i++) {
            if (arms[i] > 0 && !seen.has(`${c}:${k}:${i}`)) {
              seen.add(`${c}:${k}:${i}`);
              found = true;
            }
          }
        } else if (obj[k] > 0 && !seen.has(`${c}:${k}`)) {
          seen.add(`${c}:${k}`);
          found = true;
        }
      }
    }
    return found;
  };

  const dir = path.join(CORPUS, target);
  const corpus = existsSync(dir)
    ? readdirSync(dir)
        .sort()
        .map((f) => readFileSync(path.join(dir, f)))
    : [];
  const seeds = corpus.length;
  if (corpus.length === 0) corpus.push(Buffer.from(''));
  newCoverage(); // module initialisation is not the inputs' doing

  let execs = 0;
  const run = (input) => {
    current.set(input.subarray(0, MAX_LEN));
    Atomics.store(beat, 1, Math.min(input.length, MAX_LEN));
    try {
      check(input);
    } catch (e) {
      const kind = e && e.invariant ? 'invariant' : 'crash';
      parentPort.postMessage({
        execs,
        covered: seen.size,
        seeds,
        corpus: corpus.length,
        failure: { kind, message: String(e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e), input },
      });
      return false;
    }
    Atomics.store(beat, 0, ++execs);
    return true;
  };
  for (const seed of [...corpus]) if (!run(seed)) return;
  newCoverage();

  let seed = 0x2545f491;
  const rnd = (n) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const dict = spec.dictionary.map((t) => Buffer.from(t));
  const mutate = (base) => {
    let b = Buffer.from(base);
    const rounds = 1 + rnd(4);
    for (let r = 0; r < rounds; r++) {
      const at = b.length ? rnd(b.length) : 0;
      switch (rnd(8)) {
        case 0:
          if (b.length) b[at] ^= 1 << rnd(8);
          break;
        case 1:
          if (b.length) b[at] = rnd(256);
          break;
        case 2:
          b = Buffer.concat([b.subarray(0, at), Buffer.from([rnd(256)]), b.subarray(at)]);
          break;
        case 3:
          if (b.length) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rnd(Math.min(16, b.length - at)))]);
          break;
        case 4: {
          const len = 1 + rnd(Math.min(32, Math.max(1, b.length - at)));
          b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
          break;
        }
        case 5: {
          const other = corpus[rnd(corpus.length)];
          const cut = other.length ? rnd(other.length) : 0;
          b = Buffer.concat([b.subarray(0, at), other.subarray(cut)]);
          break;
        }
        default: {
          const tok = dict[rnd(dict.length)];
          b = Buffer.concat([b.subarray(0, at), tok, b.subarray(at)]);
        }
      }
    }
    return b.length > MAX_LEN ? b.subarray(0, MAX_LEN) : b;
  };
  while (execs < runs) {
    const input = mutate(corpus[rnd(corpus.length)]);
    if (!run(input)) return;
    if (newCoverage()) {
      corpus.push(input);
      if (saveCorpus) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, createHash('sha1').update(input).digest('hex').slice(0, 16)), input);
      }
    }
  }
  parentPort.postMessage({ execs, covered: seen.size, seeds, corpus: corpus.length });
}
