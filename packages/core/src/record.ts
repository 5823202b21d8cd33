/**
 * Preload for `perfprofile record`: `node --import @perfprofile/core/record script.js` profiles
 * the main thread from here to process exit and writes the pprof to $PERFPROFILE_RECORD_OUT
 * (default ./cpu.pb.gz) with the config in $PERFPROFILE_RECORD_CONFIG.
 */
import { setFlagsFromString } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { CPUProfile } from './cpuprofile.js';
import { formatError, isProfileError } from './errors.js';

if (isMainThread && !process.env.PERFPROFILE_RECORD_ACTIVE) {
  // Children of the recorded script inherit NODE_OPTIONS; only the first process records.
  process.env.PERFPROFILE_RECORD_ACTIVE = '1';
  // Keep inlining positions for code optimized from here on, so V8's sampler can attribute
  // samples in inlined functions to them rather than to their caller. Set before the script
  // is compiled.
  setFlagsFromString('--detailed-line-info');
  const out = process.env.PERFPROFILE_RECORD_OUT || 'cpu.pb.gz';
  try {
    const profile = new CPUProfile(process.env.PERFPROFILE_RECORD_CONFIG || undefined, { pathRoot: process.cwd() });
    profile.start(out);
    // 'exit' runs for normal ends, process.exit() and uncaught exceptions; stop() is synchronous.
    process.on('exit', () => {
      const result = profile.stop();
      if (result && process.env.PERFPROFILE_RECORD_STATS) {
        process.stderr.write(
          `perfprofile: ${result.stats.samples} samples (${result.stats.source}, ${result.stats.event}), ${result.stats.lost} lost → ${out}\n`,
        );
      }
    });
  } catch (e) {
    process.stderr.write((isProfileError(e) ? formatError(e) : `perfprofile: ${(e as Error).message}`) + '\n');
    process.exit(2);
  }
}
