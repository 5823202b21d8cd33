'use strict';
// Loads the compiled addon built for this Node's ABI (scripts/install.js: build/node-abi<N>/).
// Never throws: `status()` says whether it loaded and why not. The addon uses V8's C++ API,
// which changes between Node majors, so a build for another ABI is never loaded.
const fs = require('node:fs');
const path = require('node:path');

let cached;

/** The build directory for this Node (and the sanitizer variant asan.sh selects). */
function buildDir() {
  const variant = process.env.PERFPROFILE_SANITIZE ? '-asan' : '';
  return path.join(__dirname, 'build', `node-abi${process.versions.modules}${variant}`);
}

function readStatus(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why there is no build for this Node: its own failure, or which Nodes it was built for. */
function notBuilt(dir) {
  const own = readStatus(dir);
  if (own && !own.ok && own.reason) return own.reason;
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
  if (others.length) return `not built for Node ${process.version} (ABI ${process.versions.modules}; built for ${others.join(', ')}): ${hint}`;
  return `not built (${hint})`;
}

function load() {
  if (cached) return cached;
  const platform = process.env.PERFPROFILE_SIMULATE_PLATFORM || process.platform;
  if (platform !== 'linux') return (cached = { ok: false, reason: 'Linux only' });
  const dir = buildDir();
  const file = path.join(dir, 'build', 'Release', 'perfprofile_native.node');
  if (!fs.existsSync(file)) return (cached = { ok: false, reason: `@perfprofile/native ${notBuilt(dir)}` });
  try {
    return (cached = { ok: true, binding: require(file) });
  } catch (e) {
    return (cached = { ok: false, reason: `@perfprofile/native failed to load: ${e && e.message}` });
  }
}

module.exports = {
  /** `{ ok: true, binding }` or `{ ok: false, reason }`. */
  status: load,
  /** The signal samples arrive on (SIGRTMIN+3). */
  get signal() {
    const s = load();
    return s.ok ? s.binding.signal : undefined;
  },
};
