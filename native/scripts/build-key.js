// What a build of the addon is made of, as one hash: install.js keeps a build whose key is
// unchanged (setup, lint and demo each run it), and prebuild.mjs takes such a build for its
// ABI instead of compiling the same sources again.
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
/** Compiler settings node-gyp reads from the environment. */
const ENV = ['CC', 'CXX', 'CFLAGS', 'CXXFLAGS', 'LDFLAGS', 'PERFPROFILE_SANITIZE'];

/** The C++ compiler make will run (CXX, else g++), by its `--version` line; '' when there is none. */
function compiler(env) {
  const [cmd, ...args] = (env.CXX || 'g++').trim().split(/\s+/);
  const r = spawnSync(cmd, [...args, '--version'], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.split('\n')[0] : '';
}

/**
 * The ABI, node-addon-api's version, the compiler and its environment, binding.gyp,
 * install.js and every source file. The Node version is not in it: builds for one ABI share
 * the key, and each caller compares the version itself where it matters.
 */
function sourceKey(abi, env = process.env) {
  const hash = createHash('sha256').update(`abi ${abi}\n`);
  hash.update(`node-addon-api ${require('node-addon-api/package.json').version}\n`);
  for (const name of ENV) hash.update(`${name}=${env[name] ?? ''}\n`);
  hash.update(`compiler ${compiler(env)}\n`);
  const files = [
    'binding.gyp',
    path.join('scripts', 'install.js'),
    ...fs.readdirSync(path.join(root, 'src'), { recursive: true }).map((f) => path.join('src', f)),
  ];
  for (const f of files.sort()) {
    const file = path.join(root, f);
    if (fs.statSync(file).isFile()) hash.update(`${f}\n`).update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

/** Where install.js leaves the addon in a build directory. */
function binaryIn(dir) {
  return path.join(dir, 'build', 'Release', 'perfprofile_native.node');
}

/** The status.json of `dir` when it holds a good build of the sources `key` names; else undefined. */
function builtStatus(dir, key) {
  try {
    const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
    return status.ok === true && status.sources === key && fs.existsSync(binaryIn(dir)) ? status : undefined;
  } catch {
    return undefined;
  }
}

module.exports = { sourceKey, binaryIn, builtStatus };
