/** `perfprofile merge`: profiles and output directories into one gzipped pprof. */
import { writeFileSync } from 'node:fs';
import { encode, merge, ProfileError } from '@perfprofile/core';
import { parseArgs } from '../args.js';
import { readTarget } from '../common.js';

export const summary = 'merge profiles with the same sample types into one';
export const usage = `usage: perfprofile merge <a> <b> ... -o merged.pb.gz

Merges profiles (pprof, .cpuprofile or collapsed; a vitest-perf directory contributes all its
benchmark profiles) into one gzipped pprof. All inputs must have the same sample types.`;

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('merge', argv, [{ name: 'output', short: 'o', type: 'string' }]);
  if (args.flags.help) return (console.log(usage), 0);
  if (!args.flags.output)
    throw new ProfileError(
      'ERR_USAGE',
      'merge: -o <file> is required',
      'perfprofile merge a.pb.gz b.pb.gz -o merged.pb.gz',
    );
  if (args.positionals.length === 0)
    throw new ProfileError(
      'ERR_USAGE',
      'merge: no input profiles',
      'perfprofile merge a.pb.gz b.pb.gz -o merged.pb.gz',
    );
  const profiles = args.positionals.flatMap((p) => {
    const t = readTarget(p);
    return t.kind === 'profile' ? [t.profile] : t.run.benchmarks.map((b) => t.run.load(b));
  });
  const merged = merge(profiles);
  writeFileSync(String(args.flags.output), encode(merged));
  process.stderr.write(
    `perfprofile: merged ${profiles.length} profiles (${merged.samples.length} distinct samples) → ${args.flags.output}\n`,
  );
  return 0;
}
