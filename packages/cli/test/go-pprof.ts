import { execFileSync } from 'node:child_process';

/** flat% per function from `go tool pprof -top`. */
export function pprofTop(file: string): Map<string, number> {
  const out = execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=50', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const shares = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^\s*[\d.]+\w*\s+([\d.]+)%\s+[\d.]+%\s+[\d.]+\w*\s+[\d.]+%\s+(.+?)\s*$/.exec(line);
    if (m) shares.set(m[2], Number(m[1]));
  }
  return shares;
}
