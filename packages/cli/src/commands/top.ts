/** `perfprofile top`: flat/cum per function for a profile, or one block per benchmark for an output directory. */
import {
  functionTable,
  ProfileError,
  type AnalysisOptions,
  type FunctionTable,
  type IndexBenchmark,
  type Profile,
} from '@perfprofile/core';
import { parseArgs } from '../args.js';
import { ANALYSIS_FLAGS, analysisOptions, intFlag, readTarget } from '../common.js';
import { renderTable } from '../render.js';

export const summary = 'flat/cum table per function (like pprof -top); one block per benchmark for a directory';
export const usage = `usage: perfprofile top <profile | perf.out dir> [-n 20] [--sample-index <type>] [--focus <regex>] [--tag k=v] [--alloc] [--json]

Self (flat) and cumulative time per function, largest flat first. A profile may be pprof
(.pb.gz / .pb), a .cpuprofile or collapsed stacks; an allocation profile (.alloc.pb.gz) shows
alloc_space by default. On a vitest-perf output directory, one short block per benchmark
(default -n 5 there), with its B/op and allocs/op.

options:
  -n, --nodes <n>          rows to show (default 20; 5 per benchmark for a directory)
  --sample-index <type>    sample column by type name or index (default: the profile's default)
  --focus <regex>          only samples with a frame whose function matches
  --tag <key=value>        only samples with this label (repeatable), e.g. --tag tier=turbofan
  --alloc                  directory: the allocation profiles (a run with alloc=on)
  --json                   machine-readable output`;

/** `  8240 B/op  1 allocs/op` after a benchmark's name, as Go's -benchmem prints them. */
function memoryText(b: IndexBenchmark): string {
  const m = b.memory;
  if (!m || m.bytesPerOp == null) return '';
  return `  ${Math.round(m.bytesPerOp)} B/op${m.allocsPerOp == null ? '' : `  ${Number(m.allocsPerOp.toPrecision(3))} allocs/op`}`;
}

const asJson = (t: FunctionTable, n: number) => ({ valueType: t.valueType, total: t.total, rows: t.rows.slice(0, n) });

function tableOf(profile: Profile, options: AnalysisOptions, where: string): FunctionTable {
  const t = functionTable(profile, options);
  if (t.total === 0 && (options.focus || Object.keys(options.tags ?? {}).length)) {
    throw new ProfileError('ERR_USAGE', `top: no samples in ${where} match --focus/--tag`, 'loosen the filter');
  }
  return t;
}

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('top', argv, [...ANALYSIS_FLAGS, { name: 'alloc', type: 'boolean' }]);
  if (args.flags.help) return (console.log(usage), 0);
  if (args.positionals.length !== 1)
    throw new ProfileError('ERR_USAGE', 'top: needs exactly one profile or directory', 'perfprofile top cpu.pb.gz');
  const options = analysisOptions('top', args);
  const target = readTarget(args.positionals[0]);
  if (target.kind === 'profile') {
    if (args.flags.alloc)
      throw new ProfileError(
        'ERR_USAGE',
        'top: --alloc picks the allocation profiles of an output directory',
        'pass the .alloc.pb.gz file itself, or the directory',
      );
    const n = intFlag('top', args, 'nodes', 20);
    const t = tableOf(target.profile, options, target.path);
    console.log(args.flags.json ? JSON.stringify(asJson(t, n), null, 2) : renderTable(t, n).join('\n'));
    return 0;
  }
  const n = intFlag('top', args, 'nodes', 5);
  const run = target.run;
  const blocks = run.benchmarks.map((b) => ({
    b,
    t: functionTable(args.flags.alloc ? run.loadAlloc(b) : run.load(b), options),
  }));
  if (args.flags.json) {
    console.log(
      JSON.stringify(
        { benchmarks: blocks.map(({ b, t }) => ({ id: b.id, fullName: b.fullName, ...asJson(t, n) })) },
        null,
        2,
      ),
    );
    return 0;
  }
  const out: string[] = [];
  for (const { b, t } of blocks)
    out.push(
      `== ${b.fullName} (${args.flags.alloc ? b.allocProfile : b.profile})${b.status === 'failed' ? ' [failed]' : ''}${memoryText(b)}`,
      ...renderTable(t, n),
      '',
    );
  console.log(out.join('\n').trimEnd());
  return 0;
}
