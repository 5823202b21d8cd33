/**
 * vitest-perfprofile: per-benchmark pprof CPU profiles for `vitest bench`.
 *
 *   // vitest.config.ts
 *   import perfprofile from 'vitest-perfprofile';
 *   export default defineConfig({ plugins: [perfprofile({ out: 'perf.out' })] });
 */
export { perfprofile, perfprofile as default, type PerfprofileOptions } from './plugin.js';
export { summaryTable } from './summary.js';
export { PerfprofileReporter } from './reporter-v4.js';
export { extractFlags } from './settings.js';
export { benchId } from './slug.js';
export type { IndexFile } from './output.js';
export type { BenchmarkRecord } from './protocol.js';
