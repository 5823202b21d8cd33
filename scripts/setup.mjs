#!/usr/bin/env node
// Installs the workspace (pinned pnpm via npx, native addon built by its install script) and
// compiles every package. Idempotent: a second run is a quick no-op install plus tsc.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const pnpm = fileURLToPath(new URL('./pnpm.mjs', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
for (const args of [
  ['install', '--frozen-lockfile=false'],
  ['-r', 'run', 'build'],
]) {
  const r = spawnSync(process.execPath, [pnpm, ...args], { stdio: 'inherit', cwd });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
