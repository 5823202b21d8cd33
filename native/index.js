'use strict';
// Loads the addon for this Node's ABI, first found wins:
//   1. a local source build, build/node-abi<N>[-asan]/ (scripts/install.js; the dev workspace,
//      or an install where no prebuilt binary fit)
//   2. the prebuilt binary the package tarball carries, prebuilds/<target>/node-abi<N>.node
//      (scripts/prebuild.mjs at pack time; never for the sanitizer variant)
// Never throws: `status()` says which file loaded, or what was tried and why each failed. The
// addon uses V8's C++ API, which changes between Node majors, so a binary for another ABI is
// never loaded (Node-API would not stop it, and it would crash).
const fs = require('node:fs');
const path = require('node:path');

let cached;

/** The build directory for this Node (and the sanitizer variant asan.sh selects). */
function buildDir() {
  const variant = process.env.PERFPROFILE_SANITIZE ? '-asan' : '';
  return path.join(__dirname, 'build', `node-abi${process.versions.modules}${variant}`);
}

/** `<platform>-<arch>-<libc>` of this process, e.g. linux-x64-glibc: the prebuilds/ subdirectory. */
function prebuiltTarget() {
  const platform = process.env.PERFPROFILE_SIMULATE_PLATFORM || process.platform;
  if (platform !== 'linux') return `${platform}-${process.arch}`;
  // glibcVersionRuntime is set only when this Node runs on glibc.
  let libc = 'unknown';
  try {
    libc = process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
  } catch {
    // no report: no prebuilt binary can be chosen safely
  }
  return `linux-${process.arch}-${libc}`;
}

/** The prebuilt binary for an ABI on this target (it may not exist). */
function prebuiltFile(abi = process.versions.modules, target = prebuiltTarget()) {
  return path.join(__dirname, 'prebuilds', target, `node-abi${abi}.node`);
}

function readStatus(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function rel(file) {
  return path.relative(__dirname, file);
}

/** Why there is no source build for this Node: its own failure, or which Nodes it was built for. */
function notBuilt(dir) {
  const own = readStatus(dir);
  if (own && !own.ok && own.reason) return `not built from source for Node ${process.version}: ${own.reason}`;
  if (process.env.PERFPROFILE_SANITIZE)
    return `no sanitizer build for Node ${process.version} (PERFPROFILE_SANITIZE is set; \`bash native/scripts/asan.sh\` builds it)`;
  let others = [];
  try {
    others = fs
      .readdirSync(path.join(__dirname, 'build'))
      .filter((d) => /^node-abi\d+$/.test(d))
      .map((d) => readStatus(path.join(__dirname, 'build', d)))
      .filter((s) => s && s.ok)
      .map((s) => s.node);
  } catch {
    // no build directory at all
  }
  const hint = `run \`node native/scripts/install.js\` with this Node, or \`pnpm --filter @perfprofile/native rebuild\``;
  if (others.length)
    return `not built for Node ${process.version} (ABI ${process.versions.modules}; built for ${others.join(', ')}): ${hint}`;
  return `not built from source (${hint})`;
}

/** Why no prebuilt binary fits: which target and ABI were looked for, and what the package has. */
function noPrebuilt(target) {
  let abis = [];
  try {
    abis = fs
      .readdirSync(path.join(__dirname, 'prebuilds', target))
      .map((f) => /^node-abi(\d+)\.node$/.exec(f))
      .filter(Boolean)
      .map((m) => m[1]);
  } catch {
    // no prebuilds for this target (or none at all: the dev workspace)
  }
  const has = abis.length ? `has ABI ${abis.join(', ')}` : 'has none for this target';
  return `no prebuilt binary for ${target}, ABI ${process.versions.modules} (Node ${process.version}; the package ${has})`;
}

function tryLoad(file, source, tried) {
  try {
    return { ok: true, binding: require(file), source, file };
  } catch (e) {
    tried.push(`${rel(file)} failed to load: ${e && e.message}`);
    return undefined;
  }
}

function load() {
  if (cached) return cached;
  const platform = process.env.PERFPROFILE_SIMULATE_PLATFORM || process.platform;
  if (platform !== 'linux') return (cached = { ok: false, reason: 'Linux only' });
  const tried = [];
  const dir = buildDir();
  const built = path.join(dir, 'build', 'Release', 'perfprofile_native.node');
  if (fs.existsSync(built)) {
    const loaded = tryLoad(built, 'build', tried);
    if (loaded) return (cached = loaded);
  } else {
    tried.push(notBuilt(dir));
  }
  // asan.sh asked for the sanitized build: a prebuilt one would silently test something else.
  if (!process.env.PERFPROFILE_SANITIZE) {
    const target = prebuiltTarget();
    const file = prebuiltFile(process.versions.modules, target);
    if (fs.existsSync(file)) {
      const loaded = tryLoad(file, 'prebuilt', tried);
      if (loaded) return (cached = loaded);
    } else {
      tried.push(noPrebuilt(target));
    }
  }
  return (cached = { ok: false, reason: `@perfprofile/native: ${tried.join('; ')}` });
}

module.exports = {
  /** `{ ok: true, binding, source: 'build' | 'prebuilt', file }` or `{ ok: false, reason }`. */
  status: load,
  /** The signal samples arrive on (SIGRTMIN+3). */
  get signal() {
    const s = load();
    return s.ok ? s.binding.signal : undefined;
  },
  // For scripts/install.js and scripts/prebuild.mjs: one definition of the prebuilds/ layout.
  prebuiltTarget,
  prebuiltFile,
};
