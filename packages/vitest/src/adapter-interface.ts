/** What each Vitest major's adapter provides (adapter-v4.ts, adapter-v5.ts); adapter.ts picks one. */
import type { TestProject, Vitest } from 'vitest/node';
import type { ResolvedSettings } from './settings.js';

export interface VitestAdapter {
  readonly major: number;
  /** Whether `project` runs benchmarks in this run; the plugin is inert everywhere else. */
  benchmarking(vitest: Vitest, project: TestProject): boolean;
  /** Makes the project's workers profile each benchmark; `provided` reaches them as-is. Throws when it cannot. */
  install(project: TestProject, provideKey: string, provided: unknown): void;
  /** What `vitest bench` does before starting Vitest: adjusts the parsed CLI options, returns the mode for startVitest. */
  benchCommand(options: Record<string, unknown>): string;
  /** Adds the perfprofile reporter (reading the run's settings through `settings`) to the run's reporters. */
  addReporter(vitest: Vitest, settings: () => ResolvedSettings | undefined): void;
}
