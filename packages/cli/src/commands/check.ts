/** `perfprofile check`: the CI gate on the command line (the gate is core's checkRuns, the report check-report.ts). */
import { appendFileSync, writeFileSync } from 'node:fs';
import { checkRuns, ProfileError } from '@perfprofile/core';
import { parseArgs } from '../args.js';
import { checkMarkdown, checkText } from '../check-report.js';
import { numberFlag, readTarget } from '../common.js';

export const summary = 'CI gate: fail when a function\'s share or a per-op counter grew past a limit';
export const usage = `usage: perfprofile check <base-dir> <head-dir> [--max-share-increase 5] [--max-counter-increase 10%] [--counters task-clock,...] [--markdown <file>] [--json]

Compares two vitest-perf output directories benchmark by benchmark (matched by id). A benchmark
regresses when a function's share grew by more than --max-share-increase percentage points in
both its self and its total (self + callees) share, and by at least --min-z standard errors at
the two sample counts (default 4), so small profiles do not cry wolf. A self share that grew
while the total did not is time moved in from a callee the JIT inlined: shown, not counted.
It also regresses when a gated per-op counter from index.json grew by more than
--max-counter-increase percent. Gated (--counters): by default instructions, cycles, ref-cycles
and branch-instructions per op, which need a PMU; task-clock includes time a VM's host steals
and page-faults/context-switches follow GC and the scheduler, so name them to gate them (e.g.
--counters task-clock --max-counter-increase 5% on dedicated hardware). Writes a markdown report
to --markdown and appends it to $GITHUB_STEP_SUMMARY when that is set.

options:
  --max-share-increase <pp>      default 5
  --min-z <n>                    default 4
  --max-counter-increase <pct>   default 10%
  --counters <a,b,...>           counters to gate (names as in index.json, /op optional)
  --markdown <file>              write the report there too
  --json                         machine-readable result

exit codes: 0 no regressions · 1 regressions (listed per benchmark) · 2 unusable input`;

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('check', argv, [
    { name: 'max-share-increase', type: 'string' },
    { name: 'max-counter-increase', type: 'string' },
    { name: 'markdown', type: 'string' },
    { name: 'counters', type: 'string' },
    { name: 'min-z', type: 'string' },
    { name: 'json', type: 'boolean' },
  ]);
  if (args.flags.help) return console.log(usage), 0;
  if (args.positionals.length !== 2) throw new ProfileError('ERR_USAGE', 'check: needs a base and a head directory', 'perfprofile check base.out head.out');
  const [base, head] = args.positionals.map(readTarget).map((t) => {
    if (t.kind !== 'dir') throw new ProfileError('ERR_INPUT', `check: ${t.path} is not a vitest-perf output directory (no index.json)`, 'pass the directories given to --perfprofile; for two single profiles use perfprofile diff');
    return t;
  });
  const result = checkRuns(base.run, head.run, {
    maxShareIncrease: numberFlag('check', args, 'max-share-increase', 5),
    maxCounterIncrease: numberFlag('check', args, 'max-counter-increase', 10) / 100,
    minZ: numberFlag('check', args, 'min-z', 4),
    ...(args.flags.counters === undefined ? {} : { counters: String(args.flags.counters).split(',').map((c) => (c.endsWith('/op') ? c : `${c}/op`)) }),
  });
  if (result.benchmarks.length === 0) throw new ProfileError('ERR_INPUT', `check: no benchmark of ${base.path} is in ${head.path}`, 'compare runs of the same benchmarks');
  const md = checkMarkdown(result);
  if (args.flags.markdown) writeFileSync(String(args.flags.markdown), md);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, md + '\n');
  if (args.flags.json) console.log(JSON.stringify(result, null, 2));
  else console.log(checkText(result));
  return result.regressions > 0 ? 1 : 0;
}
