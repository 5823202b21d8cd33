/** The perfprofile reporter under Vitest 4, where each benchmark is a test of its own. */
import type { TestCase } from 'vitest/node';
import { PerfprofileReporterBase } from './reporter-base.js';

export class PerfprofileReporter extends PerfprofileReporterBase {
  protected override benchmarksOf(test: TestCase): readonly string[] {
    return [test.fullName];
  }
}
