import { execFileSync } from 'node:child_process';
import { toolPath } from '../../../scripts/tools.mjs';

/** `go tool pprof <args>` output; without go, an error naming it and how to install it. */
export function goPprof(args: string[]): string {
  return execFileSync(toolPath('go'), ['tool', 'pprof', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** flat% per function from `go tool pprof -top`. */
export function pprofTop(file: string): Map<string, number> {
  const out = goPprof(['-top', '-nodecount=50', file]);
  const shares = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^\s*[\d.]+\w*\s+([\d.]+)%\s+[\d.]+%\s+[\d.]+\w*\s+[\d.]+%\s+(.+?)\s*$/.exec(line);
    if (m) shares.set(m[2], Number(m[1]));
  }
  return shares;
}
