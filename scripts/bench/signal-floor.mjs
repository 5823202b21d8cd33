// native/bench/signal-floor.c for the harness: scripts/bench.mjs builds it once per use, and
// both it and scripts/bench/pass.mjs run it in --json mode.
import { spawnSync } from 'node:child_process';

/** Runs a built signal-floor with these arguments: one object per JSON line it prints. */
export function runSignalFloor(bin, args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`signal-floor exited ${r.status ?? r.signal}: ${r.stderr.split('\n')[0]}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}
