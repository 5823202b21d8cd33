/**
 * SIGINT and SIGTERM during a profiled run: catch them once, say where a benchmark was, stop the pool and exit.
 *
 * The reporter writes index.json from the finished profiles in between (reporter-base.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Vitest } from 'vitest/node';
import type { RunningBenchmark } from './output.js';

/** The exit code of a process ended by `sig`, as a shell reports it (130, 143). */
export function exitCodeOf(sig: NodeJS.Signals): number {
  return 128 + (sig === 'SIGINT' ? 2 : 15);
}

/** Calls `onSignal` on the first SIGINT or SIGTERM instead of Node's default exit; returns what removes the handlers. */
export function onInterrupt(onSignal: (sig: NodeJS.Signals) => void): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const remove = () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
    handlers.clear();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      remove();
      onSignal(sig);
    };
    handlers.set(sig, handler);
    process.once(sig, handler);
  }
  return remove;
}

/** Sends `sig` to this process's child processes (Linux: /proc/<pid>/task/<tid>/children). */
function signalChildren(sig: NodeJS.Signals): void {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${process.pid}/task`);
  } catch {
    return; // not Linux: Vitest's own close has to do
  }
  for (const tid of tasks) {
    let children: string;
    try {
      children = readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const pid of children.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), sig);
      } catch {
        // Already gone.
      }
    }
  }
}

/** Why a benchmark that was running when `sig` arrived left no profile. */
export function interruptedReason(b: RunningBenchmark, sig: string): string {
  if (b.phase !== 'profiled') return `interrupted by ${sig} in its ${b.phase} pass, before it was profiled`;
  return `interrupted by ${sig} while profiled${b.samples === undefined ? '' : ` (${b.samples} samples taken, profile not written)`}`;
}

/**
 * Stops the pool, then exits with `sig`'s code. A forks worker inside a synchronous benchmark
 * loop never reads Vitest's close message (nor notices its parent is gone) and would keep
 * running and sampling: it gets the same signal, then SIGKILL if it is still there.
 */
export function stopWorkersAndExit(vitest: Vitest | undefined, sig: NodeJS.Signals): void {
  signalChildren(sig);
  const exit = () => {
    signalChildren('SIGKILL');
    process.exit(exitCodeOf(sig));
  };
  setTimeout(exit, 2000).unref();
  (vitest?.close() ?? Promise.resolve()).then(exit, exit);
}
