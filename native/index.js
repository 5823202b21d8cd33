'use strict';
// Loads the compiled addon. Never throws: `status()` says whether it loaded and why not.
const fs = require('node:fs');
const path = require('node:path');

let cached;

function load() {
  if (cached) return cached;
  if (process.platform !== 'linux') return (cached = { ok: false, reason: 'Linux only' });
  const file = path.join(__dirname, 'build', 'Release', 'perfprofile_native.node');
  if (!fs.existsSync(file)) {
    let reason = 'not built (run `pnpm install` or `pnpm --filter @perfprofile/native rebuild`)';
    try {
      const s = JSON.parse(fs.readFileSync(path.join(__dirname, 'build', 'status.json'), 'utf8'));
      if (!s.ok && s.reason) reason = s.reason;
    } catch {
      // no status: never built
    }
    return (cached = { ok: false, reason: `@perfprofile/native ${reason}` });
  }
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
