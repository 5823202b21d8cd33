/** `perfprofile diff`: self and total shares before and after, for two profiles or two output directories. */
import { diffProfiles, matchBenchmarks, ProfileError, type AnalysisOptions, type ShareDiff } from '@perfprofile/core';
import { parseArgs } from '../args.js';
import { ANALYSIS_FLAGS, analysisOptions, intFlag, readTarget } from '../common.js';
import { renderDiff } from '../render.js';

export const summary = 'self share per function before/after, sorted by the change (profiles or perf.out dirs)';
export const usage = `usage: perfprofile diff <base> <head> [-n 20] [--sample-index <type>] [--focus <regex>] [--tag k=v] [--alloc] [--json]

Per function: self share in base and head and the change in percentage points, largest change
first, and the change of its total (self + callees) share: a self share that grew while the
total did not is time moved in from a callee, typically one the JIT inlined. Works on two
profiles (any format perfprofile reads) or two vitest-perf output directories, whose
benchmarks are matched by id (unmatched ones are listed).

options:
  -n, --nodes <n>          rows per comparison (default 20; 10 per benchmark for directories)
  --sample-index <type>    sample column (default: the profile's default)
  --focus <regex>, --tag <k=v>   narrow the samples on both sides, as for top
  --alloc                  directories: their allocation profiles (runs with alloc=on)
  --json                   machine-readable output`;

const asJson = (d: ShareDiff, n: number) => ({ ...d, rows: d.rows.slice(0, n) });

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('diff', argv, [...ANALYSIS_FLAGS, { name: 'alloc', type: 'boolean' }]);
  if (args.flags.help) return (console.log(usage), 0);
  if (args.positionals.length !== 2)
    throw new ProfileError('ERR_USAGE', 'diff: needs a base and a head', 'perfprofile diff base.pb.gz head.pb.gz');
  const options: AnalysisOptions = analysisOptions('diff', args);
  const [base, head] = args.positionals.map(readTarget);
  if (base.kind === 'profile' && head.kind === 'profile') {
    if (args.flags.alloc)
      throw new ProfileError(
        'ERR_USAGE',
        'diff: --alloc picks the allocation profiles of output directories',
        'pass the .alloc.pb.gz files themselves, or the directories',
      );
    const n = intFlag('diff', args, 'nodes', 20);
    const d = diffProfiles(base.profile, head.profile, options);
    console.log(args.flags.json ? JSON.stringify(asJson(d, n), null, 2) : renderDiff(d, n).join('\n'));
    return 0;
  }
  if (base.kind !== 'dir' || head.kind !== 'dir')
    throw new ProfileError(
      'ERR_USAGE',
      `diff: ${base.path} is a ${base.kind === 'dir' ? 'directory' : 'profile'} but ${head.path} is a ${head.kind === 'dir' ? 'directory' : 'profile'}`,
      'compare two profiles or two perf.out directories',
    );
  const n = intFlag('diff', args, 'nodes', 10);
  const { pairs, onlyBase, onlyHead } = matchBenchmarks(base.run, head.run);
  const load = (run: typeof base.run, b: (typeof pairs)[number][0]) =>
    args.flags.alloc ? run.loadAlloc(b) : run.load(b);
  const diffs = pairs.map(([b, h]) => ({ b, d: diffProfiles(load(base.run, b), load(head.run, h), options) }));
  if (args.flags.json) {
    console.log(
      JSON.stringify(
        {
          benchmarks: diffs.map(({ b, d }) => ({ id: b.id, fullName: b.fullName, ...asJson(d, n) })),
          onlyBase: onlyBase.map((b) => b.id),
          onlyHead: onlyHead.map((b) => b.id),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const out: string[] = [];
  for (const { b, d } of diffs) out.push(`== ${b.fullName}`, ...renderDiff(d, n), '');
  if (onlyBase.length) out.push(`only in base: ${onlyBase.map((b) => b.id).join(', ')}`);
  if (onlyHead.length) out.push(`only in head: ${onlyHead.map((b) => b.id).join(', ')}`);
  console.log(out.join('\n').trimEnd());
  return 0;
}
