/**
 * The Vitest 4.1 adapter: installs the profiling runner (runner.ts) as `test.runner`.
 *
 * Benchmark mode is a run mode (`vitest bench`), benchmarks are tinybench tasks run by
 * `NodeBenchmarkRunner`, and the profiler swaps in its subclass of it. Reporters for benchmark
 * mode live in `benchmark.reporters`.
 */
import { fileURLToPath } from 'node:url';
import type { VitestAdapter } from './adapter-interface.js';
import { PerfprofileReporter } from './reporter-v4.js';

export const vitest4: VitestAdapter = {
  major: 4,
  benchmarking(vitest) {
    return vitest.mode === 'benchmark';
  },
  benchCommand() {
    return 'benchmark';
  },
  install(project, provideKey, provided) {
    if (
      project.config.runner &&
      !project.config.runner.includes('vitest-perfprofile') &&
      !project.config.runner.endsWith('/runner.js')
    ) {
      throw new Error(
        `vitest-perfprofile: project "${project.name || 'root'}" already sets test.runner (${project.config.runner}); the profiler needs its own benchmark runner`,
      );
    }
    (project.config as { runner?: string }).runner = fileURLToPath(new URL('./runner.js', import.meta.url));
    (project.provide as (key: string, value: unknown) => void)(provideKey, provided);
  },
  addReporter(vitest, settings) {
    const bench = vitest.config.benchmark as { reporters?: unknown };
    const current =
      bench.reporters === undefined
        ? ['default']
        : Array.isArray(bench.reporters)
          ? bench.reporters
          : [bench.reporters];
    bench.reporters = [...current, new PerfprofileReporter(settings)];
  },
};
