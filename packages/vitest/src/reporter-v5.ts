/**
 * The perfprofile reporter under Vitest 5, where a test may run several benchmarks.
 *
 * Each registration of `bench.compare()` is a benchmark, and Vitest reports them per test after
 * the test has run: the benchmarks each test must have left a profile for are the tasks of its
 * reported benchmarks (`onTestCaseBenchmark`), named as the worker names them (names-v5.ts).
 * Baselines loaded with `bench.from()` are not run, so they are not expected.
 */
import type { TestCase } from 'vitest/node';
import { registrationFullName } from './names-v5.js';
import { PerfprofileReporterBase } from './reporter-base.js';

/** Vitest 5's `TestBenchmark`, as far as the reporter reads it. */
interface TestBenchmarkLike {
  readonly tasks: readonly { readonly name: string; readonly fromStore?: boolean }[];
}

export class PerfprofileReporterV5 extends PerfprofileReporterBase {
  /** Benchmarks each test ran, by test id. */
  private readonly ran = new Map<string, string[]>();

  onTestCaseBenchmark(testCase: TestCase, benchmark: TestBenchmarkLike): void {
    const names = this.ran.get(testCase.id) ?? [];
    for (const task of benchmark.tasks)
      if (!task.fromStore) names.push(registrationFullName(testCase.fullName, task.name));
    this.ran.set(testCase.id, names);
  }

  protected override benchmarksOf(test: TestCase): readonly string[] {
    return this.ran.get(test.id) ?? [];
  }
}
