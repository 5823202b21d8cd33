/**
 * Benchmark names under Vitest 5, shared by the worker (provider-v5.ts) and the reporter (reporter-v5.ts).
 *
 * A Vitest 5 benchmark is a registration (`bench(name, fn)`) made inside a test; its full name
 * is the test's suite path and name, then the registration's name — the registration's name is
 * not repeated when it equals the test's, so
 * `test('bubble 400', ({ bench }) => bench('bubble 400', fn).run())` inside
 * `describe('sorting')` is `sorting > bubble 400`, as `bench('bubble 400')` was under Vitest 4.
 */

/** Suite path, test and registration names, outermost first. */
export function registrationPath(fullTestName: string, registration: string): string[] {
  const parts = fullTestName.split(' > ');
  return parts[parts.length - 1] === registration ? parts : [...parts, registration];
}

/** The full name of a registration made in the test `fullTestName` (" > "-joined, as Vitest prints names). */
export function registrationFullName(fullTestName: string, registration: string): string {
  return registrationPath(fullTestName, registration).join(' > ');
}
