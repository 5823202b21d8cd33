#!/usr/bin/env node
// Builds the addon on `pnpm install`. Never fails the install: when the build cannot run or
// fails, it writes build/status.json with the reason, which index.js reports as nativeStatus.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const statusFile = path.join(root, 'build', 'status.json');

function record(ok, reason) {
  fs.mkdirSync(path.dirname(statusFile), { recursive: true });
  fs.writeFileSync(statusFile, JSON.stringify({ ok, reason, node: process.version, at: new Date().toISOString() }) + '\n');
  if (!ok) console.warn(`@perfprofile/native: not built (${reason}); event=v8 still works`);
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

function main() {
  if (process.platform !== 'linux') return record(false, `Linux only (this is ${process.platform})`);
  if (process.arch !== 'x64') return record(false, `x64 only (this is ${process.arch})`);
  const gyp = nodeGyp();
  if (!gyp) return record(false, 'node-gyp not found');
  const args = [gyp, 'rebuild', '--release'];
  // Use the installed headers when they are there (no download from nodejs.org).
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node.h'))) args.push(`--nodedir=${prefix}`);
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: process.env });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
    const firstError = out.split('\n').find((l) => /error/i.test(l)) ?? r.error?.message ?? `exit ${r.status}`;
    fs.mkdirSync(path.join(root, 'build'), { recursive: true });
    fs.writeFileSync(path.join(root, 'build', 'build.log'), out);
    return record(false, `build failed: ${firstError.trim().slice(0, 300)} (see native/build/build.log)`);
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
