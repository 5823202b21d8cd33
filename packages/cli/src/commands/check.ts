/** `perfprofile check`: the CI gate on the command line (the gate is core's checkRuns, the report check-report.ts). */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkRuns, isRunDir, ProfileError, readRunSet, type RunDir } from '@perfprofile/core';
import { parseArgs, type ParsedArgs } from '../args.js';
import { checkMarkdown, checkText } from '../check-report.js';
import { limits, numberFlag } from '../common.js';
import { writeFlameDiffs } from '../flame-diff.js';

export const summary = "CI gate: fail when a benchmark's CPU time per op grew beyond run-to-run noise";
export const usage = `usage: perfprofile check <base-dir> <head-dir> [options]
       perfprofile check <base-dir>... -- <head-dir>...        (several runs a side)

Compares vitest-perf output directories benchmark by benchmark (matched by id). Each side is
one run, or several runs of the same suite: directories listed before and after --, and the
repeats a directory lists (vitest-perf --perfprofile-runs N). A benchmark regresses when its
CPU time per op outside the harness (the profiled pass's task-clock/op × the profile's
non-harness share; the measured pass's in runs that lack it; wall time when a run has no
task-clock counter) grew by at least --min-change, by at least --min-z
standard errors of run-to-run noise, and, with 3 or more runs a side, with Mann–Whitney's test
over runs at --alpha. The noise is each benchmark's own spread between runs, moderated by the
suite's; with one run a side it is the spread of all benchmarks' changes and the bar is higher
(the report says what that pair can detect). The report names the function whose cost per op
(its share of the samples × the time per op) carries the increase, with the top movers.
Gated too when both sides have them: index.json memory bytesPerOp and allocsPerOp, and the
per-op counters named by --counters (default: the PMU's instructions, cycles, ref-cycles and
branch-instructions), of the same pass as the time.

options:
  --min-change <pct>       smallest increase flagged (default 10%)
  --min-z <n>              smallest increase flagged, in standard errors of noise (default 4)
  --alpha <p>              level of the rank test over runs (default 0.05)
  --min-share <pct>        functions below this share of a benchmark are not listed (default 5%)
  --counters <a,b,...>     per-op counters to gate (names as in index.json, /op optional)
  --markdown <file>        write the markdown report there too ($GITHUB_STEP_SUMMARY gets it when set)
  --flame-diff <dir>       write a differential flame graph per regressed benchmark (<id>.html)
  --json                   machine-readable result

exit codes: 0 no regressions · 1 regressions (listed per benchmark) · 2 unusable input`;

const FLAGS = [
  { name: 'min-change', type: 'string' },
  { name: 'min-z', type: 'string' },
  { name: 'alpha', type: 'string' },
  { name: 'min-share', type: 'string' },
  { name: 'counters', type: 'string' },
  { name: 'markdown', type: 'string' },
  { name: 'flame-diff', type: 'string' },
  { name: 'json', type: 'boolean' },
] as const;

/** One side's directories, each with the repeats it lists; the same run twice is an error. */
function side(dirs: readonly string[], name: string): RunDir[] {
  const runs: RunDir[] = [];
  const seen = new Set<string>();
  for (const d of dirs) {
    if (!isRunDir(d))
      throw new ProfileError(
        'ERR_INPUT',
        `check: ${d} is not a vitest-perf output directory (no index.json)`,
        'pass the directories given to --perfprofile; for two single profiles use perfprofile diff',
      );
    for (const run of readRunSet(d, limits)) {
      const key = path.resolve(run.dir);
      if (seen.has(key))
        throw new ProfileError(
          'ERR_USAGE',
          `check: ${run.dir} is given twice on the ${name} side`,
          `${d} already includes the repeats its index.json lists; pass it once`,
        );
      seen.add(key);
      runs.push(run);
    }
  }
  return runs;
}

/** The two sides: `base head`, or `base... -- head...` (`dashed`: the arguments had `--`). */
function sides(args: ParsedArgs, dashed: boolean): [string[], string[]] {
  if (dashed) {
    if (!args.positionals.length || !args.rest.length)
      throw new ProfileError(
        'ERR_USAGE',
        'check: needs base directories before -- and head directories after it',
        'perfprofile check base-1 base-2 base-3 -- head-1 head-2 head-3',
      );
    return [args.positionals, args.rest];
  }
  if (args.positionals.length !== 2)
    throw new ProfileError(
      'ERR_USAGE',
      'check: needs a base and a head directory',
      'perfprofile check base.out head.out, or base-1 base-2 -- head-1 head-2 for several runs a side',
    );
  return [[args.positionals[0]], [args.positionals[1]]];
}

/** A fraction from a percent flag ("10%", "10" → 0.1); p-values are taken as they are. */
const fraction = (args: ParsedArgs, name: string, fallback: number) =>
  numberFlag('check', args, name, fallback * 100) / 100;

/** Options may stand on either side of `--`; the directories after it are head's. */
function parse(argv: readonly string[]): { args: ParsedArgs; dashed: boolean } {
  const dash = argv.indexOf('--');
  if (dash < 0) return { args: parseArgs('check', argv, FLAGS), dashed: false };
  const before = parseArgs('check', argv.slice(0, dash), FLAGS);
  const after = parseArgs('check', argv.slice(dash + 1), FLAGS);
  return {
    args: {
      flags: { ...before.flags, ...after.flags },
      positionals: before.positionals,
      rest: [...after.positionals, ...after.rest],
    },
    dashed: true,
  };
}

export async function run(argv: readonly string[]): Promise<number> {
  const { args, dashed } = parse(argv);
  if (args.flags.help) return (console.log(usage), 0);
  const [baseDirs, headDirs] = sides(args, dashed);
  const base = side(baseDirs, 'base');
  const head = side(headDirs, 'head');
  const alpha = numberFlag('check', args, 'alpha', 0.05);
  if (!(alpha > 0 && alpha < 1))
    throw new ProfileError(
      'ERR_USAGE',
      `check: --alpha must be between 0 and 1, got "${args.flags.alpha}"`,
      'e.g. --alpha 0.05',
    );
  const result = checkRuns(base, head, {
    minChange: fraction(args, 'min-change', 0.1),
    minZ: numberFlag('check', args, 'min-z', 4),
    alpha,
    minShare: fraction(args, 'min-share', 0.05),
    ...(args.flags.counters === undefined
      ? {}
      : {
          counters: String(args.flags.counters)
            .split(',')
            .map((c) => (c.endsWith('/op') ? c : `${c}/op`)),
        }),
  });
  if (result.benchmarks.length === 0)
    throw new ProfileError(
      'ERR_INPUT',
      `check: no benchmark of ${baseDirs.join(', ')} is in ${headDirs.join(', ')}`,
      'compare runs of the same benchmarks',
    );
  const flameDir = args.flags['flame-diff'] === undefined ? undefined : String(args.flags['flame-diff']);
  const flames = flameDir === undefined ? new Map<string, string>() : writeFlameDiffs(result, base, head, flameDir);
  const md = checkMarkdown(result, flames);
  if (args.flags.markdown) writeFileSync(String(args.flags.markdown), md);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, md + '\n');
  if (args.flags.json) console.log(JSON.stringify({ ...result, flameDiffs: Object.fromEntries(flames) }, null, 2));
  else console.log(checkText(result, flames));
  return result.regressions > 0 ? 1 : 0;
}
