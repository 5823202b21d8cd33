/**
 * The Vitest-major seam. The plugin detects the major once and asks its adapter to install the
 * profiling hook into a project: Vitest 4 swaps in our NodeBenchmarkRunner subclass (runner.ts);
 * Vitest 5 will register a benchmark provider instead. Everything else (settings, output,
 * reporter, profiling a pass) is shared.
 */
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

export interface VitestAdapter {
  readonly major: number;
  /** Makes the project's workers profile each benchmark; `provided` reaches them as-is. */
  install(project: TestProject, provideKey: string, provided: unknown): void;
}

const vitest4: VitestAdapter = {
  major: 4,
  install(project, provideKey, provided) {
    if (project.config.runner && !project.config.runner.includes('vitest-perfprofile') && !project.config.runner.endsWith('/runner.js')) {
      throw new Error(`vitest-perfprofile: project "${project.name || 'root'}" already sets test.runner (${project.config.runner}); the profiler needs its own benchmark runner`);
    }
    (project.config as { runner?: string }).runner = fileURLToPath(new URL('./runner.js', import.meta.url));
    (project.provide as (key: string, value: unknown) => void)(provideKey, provided);
  },
};

/** The adapter for a Vitest version string, or an error naming what is supported. */
export function adapterFor(version: string): VitestAdapter | Error {
  const major = Number(version.split('.')[0]);
  if (major === 4) return vitest4;
  return new Error(`vitest-perfprofile supports Vitest 4.1 (found ${version}); Vitest ${major} support comes with its benchmark provider API`);
}
