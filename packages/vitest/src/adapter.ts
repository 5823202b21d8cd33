/**
 * Picks the adapter for the running Vitest major, once per version.
 *
 * The plugin asks its adapter whether a project runs benchmarks and to install the profiling
 * hook into it: Vitest 4 swaps in our NodeBenchmarkRunner subclass (adapter-v4.ts → runner.ts);
 * Vitest 5 sets a benchmark provider that wraps the project's own (adapter-v5.ts →
 * provider-v5.ts). Everything else (settings, output, reporter, profiling a pass) is shared.
 */
import type { VitestAdapter } from './adapter-interface.js';
import { vitest4 } from './adapter-v4.js';
import { vitest5, VITEST5_MIN_NODE } from './adapter-v5.js';

const detected = new Map<string, VitestAdapter | Error>();

/** The adapter for a Vitest version string (detected once per version), or an error naming what is supported. */
export function adapterFor(version: string, nodeVersion: string = process.versions.node): VitestAdapter | Error {
  const key = `${version}\u0000${nodeVersion}`;
  let adapter = detected.get(key);
  if (!adapter) {
    adapter = detect(version, nodeVersion);
    detected.set(key, adapter);
  }
  return adapter;
}

function detect(version: string, nodeVersion: string): VitestAdapter | Error {
  const [major, minor] = version.split('.').map(Number);
  if (major === 4 && minor >= 1) return vitest4;
  if (major === 5) {
    if (compareVersions(nodeVersion, VITEST5_MIN_NODE) < 0) {
      return new Error(
        `Vitest ${version} needs Node >= ${VITEST5_MIN_NODE} (this is Node ${nodeVersion}); use Vitest 4.1 on this Node`,
      );
    }
    return vitest5;
  }
  return new Error(`vitest-perfprofile supports Vitest 4.1 and 5 (found ${version})`);
}

/** Negative, zero or positive as dotted version `a` is below, equal to or above `b`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
